"""操作日志: the super administrator's alone, filtered and paged, with before and after."""

import asyncpg
from aiohttp.test_utils import TestClient

from engine.admin import audit
from engine.admin.scope import Scope
from tests.admin_client import Browser
from tests.admin_world import World, build_world


async def logged_world(database_url: str) -> World:
    connection = await asyncpg.connect(database_url)
    try:
        world = await build_world(connection)
        admin = Scope(
            user_id=world.users["admin_a"], name="walk_admin_a", role="admin", org_id=world.a
        )
        boss = Scope(user_id=world.users["super"], name="walk_super", role="super", org_id=None)
        await audit.record(
            connection, admin, "learner.lock", kind="learner", object_id=7, org_id=world.a,
            before={"locked_at": None}, after={"locked_at": "2026-12-01T10:00:00Z"},
        )  # fmt: skip
        for index in range(25):
            await audit.record(
                connection, boss, "org.rename", kind="org", object_id=index, org_id=world.root,
                before={"name": f"旧名{index}"}, after={"name": f"新名{index}"},
            )  # fmt: skip
        return world
    finally:
        await connection.close()


async def test_only_the_super_administrator_reads_the_log(
    client: TestClient, database_url: str
) -> None:
    world = await logged_world(database_url)
    for role in ("admin_a", "teacher", "learner"):
        browser = await Browser.of(client, world.users[role])
        assert (await browser.get("/admin/audit")).status == 403
    boss = await Browser.of(client, world.users["super"])
    assert "操作日志" in await (await boss.get("/admin")).text()
    admin_a = await Browser.of(client, world.users["admin_a"])
    assert "操作日志" not in await (await admin_a.get("/admin")).text()


async def test_filters_pages_and_before_after(client: TestClient, database_url: str) -> None:
    world = await logged_world(database_url)
    boss = await Browser.of(client, world.users["super"])
    everything = await (await boss.get("/admin/audit")).text()
    assert "共 26 条" in everything
    assert "第 1 / 2 页" in everything
    locks = await (await boss.get("/admin/audit", actor="admin_a")).text()
    assert "共 1 条" in locks
    assert "2026-12-01T10:00:00Z" in locks
    by_kind = await (await boss.get("/admin/audit", action="org", object_id="3")).text()
    assert "共 1 条" in by_kind
    assert "旧名3" in by_kind
    assert "新名3" in by_kind
    assert "共 25 条" in await (await boss.get("/admin/audit", kind="org")).text()
    assert (
        "共 26 条"
        in await (await boss.get("/admin/audit", since="2020-01-01", until="2100-01-01")).text()
    )
    assert "共 0 条" in await (await boss.get("/admin/audit", until="2020-01-01")).text()
    bad = await boss.get("/admin/audit", since="yesterday")
    assert bad.status == 400


async def test_the_log_names_actions_kinds_and_roles_in_chinese(
    client: TestClient, database_url: str
) -> None:
    world = await logged_world(database_url)
    boss = await Browser.of(client, world.users["super"])
    locks = await (await boss.get("/admin/audit", actor="admin_a")).text()
    assert "锁定学员" in locks
    assert "学员 7" in locks
    assert '<span class="hint">管理员</span>' in locks
    assert '<span class="hint">learner.lock</span>' in locks  # the code the filter takes
    everything = await (await boss.get("/admin/audit")).text()
    assert '<option value="org">组织机构</option>' in everything
    assert "修改组织机构名称" in everything
