"""An administrator of a single organisation finds it chosen in the forms that ask for one;
one with a subtree chooses (nothing is chosen for it)."""

import re

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.admin_client import Browser
from tests.admin_world import build_world, insert_user


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
