"""The benchmark's population: N learners enrolled in one long course, each with a token.

Everything is inserted in bulk (`unnest` arrays, one precomputed argon2 hash for all) and is
idempotent, so a run against an existing database reuses the learners of an earlier one.
"""

import asyncio
from dataclasses import dataclass

import asyncpg

from engine import db
from engine.accounts.logins import LoginSessions
from engine.accounts.passwords import HASHER
from engine.kv import create_redis
from engine.settings import load_settings

PREFIX = "bench_"
CHAPTER_DURATION_S = 10 * 60 * 60.0  # long enough that no run completes it
TOKEN_CONCURRENCY = 50  # below redis-py's default pool size


@dataclass
class Population:
    chapter_id: int
    learners: list[tuple[int, str]]  # (learner id, bearer token)


async def populate(database_url: str, redis_url: str, size: int) -> Population:
    """Migrate, create `size` learners enrolled in one course, and log each one in."""
    connection = await asyncpg.connect(database_url)
    try:
        await db.migrate(connection)
        async with connection.transaction():
            chapter_id = await _create_course(connection)
            learner_ids = await _create_learners(connection, size)
            await _enrol(connection, learner_ids)
    finally:
        await connection.close()
    tokens = await _log_in(redis_url, learner_ids)
    return Population(chapter_id, list(zip(learner_ids, tokens, strict=True)))


async def _create_course(connection: asyncpg.Connection) -> int:
    plan_id = await connection.fetchval(
        """INSERT INTO plans (code, title, kind, year, elective_tenths, opens_at, closes_at)
           VALUES ('bench-plan', '压测计划', 'public', 2018, 10, '2000-01-01', '2100-01-01')
           ON CONFLICT (code) DO UPDATE SET title = excluded.title RETURNING id"""
    )
    course_id = await connection.fetchval(
        """INSERT INTO courses (code, title, hour_tenths) VALUES ('bench-course', '压测课程', 100)
           ON CONFLICT (code) DO UPDATE SET title = excluded.title RETURNING id"""
    )
    await connection.execute(
        "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        plan_id,
        course_id,
    )
    return await connection.fetchval(
        """INSERT INTO chapters (course_id, position, title, media, duration_s)
           VALUES ($1, 1, '压测章节', '/static/media/demo/clip1.mp4', $2)
           ON CONFLICT (course_id, position) DO UPDATE SET duration_s = excluded.duration_s
           RETURNING id""",
        course_id,
        CHAPTER_DURATION_S,
    )


async def _create_learners(connection: asyncpg.Connection, size: int) -> list[int]:
    org_id = await connection.fetchval(
        """INSERT INTO orgs (code, name) VALUES ('bench', '压测单位')
           ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING id"""
    )
    password_hash = await asyncio.to_thread(HASHER.hash, "Bench2018go")
    usernames = [f"{PREFIX}{number:07d}" for number in range(size)]
    documents = [f"B{number:08d}" for number in range(size)]
    await connection.execute(
        """INSERT INTO users (username, password_hash, org_id, real_name, phone, id_type,
                              id_number)
           SELECT u.username, $3, $4, '压测学员', '13800000000', 'passport', u.document
           FROM unnest($1::text[], $2::text[]) AS u (username, document)
           ON CONFLICT DO NOTHING""",
        usernames,
        documents,
        password_hash,
        org_id,
    )
    rows = await connection.fetch(
        """SELECT u.id FROM unnest($1::text[]) WITH ORDINALITY AS n (username, i)
           JOIN users u ON lower(u.username) = n.username ORDER BY n.i""",
        usernames,
    )
    return [row[0] for row in rows]


async def _enrol(connection: asyncpg.Connection, learner_ids: list[int]) -> None:
    plan_id, course_id = await connection.fetchrow(
        """SELECT pc.plan_id, pc.course_id FROM plan_courses pc
           JOIN plans p ON p.id = pc.plan_id WHERE p.code = 'bench-plan'"""
    )
    await connection.execute(
        """INSERT INTO enrolments (learner_id, plan_id) SELECT unnest($1::bigint[]), $2
           ON CONFLICT DO NOTHING""",
        learner_ids,
        plan_id,
    )
    await connection.execute(
        """INSERT INTO selections (learner_id, plan_id, course_id, source)
           SELECT unnest($1::bigint[]), $2, $3, 'purchase' ON CONFLICT DO NOTHING""",
        learner_ids,
        plan_id,
        course_id,
    )


async def _log_in(redis_url: str, learner_ids: list[int]) -> list[str]:
    """One login session per learner, many in flight at once."""
    redis = create_redis(redis_url)
    sessions = LoginSessions(redis, load_settings({}))
    semaphore = asyncio.Semaphore(TOKEN_CONCURRENCY)

    async def create(learner_id: int) -> str:
        async with semaphore:
            return await sessions.create(learner_id)

    try:
        return list(await asyncio.gather(*(create(learner_id) for learner_id in learner_ids)))
    finally:
        await redis.aclose()
