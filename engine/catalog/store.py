"""SQL of the catalogue: plans as a learner sees them, activation, courses, and bulk writes.

The bulk writes fill each table in one statement over `unnest` of column arrays: one round
trip per table like COPY, but unlike COPY it can say ON CONFLICT DO NOTHING and resolve codes
to ids in the same statement; every insert skips what exists, so reruns change nothing.
"""

from collections.abc import Sequence

import asyncpg
import msgspec

from engine.catalog.types import ChapterRow, CourseRow, PlanCourseRow, PlanRow, TeacherRow
from engine.db import Connection, Executor, row_count

PLAN_SUMMARY = """
SELECT p.id, p.title, p.kind, p.year, p.category,
       CASE WHEN e.learner_id IS NULL THEN 'pending' ELSE e.state END AS state,
       p.compulsory_tenths, p.elective_tenths,
       coalesce((SELECT sum(c.hour_tenths) FROM selections s JOIN courses c ON c.id = s.course_id
                 WHERE s.learner_id = $1 AND s.plan_id = p.id), 0) AS selected_tenths,
       coalesce(e.earned_tenths, 0) AS earned_tenths
FROM plans p LEFT JOIN enrolments e ON e.plan_id = p.id AND e.learner_id = $1
WHERE (e.learner_id IS NOT NULL OR plan_offered(p.org_id, $1))
"""

# What a course's percentage is computed from (engine.progress.types.percent): its length,
# the part the learner covered, and whether every chapter is complete (NULL: no chapter).
COURSE_COVERAGE = """
(SELECT ROW(sum(ch.duration_s), sum(least(coalesce(cp.hwm_s, 0), ch.duration_s)),
            bool_and(coalesce(cp.complete, false)))
 FROM chapters ch
 LEFT JOIN chapter_progress cp ON cp.chapter_id = ch.id AND cp.learner_id = $1
 WHERE ch.course_id = c.id)
"""


async def plan_summaries(db: Executor, learner_id: int) -> list[asyncpg.Record]:
    """Every plan the learner is offered or has activated, with the learner's state in it,
    newest year first, public before professional."""
    return await db.fetch(PLAN_SUMMARY + " ORDER BY p.year DESC, p.kind DESC, p.id", learner_id)


async def plan_summary(db: Executor, learner_id: int, plan_id: int) -> asyncpg.Record | None:
    """The plan, if the learner is offered it or has activated it."""
    return await db.fetchrow(PLAN_SUMMARY + " AND p.id = $2", learner_id, plan_id)


async def plan_available(db: Executor, learner_id: int, plan_id: int) -> bool:
    """Whether the learner is offered the plan or has activated it already."""
    return bool(
        await db.fetchval(
            """SELECT true FROM plans p
               WHERE p.id = $2
                 AND (plan_offered(p.org_id, $1)
                      OR EXISTS (SELECT 1 FROM enrolments e
                                 WHERE e.plan_id = p.id AND e.learner_id = $1))""",
            learner_id,
            plan_id,
        )
    )


async def any_plan(db: Executor) -> bool:
    return bool(await db.fetchval("SELECT EXISTS (SELECT 1 FROM plans)"))


async def enrol(connection: Connection, learner_id: int, plan_id: int) -> None:
    """The plan becomes the learner's and its compulsory courses are selected, once."""
    await connection.execute(
        "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        learner_id,
        plan_id,
    )
    await connection.execute(
        """INSERT INTO selections (learner_id, plan_id, course_id, source)
           SELECT $1, plan_id, course_id, 'compulsory' FROM plan_courses
           WHERE plan_id = $2 AND compulsory
           ON CONFLICT DO NOTHING""",
        learner_id,
        plan_id,
    )


async def plan_courses(
    db: Executor, learner_id: int, plan_id: int, *, selected_only: bool, search: str | None
) -> list[asyncpg.Record]:
    """A plan's courses, compulsory first, with the learner's selection and coverage.

    `search` matches any substring of the title (Chinese included) through the title-grams
    index of migration 0003.
    """
    return await db.fetch(
        f"""SELECT c.id, c.title, coalesce(t.name, '') AS teacher, c.hour_tenths,
                   pc.compulsory, pc.examined, s.course_id IS NOT NULL AS selected,
                   p.price_per_hour_fen, {COURSE_COVERAGE} AS coverage
            FROM plan_courses pc
            JOIN plans p ON p.id = pc.plan_id
            JOIN courses c ON c.id = pc.course_id
            LEFT JOIN teachers t ON t.id = c.teacher_id
            LEFT JOIN selections s
                   ON s.learner_id = $1 AND s.plan_id = pc.plan_id AND s.course_id = pc.course_id
            WHERE pc.plan_id = $2 AND ($3 = false OR s.course_id IS NOT NULL)
              AND ($4::text IS NULL OR (title_grams(c.title) @> title_grams($4)
                                        AND strpos(lower(c.title), lower($4)) > 0))
            ORDER BY pc.compulsory DESC, c.id""",
        learner_id,
        plan_id,
        selected_only,
        search,
    )


