"""组织机构: an administrator sees and changes its subtree only, each change audited."""

import asyncpg
import msgspec
from aiohttp.test_utils import TestClient

from tests.admin_client import Browser
from tests.admin_world import World, build_world


async def world_of(database_url: str) -> World:
    connection = await asyncpg.connect(database_url)
    try:
        return await build_world(connection)
    finally:
        await connection.close()


async def test_the_tree_is_the_subtree_of_the_scope(client: TestClient, database_url: str) -> None:
    world = await world_of(database_url)
    admin_a = await Browser.of(client, world.users["admin_a"])
    page = await (await admin_a.get("/admin/orgs")).text()
    assert "组织A" in page
    assert "组织A1" in page
    assert "组织B" not in page
    assert "根组织" not in page
    boss = await Browser.of(client, world.users["super"])
    page = await (await boss.get("/admin/orgs")).text()
    assert page.index("根组织") < page.index("组织A") < page.index("组织A1") < page.index("组织B")


async def test_create_and_rename_within_the_scope_audited(
    client: TestClient, database_url: str
) -> None:
    world = await world_of(database_url)
    admin_a = await Browser.of(client, world.users["admin_a"])
    created = await admin_a.post(f"/admin/orgs/{world.a1}/children", name="第一分部")
    assert created.status == 302
    new_id = int(created.headers["Location"].rsplit("/", 1)[1])
    twice = await admin_a.post(f"/admin/orgs/{world.a1}/children", name="第一分部")
    assert twice.status == 409
    assert "同一上级下已有同名机构" in await twice.text()
    renamed = await admin_a.post(f"/admin/orgs/{new_id}/rename", name="第二分部")
    assert renamed.status == 302
    blank = await admin_a.post(f"/admin/orgs/{new_id}/rename", name="  ")
    assert blank.status == 400

    assert (await admin_a.post(f"/admin/orgs/{world.b}/rename", name="被改")).status == 404
    assert (await admin_a.post(f"/admin/orgs/{world.b}/children", name="x")).status == 404
    assert (await admin_a.get(f"/admin/orgs/{world.b}")).status == 404

    connection = await asyncpg.connect(database_url)
    try:
        names = await connection.fetch(
            "SELECT name FROM orgs WHERE id = ANY($1)", [new_id, world.b]
        )
        rows = await connection.fetch(
            "SELECT action, object_id, before, after FROM audit_log ORDER BY id"
        )
    finally:
        await connection.close()
    assert sorted(row["name"] for row in names) == ["第二分部", "组织B"]
    assert [(row["action"], row["object_id"]) for row in rows] == [
        ("org.create", str(new_id)),
        ("org.rename", str(new_id)),
    ]
    rename = rows[1]
    assert msgspec.json.decode(rename["before"])["name"] == "第一分部"
    assert msgspec.json.decode(rename["after"])["name"] == "第二分部"
    assert msgspec.json.decode(rows[0]["after"])["parent_id"] == world.a1


async def test_a_teacher_or_learner_cannot_manage_organisations(
    client: TestClient, database_url: str
) -> None:
    world = await world_of(database_url)
    for role in ("teacher", "learner"):
        browser = await Browser.of(client, world.users[role])
        assert (await browser.get("/admin/orgs")).status == 403
        refused = await browser.post(f"/admin/orgs/{world.a}/rename", name="x")
        assert refused.status == 403
        assert "没有" in await refused.text()
