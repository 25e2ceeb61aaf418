"""Organisations A and B with a user of each role and objects of each, for the tests of the
catalogue's administration."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from engine import db
from engine.admin.scope import Scope, scope_of
from engine.catalog.admin_types import PlanInput

# What a refusal must leave as it was.
TABLES = ("plans", "plan_courses", "courses", "teachers", "chapters", "chapter_key_points")


class World:
    """Organisations root → A → A1 and root → B; a user of each role; a plan, a course and a
    teacher owned by A and by B, and the platform's own (org_id NULL)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.orgs: dict[str, int] = {}
        self.scopes: dict[str, Scope] = {}
        self.users: dict[str, int] = {}
        self.plans: dict[str, int] = {}
        self.courses: dict[str, int] = {}
        self.teachers: dict[str, int] = {}

    async def build(self) -> None:
        async with self.pool.acquire() as connection:
            for code, parent in (("root", None), ("A", "root"), ("A1", "A"), ("B", "root")):
                self.orgs[code] = await connection.fetchval(
                    "INSERT INTO orgs (code, name, parent_id) VALUES ($1, $1, $2) RETURNING id",
                    code,
                    self.orgs.get(parent or ""),
                )
            for name, role, org in (
                ("super", "super", "root"),
                ("admin_a", "admin", "A"),
                ("admin_b", "admin", "B"),
                ("teacher_a", "teacher", "A"),
                ("learner_a", "learner", "A"),
            ):
                self.users[name] = await connection.fetchval(
                    """INSERT INTO users (username, password_hash, role, org_id, real_name,
                                          phone, id_type, id_number)
                       VALUES ($1, 'x', $2, $3, $1, '13800000000', 'passport', $1)
                       RETURNING id""",
                    name,
                    role,
                    self.orgs[org],
                )
                if role != "learner":
                    self.scopes[name] = scope_of(self.users[name], name, role, self.orgs[org])
            for owner in ("A", "B", "platform"):
                org_id = self.orgs.get(owner)
                self.teachers[owner] = await connection.fetchval(
                    "INSERT INTO teachers (name, org_id) VALUES ($1, $2) RETURNING id",
                    f"教师{owner}",
                    org_id,
                )
                self.courses[owner] = await connection.fetchval(
                    """INSERT INTO courses (code, title, hour_tenths, org_id, teacher_id)
                       VALUES ($1, $2, 20, $3, $4) RETURNING id""",
                    f"course-{owner}",
                    f"课程{owner}",
                    org_id,
                    self.teachers[owner],
                )
                self.plans[owner] = await connection.fetchval(
                    """INSERT INTO plans (code, title, kind, year, elective_tenths, opens_at,
                                          closes_at, org_id)
                       VALUES ($1, $2, 'public', 2026, 20, '2026-01-01', '2027-01-01', $3)
                       RETURNING id""",
                    f"plan-{owner}",
                    f"计划{owner}",
                    org_id,
                )
                await connection.execute(
                    "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2)",
                    self.plans[owner],
                    self.courses[owner],
                )

    def plan_input(self, owner: str | None, **changes: Any) -> PlanInput:
        fields: dict[str, Any] = {
            "title": "2026年公需科目",
            "kind": "public",
            "year": 2026,
            "compulsory_tenths": 100,
            "elective_tenths": 140,
            "price_per_hour_fen": 500,
            "opens_at": datetime(2026, 1, 1, tzinfo=UTC),
            "closes_at": datetime(2026, 12, 31, tzinfo=UTC),
            "org_id": self.orgs[owner] if owner else None,
        }
        return PlanInput(**{**fields, **changes})

    async def snapshot(self) -> dict[str, Any]:
        async with self.pool.acquire() as connection:
            state: dict[str, Any] = {
                table: sorted(
                    map(tuple, await connection.fetch(f"SELECT * FROM {table}")),
                    key=repr,
                )
                for table in TABLES
            }
            state["audit"] = await connection.fetchval("SELECT count(*) FROM audit_log")
        return state


@contextlib.asynccontextmanager
async def built_world(database_url: str) -> AsyncIterator[World]:
    pool = await db.create_pool(database_url, min_size=1, max_size=4)
    try:
        built = World(pool)
        await built.build()
        yield built
    finally:
        await pool.close()


async def refused(world: World, error: type[Exception], call: Callable[[], Awaitable[Any]]) -> None:
    """The call is refused with `error` and nothing changes."""
    before = await world.snapshot()
    with pytest.raises(error):
        await call()
    assert await world.snapshot() == before


async def audit_rows(world: World, action: str) -> list[asyncpg.Record]:
    return await world.pool.fetch(
        "SELECT actor_name, org_id, object_id, before, after FROM audit_log WHERE action = $1",
        action,
    )