async def earlier_courses(db: Executor, learner_id: int, year: int) -> list[asyncpg.Record]:
    """The courses the learner selected in plans of years before `year`, newest plan first,
    with each plan's open period and the course's coverage."""
    return await db.fetch(
        f"""SELECT p.id AS plan_id, p.title AS plan_title, p.year, p.kind, p.opens_at,
                   p.closes_at, e.state, c.id, c.title, coalesce(t.name, '') AS teacher,
                   c.hour_tenths, pc.compulsory, {COURSE_COVERAGE} AS coverage
            FROM enrolments e
            JOIN plans p ON p.id = e.plan_id
            JOIN selections s ON s.learner_id = e.learner_id AND s.plan_id = e.plan_id
            JOIN plan_courses pc ON pc.plan_id = s.plan_id AND pc.course_id = s.course_id
            JOIN courses c ON c.id = s.course_id
            LEFT JOIN teachers t ON t.id = c.teacher_id
            WHERE e.learner_id = $1 AND p.year < $2
            ORDER BY p.year DESC, p.kind DESC, p.id, pc.compulsory DESC, c.id""",
        learner_id,
        year,
    )


async def chapter_file(db: Executor, chapter_id: int) -> asyncpg.Record | None:
    """A chapter's video file, its length and whether it opens its course (the 试看 one)."""
    return await db.fetchrow(
        """SELECT media, duration_s,
                  position = (SELECT min(position) FROM chapters WHERE course_id = ch.course_id)
                      AS previewable
           FROM chapters ch WHERE id = $1""",
        chapter_id,
    )


async def insert_plans(connection: Connection, rows: Sequence[PlanRow]) -> int:
    """Insert plans whose code is new; return how many were inserted."""
    status = await connection.execute(
        """INSERT INTO plans (code, title, kind, year, category, compulsory_tenths,
                              elective_tenths, price_per_hour_fen, opens_at, closes_at, max_rate)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[],
                                $6::int[], $7::int[], $8::int[], $9::timestamptz[],
                                $10::timestamptz[], $11::real[])
           ON CONFLICT (code) DO NOTHING""",
        *_columns(rows, PlanRow),
    )
    return row_count(status)


async def insert_teachers(connection: Connection, rows: Sequence[TeacherRow]) -> int:
    """Insert teachers not yet present (same name and profile); return how many."""
    status = await connection.execute(
        """INSERT INTO teachers (name, title, profile)
           SELECT r.name, r.title, r.profile
           FROM unnest($1::text[], $2::text[], $3::text[]) AS r (name, title, profile)
           WHERE NOT EXISTS (
               SELECT 1 FROM teachers t WHERE t.name = r.name AND t.profile = r.profile)""",
        *_columns(rows, TeacherRow),
    )
    return row_count(status)


async def insert_courses(connection: Connection, rows: Sequence[CourseRow]) -> int:
    """Insert courses whose code is new, linked to their teacher; return how many."""
    status = await connection.execute(
        """INSERT INTO courses (code, title, teacher_id, description, hour_tenths)
           SELECT r.code, r.title,
                  (SELECT min(t.id) FROM teachers t
                   WHERE t.name = r.teacher_name AND t.profile = r.teacher_profile),
                  r.description, r.hour_tenths
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
                AS r (code, title, teacher_name, teacher_profile, description, hour_tenths)
           ON CONFLICT (code) DO NOTHING""",
        *_columns(rows, CourseRow),
    )
    return row_count(status)


async def insert_chapters(connection: Connection, rows: Sequence[ChapterRow]) -> int:
    """Insert chapters at positions still free in their course; return how many."""
    status = await connection.execute(
        """INSERT INTO chapters (course_id, position, title, media, duration_s)
           SELECT c.id, r.position, r.title, r.media, r.duration_s
           FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::float8[])
                AS r (course_code, position, title, media, duration_s)
           JOIN courses c ON c.code = r.course_code
           ON CONFLICT (course_id, position) DO NOTHING""",
        *_columns(rows, ChapterRow),
    )
    return row_count(status)


async def insert_plan_courses(connection: Connection, rows: Sequence[PlanCourseRow]) -> int:
    """Link courses to plans where not yet linked; return how many links were made."""
    status = await connection.execute(
        """INSERT INTO plan_courses (plan_id, course_id, compulsory, examined)
           SELECT p.id, c.id, r.compulsory, r.examined
           FROM unnest($1::text[], $2::text[], $3::bool[], $4::bool[])
                AS r (plan_code, course_code, compulsory, examined)
           JOIN plans p ON p.code = r.plan_code
           JOIN courses c ON c.code = r.course_code
           ON CONFLICT (plan_id, course_id) DO NOTHING""",
        *_columns(rows, PlanCourseRow),
    )
    return row_count(status)


def _columns(rows: Sequence[msgspec.Struct], kind: type[msgspec.Struct]) -> list[list[object]]:
    """Rows turned into one list per field, in field order, for `unnest`."""
    return [[getattr(row, field) for row in rows] for field in kind.__struct_fields__]
