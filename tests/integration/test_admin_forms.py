"""An administrator of a single organisation finds it chosen in the forms that ask for one;
one with a subtree chooses (nothing is chosen for it)."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.catalog import chapter_admin
from engine.errors import InvalidInput
from tests.admin_client import Browser
from tests.admin_world import Objects, build_world, insert_user, load_factories
from tests.integration.catalog_world import built_world, refused

CLIP = (Path(__file__).resolve().parents[2] / "media" / "demo" / "clip2.mp4").read_bytes()
CLIP_MAX = 10 * 1024 * 1024


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


@pytest.mark.parametrize("title", ["第一节\x00", "第一节\n导学", "\x1b[1m第一节"])
async def test_a_chapter_uploaded_with_a_control_character_in_its_title_is_refused(
    database_url: str, tmp_path: Path, title: str
) -> None:
    async def video() -> AsyncIterator[bytes]:
        yield CLIP

    async with built_world(database_url) as world:
        await refused(
            world,
            InvalidInput,
            lambda: chapter_admin.add_chapter(
                world.pool,
                world.scopes["admin_a"],
                world.courses["A"],
                title,
                video(),
                data_dir=tmp_path,
                max_bytes=CLIP_MAX,
            ),
        )
