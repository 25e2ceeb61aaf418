"""An administrator of a single organisation finds it chosen in the forms that ask for one;
one with a subtree chooses (nothing is chosen for it)."""

import re

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.admin_client import Browser
from tests.admin_world import Objects, build_world, insert_user, load_factories


def chosen(html: str, select: str) -> list[str]:
    found = re.search(rf'<select id="{select}".*?</select>', html, re.S)
    assert found is not None
    return re.findall(r'<option value="(\d*)" selected>', found[0])


@pytest.mark.parametrize(
    "path",
    ["/admin/courses/new", "/admin/plans/new", "/admin/teachers/new", "/admin/messages/survey"],
)
async def test_the_only_organisation_is_chosen(
    client: TestClient, database_url: str, path: str
) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        world = await build_world(connection)
        single = await insert_user(connection, world.b, role="admin")  # B has no children
    finally:
        await connection.close()
    alone = await (await (await Browser.of(client, single)).get(path)).text()
    assert chosen(alone, "org_id") == [str(world.b)]
    subtree = await (await (await Browser.of(client, world.users["admin_a"])).get(path)).text()
    assert chosen(subtree, "org_id") == []


async def test_a_nul_in_any_form_field_is_refused_with_nothing_stored(
    client: TestClient, database_url: str
) -> None:
    load_factories()
    connection = await asyncpg.connect(database_url)
    try:
        world = await build_world(connection)
        chapter_id = await Objects(connection, world, world.a).get("chapter_id")
        before = await connection.fetchval("SELECT count(*) FROM audit_log")
    finally:
        await connection.close()
    admin = await Browser.of(client, world.users["admin_a"])
    renamed = await admin.post(f"/admin/chapters/{chapter_id}", title="第一节\x00")
    assert renamed.status == 400
    assert "填写的内容含有不能保存的控制字符" in await renamed.text()
    notice = await admin.post(
        "/admin/messages/notice", to="walk_learner", title="通知", body="x\x00"
    )
    assert notice.status == 400
    connection = await asyncpg.connect(database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM audit_log") == before
        assert "\x00" not in await connection.fetchval(
            "SELECT title FROM chapters WHERE id = $1", chapter_id
        )
    finally:
        await connection.close()
