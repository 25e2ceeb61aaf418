"""The benchmark's population: N learners enrolled in one long course, each with a token;
for the exam benchmark, the same course examined, studied to 100%, with a question bank.

Everything is inserted in bulk (`unnest` arrays, one precomputed argon2 hash for all) and is
idempotent, so a run against an existing database reuses the learners of an earlier one.
"""

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from engine import db
from engine.accounts.logins import LoginSessions
from engine.accounts.passwords import HASHER
from engine.clock import system_clock
from engine.kv import Batcher, create_redis
from engine.scripts import SCRIPTS
from engine.settings import load_settings

PREFIX = "bench_"
CHAPTER_DURATION_S = 10 * 60 * 60.0  # long enough that no run completes it
TOKEN_CONCURRENCY = 50  # below redis-py's default pool size
# The exam's paper: 20 questions worth 100 points, drawn from a bank twice as large.
RECIPE = {"single": 10, "multiple": 5, "true_false": 5}
SCORES = {"single": 5, "multiple": 6, "true_false": 4}
CORRECT = {"single": ["B"], "multiple": ["A", "C"], "true_false": ["T"]}
BANK_FACTOR = 2
PASS_SCORE = 60


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
           VALUES ($1, 1, '压测章节', 'demo/clip1.mp4', $2)
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
    sessions = LoginSessions(redis, Batcher(redis, SCRIPTS), load_settings({}), system_clock)
    semaphore = asyncio.Semaphore(TOKEN_CONCURRENCY)

    async def create(learner_id: int) -> str:
        async with semaphore:
            return await sessions.create(learner_id)

    try:
        return list(await asyncio.gather(*(create(learner_id) for learner_id in learner_ids)))
    finally:
        await redis.aclose()


async def examine(database_url: str, learner_ids: list[int]) -> tuple[int, int]:
    """Make the population's course examined, with a bank, and studied to 100% by every
    learner; returns (plan id, course id)."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            plan_id, course_id = await connection.fetchrow(
                """UPDATE plan_courses pc SET examined = true FROM plans p
                   WHERE p.id = pc.plan_id AND p.code = 'bench-plan'
                   RETURNING pc.plan_id, pc.course_id"""
            )
            await _fill_bank(connection, course_id)
            await connection.execute(
                """INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s, position_s,
                                                 complete)
                   SELECT l.id, ch.id, ch.duration_s, ch.duration_s, true
                   FROM unnest($1::bigint[]) AS l (id) CROSS JOIN chapters ch
                   WHERE ch.course_id = $2
                   ON CONFLICT (learner_id, chapter_id) DO UPDATE
                   SET hwm_s = excluded.hwm_s, complete = true""",
                learner_ids,
                course_id,
            )
            await connection.execute(
                """UPDATE selections SET completed_at = coalesce(completed_at, now())
                   WHERE learner_id = ANY($1::bigint[]) AND course_id = $2""",
                learner_ids,
                course_id,
            )
    finally:
        await connection.close()
    return plan_id, course_id


async def _fill_bank(connection: asyncpg.Connection, course_id: int) -> None:
    """Questions of each kind up to the bank's size (a rerun adds none)."""
    rows = await connection.fetch(
        "SELECT kind, count(*) FROM questions WHERE course_id = $1 GROUP BY kind", course_id
    )
    have: dict[str, int] = {row[0]: row[1] for row in rows}
    for kind, drawn in RECIPE.items():
        keys = ["T", "F"] if kind == "true_false" else list("ABCDE")
        options = json.dumps([{"key": key, "text": f"选项{key}"} for key in keys])
        await connection.execute(
            """INSERT INTO questions (course_id, kind, stem, options, answer, score)
               SELECT $1, $2, '压测题目' || n, $3::jsonb, $4::text[], $5
               FROM generate_series(1, $6) AS n""",
            course_id,
            kind,
            options,
            CORRECT[kind],
            SCORES[kind],
            max(0, BANK_FACTOR * drawn - have.get(kind, 0)),
        )


async def create_exam(database_url: str, plan_id: int, course_id: int, closes_ms: int) -> int:
    """A new exam of the course, open since a day and closing at `closes_ms`: every attempt
    started before then shares that deadline (the duration is longer)."""
    closes_at = datetime.fromtimestamp(closes_ms / 1000, UTC)
    connection = await asyncpg.connect(database_url)
    try:
        exam_id: int = await connection.fetchval(
            """INSERT INTO exams (course_id, plan_id, title, opens_at, closes_at, duration_s,
                                  total_score, pass_score, recipe)
               VALUES ($1, $2, '压测考试', $3::timestamptz - interval '1 day', $3, 7200, $4, $5, $6::jsonb)
               RETURNING id""",
            course_id,
            plan_id,
            closes_at,
            sum(SCORES[kind] * drawn for kind, drawn in RECIPE.items()),
            PASS_SCORE,
            json.dumps(RECIPE),
        )
    finally:
        await connection.close()
    return exam_id
