"""The administration's foundation in PostgreSQL: organisation subtrees, a course's
administrators, and an audit log nothing can rewrite."""

import asyncpg
import pytest

from engine.accounts import store as accounts
from engine.admin import audit
from engine.admin.scope import Scope


async def org(connection: asyncpg.Connection, code: str, parent: int | None) -> int:
    org_id: int = await connection.fetchval(
        "INSERT INTO orgs (code, name, parent_id) VALUES ($1, $1, $2) RETURNING id", code, parent
    )
    return org_id


async def user(connection: asyncpg.Connection, name: str, role: str, org_id: int) -> int:
    user_id: int = await connection.fetchval(
        """INSERT INTO users (username, password_hash, role, org_id, real_name, phone, id_type,
                              id_number)
           VALUES ($1, 'x', $2, $3, $1, '13800000000', 'passport', $1) RETURNING id""",
        name,
        role,
        org_id,
    )
    return user_id


async def test_subtrees_ancestry_and_who_administers_a_course(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        root = await org(connection, "root", None)
        a = await org(connection, "a", root)
        a1 = await org(connection, "a1", a)
        b = await org(connection, "b", root)
        subtree = await connection.fetch("SELECT org_subtree($1) AS id", a)
        assert sorted(row["id"] for row in subtree) == sorted([a, a1])
        ancestry = await connection.fetch("SELECT org_ancestry($1) AS id", a1)
        assert [row["id"] for row in ancestry] == [a1, a, root]

        course_in_a1 = await connection.fetchval(
            "INSERT INTO courses (code, title, hour_tenths, org_id) VALUES ('c', 'c', 10, $1)"
            " RETURNING id",
            a1,
        )
        admin_a = await user(connection, "admin_a", "admin", a)
        admin_b = await user(connection, "admin_b", "admin", b)
        boss = await user(connection, "boss", "super", root)
        standing = [
            (await accounts.course_standing(connection, who, course_in_a1))[1]
            for who in (admin_a, admin_b, boss)
        ]
        assert standing == ["admin", "learner", "admin"]
    finally:
        await connection.close()


async def test_the_audit_log_is_append_only(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        root = await org(connection, "root", None)
        boss = await user(connection, "boss", "super", root)
        scope = Scope(user_id=boss, name="boss", role="super", org_id=None)
        await audit.record(
            connection,
            scope,
            "plan.create",
            kind="plan",
            object_id=7,
            org_id=root,
            after={"title": "2026年公需科目"},
        )
        row = await connection.fetchrow("SELECT actor_name, action, after FROM audit_log")
        assert (row["actor_name"], row["action"]) == ("boss", "plan.create")
        # The test database's role is a superuser: the triggers bind it all the same.
        for statement in (
            "UPDATE audit_log SET actor_name = 'someone else'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
        assert await connection.fetchval("SELECT actor_name FROM audit_log") == "boss"
    finally:
        await connection.close()
