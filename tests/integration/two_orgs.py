"""Two organisations' worth of objects for the administration's scope tests: a root with
organisations A (and A's child A1) and B; a super administrator, an administrator of each,
a teacher granted a course of A, and learners of A1 and B; a course of each, whose 问答
and 讨论 rooms have a question and a reported message."""

from datetime import UTC, datetime
from typing import Any

import asyncpg

from engine import db
from engine.admin.scope import Scope

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class World:
    def __init__(self, pool: asyncpg.Pool, ids: dict[str, int]) -> None:
        self.pool = pool
        self.ids = ids

    def __getitem__(self, name: str) -> int:
        return self.ids[name]

    def scope(self, who: str) -> Scope:
        """super, admin_a, admin_b, teacher (granted A's course) or learner: a learner has
        no scope (`scope_of` refuses one); built anyway, to show `require` refuses it too."""
        role = {"super": "super", "admin_a": "admin", "admin_b": "admin"}.get(who, who)
        org = {"super": None, "admin_b": self["b"]}.get(who, self["a"])
        return Scope(user_id=self[who], name=who, role=role, org_id=org)  # type: ignore[arg-type]

    async def audit_count(self) -> int:
        count: int = await self.pool.fetchval("SELECT count(*) FROM audit_log")
        return count

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.pool.fetch(sql, *args)


async def org(connection: Any, code: str, parent: int | None) -> int:
    org_id: int = await connection.fetchval(
        "INSERT INTO orgs (code, name, parent_id) VALUES ($1, $2, $3) RETURNING id",
        code,
        f"组织{code}",
        parent,
    )
    return org_id


async def user(connection: Any, name: str, role: str, org_id: int) -> int:
    user_id: int = await connection.fetchval(
        """INSERT INTO users (username, password_hash, role, org_id, real_name, phone, id_type,
                              id_number)
           VALUES ($1, 'x', $2, $3, $4, '13800000000', 'passport', $1) RETURNING id""",
        name,
        role,
        org_id,
        f"{name}姓名",
    )
    return user_id


async def add_super(database_url: str) -> int:
    """The base data's super administrator, whom the `jixu` commands act as."""
    connection = await asyncpg.connect(database_url)
    try:
        root = await connection.fetchval("SELECT id FROM orgs ORDER BY id LIMIT 1") or await org(
            connection, "root", None
        )
        return await user(connection, "admin", "super", root)
    finally:
        await connection.close()


async def course(connection: Any, code: str, org_id: int) -> int:
    course_id: int = await connection.fetchval(
        "INSERT INTO courses (code, title, hour_tenths, org_id) VALUES ($1, $2, 10, $3)"
        " RETURNING id",
        code,
        f"课程{code}",
        org_id,
    )
    return course_id


async def room_message(
    connection: Any, room: str, course_id: int, author: int, role: str, text: str
) -> int:
    seq = await connection.fetchval(
        """INSERT INTO rooms AS r (name, course_id, last_seq) VALUES ($1, $2, 1)
           ON CONFLICT (name) DO UPDATE SET last_seq = r.last_seq + 1 RETURNING last_seq""",
        room,
        course_id,
    )
    message_id: int = await connection.fetchval(
        """INSERT INTO room_messages (room, seq, author_id, author_name, author_role, text,
                                      created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        room,
        seq,
        author,
        f"作者{author}",
        role,
        text,
        NOW,
    )
    return message_id


async def build_world(database_url: str) -> World:
    ids: dict[str, int] = {}
    connection = await asyncpg.connect(database_url)
    try:
        ids["root"] = await org(connection, "root", None)
        ids["a"] = await org(connection, "a", ids["root"])
        ids["a1"] = await org(connection, "a1", ids["a"])
        ids["b"] = await org(connection, "b", ids["root"])
        ids["super"] = await user(connection, "boss", "super", ids["root"])
        ids["admin_a"] = await user(connection, "admin_a", "admin", ids["a"])
        ids["admin_b"] = await user(connection, "admin_b", "admin", ids["b"])
        ids["teacher"] = await user(connection, "teacher", "teacher", ids["a"])
        ids["learner"] = await user(connection, "learner_a", "learner", ids["a1"])
        ids["learner_b"] = await user(connection, "learner_b", "learner", ids["b"])
        ids["course_a"] = await course(connection, "ca", ids["a1"])
        ids["course_b"] = await course(connection, "cb", ids["b"])
        await connection.execute(
            "INSERT INTO course_teachers (course_id, user_id) VALUES ($1, $2)",
            ids["course_a"],
            ids["teacher"],
        )
        for side, learner in (("a", ids["learner"]), ("b", ids["learner_b"])):
            course_id = ids[f"course_{side}"]
            ids[f"question_{side}"] = await room_message(
                connection, f"qa:{course_id}", course_id, learner, "learner", f"{side}的问题"
            )
            ids[f"chat_{side}"] = await room_message(
                connection, f"course:{course_id}", course_id, learner, "learner", f"{side}的广告"
            )
            await connection.execute(
                """INSERT INTO room_reports (message_id, reporter_id, reason, created_at)
                   VALUES ($1, $2, '广告', $3)""",
                ids[f"chat_{side}"],
                ids["learner"] if side == "b" else ids["learner_b"],
                NOW,
            )
    finally:
        await connection.close()
    pool = await db.create_pool(database_url, min_size=1, max_size=4)
    return World(pool, ids)
