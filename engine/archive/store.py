"""SQL of the archive: a learner's plans and courses as the stored facts say, offline records,
the plans of a year still open, and certificates."""

from datetime import datetime

import asyncpg

from engine.db import Connection, Executor

# Every plan the learner has activated, with what it asks and what the learner has earned.
PLANS = """
SELECT p.id, p.title, p.kind, p.year, p.category, e.state, p.compulsory_tenths,
       p.elective_tenths, e.earned_tenths, e.activated_at, e.passed_at
FROM enrolments e JOIN plans p ON p.id = e.plan_id
WHERE e.learner_id = $1 AND ($2::bigint IS NULL OR p.id = $2)
ORDER BY p.year DESC, p.kind DESC, p.id
"""

# The selected courses of those plans with their coverage (engine.progress.types.percent
# takes it), completion and the best result of their exam for the plan: a pass first.
COURSES = """
SELECT s.plan_id, c.id, c.title, pc.compulsory, pc.examined, c.hour_tenths, s.completed_at,
       (SELECT ROW(sum(ch.duration_s), sum(least(coalesce(cp.hwm_s, 0), ch.duration_s)),
                   bool_and(coalesce(cp.complete, false)))
        FROM chapters ch
        LEFT JOIN chapter_progress cp ON cp.chapter_id = ch.id AND cp.learner_id = s.learner_id
        WHERE ch.course_id = c.id) AS coverage,
       r.best_score, r.total_score, coalesce(r.passed, false) AS exam_passed
FROM selections s
JOIN plan_courses pc ON pc.plan_id = s.plan_id AND pc.course_id = s.course_id
JOIN courses c ON c.id = s.course_id
LEFT JOIN LATERAL (
    SELECT r.best_score, x.total_score, r.passed
    FROM exam_results r JOIN exams x ON x.id = r.exam_id
    WHERE r.learner_id = s.learner_id AND x.course_id = s.course_id
      AND (x.plan_id IS NULL OR x.plan_id = s.plan_id)
    ORDER BY r.passed DESC, r.best_score DESC LIMIT 1) r ON true
WHERE s.learner_id = $1 AND s.plan_id = ANY($2::bigint[])
ORDER BY pc.compulsory DESC, c.id
"""


async def plans(db: Executor, learner_id: int, plan_id: int | None = None) -> list[asyncpg.Record]:
    return await db.fetch(PLANS, learner_id, plan_id)


async def courses(db: Executor, learner_id: int, plan_ids: list[int]) -> list[asyncpg.Record]:
    return await db.fetch(COURSES, learner_id, plan_ids)


async def open_plans(
    db: Executor, learner_id: int, year: int, at: datetime
) -> list[asyncpg.Record]:
    """The year's plans open at `at` that the learner has not passed, public first."""
    return await db.fetch(
        """SELECT p.id, p.title, p.kind, coalesce(e.state, 'pending') AS state,
                  p.compulsory_tenths + p.elective_tenths AS required_tenths,
                  coalesce(e.earned_tenths, 0) AS earned_tenths
           FROM plans p
           LEFT JOIN enrolments e ON e.plan_id = p.id AND e.learner_id = $1
           WHERE p.year = $2 AND p.opens_at <= $3 AND $3 < p.closes_at
             AND coalesce(e.state, 'pending') <> 'passed'
           ORDER BY p.kind DESC, p.id""",
        learner_id,
        year,
        at,
    )


async def offline_records(db: Executor, learner_id: int) -> list[asyncpg.Record]:
    return await db.fetch(
        """SELECT id, year, kind, title, organiser, hour_tenths, completed_on
           FROM offline_records WHERE learner_id = $1
           ORDER BY year DESC, completed_on DESC, id DESC""",
        learner_id,
    )


CERTIFICATE_COLUMNS = """serial, learner_id, plan_id, facts, content_hash, issued_at,
                         revoked_at, revoke_reason"""


async def valid_certificate(db: Executor, learner_id: int, plan_id: int) -> asyncpg.Record | None:
    return await db.fetchrow(
        f"""SELECT {CERTIFICATE_COLUMNS} FROM certificates
            WHERE learner_id = $1 AND plan_id = $2 AND revoked_at IS NULL""",
        learner_id,
        plan_id,
    )


async def certificate(db: Executor, serial: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        f"SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE serial = $1", serial
    )


async def lock_enrolment(connection: Connection, learner_id: int, plan_id: int) -> str | None:
    """The enrolment's state, its row locked: one certificate is issued per pass at a time."""
    state: str | None = await connection.fetchval(
        "SELECT state FROM enrolments WHERE learner_id = $1 AND plan_id = $2 FOR UPDATE",
        learner_id,
        plan_id,
    )
    return state


async def insert_certificate(
    connection: Connection,
    *,
    serial: str,
    learner_id: int,
    plan_id: int,
    facts: str,
    content_hash: str,
    issued_at: datetime,
) -> bool:
    """Store a certificate; False when its (random) serial is already taken."""
    status = await connection.execute(
        """INSERT INTO certificates (serial, learner_id, plan_id, facts, content_hash, issued_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (serial) DO NOTHING""",
        serial,
        learner_id,
        plan_id,
        facts,
        content_hash,
        issued_at,
    )
    return status.endswith(" 1")


async def enrolment_state(db: Executor, learner_id: int, plan_id: int) -> str | None:
    state: str | None = await db.fetchval(
        "SELECT state FROM enrolments WHERE learner_id = $1 AND plan_id = $2", learner_id, plan_id
    )
    return state
