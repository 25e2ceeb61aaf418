"""教师账号: created in an organisation of the scope with a temporary password, granted
and revoked courses of the scope only, each change audited; `jixu teachers grant` still
works."""

import re

import asyncpg
from aiohttp.test_utils import TestClient

from engine import db
from engine.accounts import service as accounts
from tests.admin_client import Browser
from tests.admin_world import World, build_world
from tests.conftest import origin_of

NEW_TEACHER = {
    "username": "zhang_teacher",
    "real_name": "张老师",
    "phone": "13900001111",
    "id_type": "passport",
    "id_number": "E12345678",
}


async def setup(database_url: str) -> tuple[World, int, int]:
    """The world, and a course of A1 and one of B."""
    connection = await asyncpg.connect(database_url)
    try:
        world = await build_world(connection)
        courses = [
            await connection.fetchval(
                "INSERT INTO courses (code, title, hour_tenths, org_id) VALUES ($1, $1, 10, $2)"
                " RETURNING id",
                code,
                org_id,
            )
            for code, org_id in (("course-a1", world.a1), ("course-b", world.b))
        ]
        return world, courses[0], courses[1]
    finally:
        await connection.close()


async def test_create_a_teacher_who_must_change_the_password(
    client: TestClient, database_url: str
) -> None:
    world, _, _ = await setup(database_url)
    admin_a = await Browser.of(client, world.users["admin_a"])
    outside = await admin_a.post("/admin/teacher-accounts", **NEW_TEACHER, org_id=str(world.b))
    assert outside.status == 404
    missing = await admin_a.post("/admin/teacher-accounts", **{**NEW_TEACHER, "phone": ""})
    assert missing.status == 400
    assert "请输入手机号" in await missing.text()

    created = await admin_a.post("/admin/teacher-accounts", **NEW_TEACHER, org_id=str(world.a1))
    assert created.status == 200
    found = re.search(r'id="temporary-password">([^<]+)<', await created.text())
    assert found is not None
    again = await admin_a.post("/admin/teacher-accounts", **NEW_TEACHER, org_id=str(world.a1))
    assert again.status == 409

    login = await client.post(
        "/api/v1/auth/login",
        json={"username": "zhang_teacher", "password": found[1]},
        headers=origin_of(client),
    )
    body = await login.json()
    client.session.cookie_jar.clear()
    assert body["user"]["role"] == "teacher"
    assert body["user"]["must_change_password"] is True
    listed = await (await admin_a.get("/admin/teacher-accounts", q="张")).text()
    assert "zhang_teacher" in listed
    admin_b = await Browser.of(client, world.users["admin_b"])
    assert "zhang_teacher" not in await (await admin_b.get("/admin/teacher-accounts")).text()


async def test_grant_and_revoke_courses_of_the_scope(client: TestClient, database_url: str) -> None:
    world, course_a1, course_b = await setup(database_url)
    teacher = world.users["teacher"]
    admin_a = await Browser.of(client, world.users["admin_a"])
    page = await (await admin_a.get(f"/admin/teacher-accounts/{teacher}")).text()
    assert "course-a1" in page
    assert "course-b" not in page

    granted = await admin_a.post(
        f"/admin/teacher-accounts/{teacher}/courses", course_id=str(course_a1)
    )
    assert granted.status == 302
    twice = await admin_a.post(
        f"/admin/teacher-accounts/{teacher}/courses", course_id=str(course_a1)
    )
    assert twice.status == 409
    foreign = await admin_a.post(
        f"/admin/teacher-accounts/{teacher}/courses", course_id=str(course_b)
    )
    assert foreign.status == 404
    admin_b = await Browser.of(client, world.users["admin_b"])
    assert (await admin_b.get(f"/admin/teacher-accounts/{teacher}")).status == 404

    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        assert (await accounts.course_standing(pool, teacher, course_a1)).role == "teacher"
        revoked = await admin_a.post(
            f"/admin/teacher-accounts/{teacher}/courses/{course_a1}/revoke"
        )
        assert revoked.status == 302
        assert (await accounts.course_standing(pool, teacher, course_a1)).role == "learner"
        # The command line's grant keeps working, for any user and course.
        assert await accounts.grant_teacher(pool, "walk_teacher", course_b) == teacher
        assert (await accounts.course_standing(pool, teacher, course_b)).role == "teacher"
        actions = await pool.fetch(
            "SELECT action, before->>'granted' AS was, after->>'granted' AS now"
            " FROM audit_log ORDER BY id"
        )
    finally:
        await pool.close()
    assert [tuple(row) for row in actions] == [
        ("teacher.grant", "false", "true"),
        ("teacher.revoke", "true", "false"),
    ]


async def test_the_super_administrator_appoints_administrators(
    client: TestClient, database_url: str
) -> None:
    world, _, _ = await setup(database_url)
    admin_a = await Browser.of(client, world.users["admin_a"])
    form = {**NEW_TEACHER, "username": "li_admin", "org_id": str(world.a1)}
    assert (await admin_a.post("/admin/admin-accounts", **form)).status == 403
    boss = await Browser.of(client, world.users["super"])
    created = await boss.post("/admin/admin-accounts", **form)
    assert created.status == 200
    found = re.search(r'id="temporary-password">([^<]+)<', await created.text())
    assert found is not None
    assert "li_admin" in await (await boss.get("/admin/admin-accounts")).text()
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": "li_admin", "password": found[1]},
        headers=origin_of(client),
    )
    body = await login.json()
    client.session.cookie_jar.clear()
    assert body["user"]["role"] == "admin"
    assert body["user"]["org_id"] == world.a1
    connection = await asyncpg.connect(database_url)
    try:
        action = await connection.fetchval("SELECT action FROM audit_log")
    finally:
        await connection.close()
    assert action == "administrator.create"


async def test_a_teachers_password_reset_and_lock(client: TestClient, database_url: str) -> None:
    world, _, _ = await setup(database_url)
    teacher = world.users["teacher"]
    admin_a = await Browser.of(client, world.users["admin_a"])
    reset = await admin_a.post(f"/admin/teacher-accounts/{teacher}/password")
    assert reset.status == 200
    assert 'id="temporary-password"' in await reset.text()
    assert (await admin_a.post(f"/admin/teacher-accounts/{teacher}/lock")).status == 302
    page = await (await admin_a.get(f"/admin/teacher-accounts/{teacher}")).text()
    assert "已锁定" in page
    # A teacher is not a learner: the learners' pages do not find it.
    assert (await admin_a.post(f"/admin/learners/{teacher}/unlock")).status == 404
    assert (await admin_a.post(f"/admin/teacher-accounts/{teacher}/unlock")).status == 302
    admin_b = await Browser.of(client, world.users["admin_b"])
    assert (await admin_b.post(f"/admin/teacher-accounts/{teacher}/lock")).status == 404
    connection = await asyncpg.connect(database_url)
    try:
        actions = await connection.fetch("SELECT action FROM audit_log ORDER BY id")
    finally:
        await connection.close()
    assert [row["action"] for row in actions] == [
        "teacher.reset_password",
        "teacher.lock",
        "teacher.unlock",
    ]
