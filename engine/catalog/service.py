"""Use cases of the catalogue for learners: their plans, activation, a plan's courses."""

import asyncpg

from engine.catalog.types import CourseSummary, PlanSummary
from engine.clock import china_time
from engine.db import Executor
from engine.errors import NotFound

# F7's tabs of 我的课程: every plan, this year's public plan, the earlier years' public plans
# still to catch up on, this year's professional plans.
PLAN_TABS = ("all", "public", "catch-up", "professional")
CATCH_UP_YEARS = 4

PLAN_SUMMARY = """
SELECT p.id, p.title, p.kind, p.year, p.category,
       CASE WHEN e.learner_id IS NULL THEN 'pending' ELSE e.state END AS state,
       (p.compulsory_tenths + p.elective_tenths) / 10.0::float8 AS required_hours,
       p.compulsory_tenths / 10.0::float8 AS compulsory_hours,
       p.elective_tenths / 10.0::float8 AS elective_hours,
       coalesce((SELECT sum(c.hour_tenths) FROM selections s JOIN courses c ON c.id = s.course_id
                 WHERE s.learner_id = $1 AND s.plan_id = p.id), 0) / 10.0::float8 AS selected_hours,
       coalesce(e.earned_tenths, 0) / 10.0::float8 AS earned_hours
FROM plans p LEFT JOIN enrolments e ON e.plan_id = p.id AND e.learner_id = $1
"""

# Whole percent of a course covered by the learner; 100 only with every chapter complete.
COURSE_PROGRESS = """
(SELECT CASE WHEN bool_and(coalesce(cp.complete, false)) THEN 100
             ELSE least(99, coalesce(floor(100 * sum(least(coalesce(cp.hwm_s, 0), ch.duration_s))
                                           / sum(ch.duration_s)), 0))::int END
 FROM chapters ch
 LEFT JOIN chapter_progress cp ON cp.chapter_id = ch.id AND cp.learner_id = $1
 WHERE ch.course_id = c.id)
"""


async def list_plans(db: Executor, learner_id: int) -> list[PlanSummary]:
    """Every plan with the learner's state in it, newest year first, public before professional."""
    rows = await db.fetch(PLAN_SUMMARY + " ORDER BY p.year DESC, p.kind DESC, p.id", learner_id)
    return [PlanSummary(**dict(row)) for row in rows]


async def get_plan(db: Executor, learner_id: int, plan_id: int) -> PlanSummary:
    row = await db.fetchrow(PLAN_SUMMARY + " WHERE p.id = $2", learner_id, plan_id)
    if row is None:
        raise NotFound("培训计划不存在")
    return PlanSummary(**dict(row))


async def activate(pool: asyncpg.Pool, learner_id: int, plan_id: int) -> PlanSummary:
    """F8: the plan becomes 学习中 and its compulsory courses are selected. Idempotent."""
    async with pool.acquire() as connection, connection.transaction():
        exists = await connection.fetchval("SELECT true FROM plans WHERE id = $1", plan_id)
        if not exists:
            raise NotFound("培训计划不存在")
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
        return await get_plan(connection, learner_id, plan_id)


async def plan_courses(
    db: Executor,
    learner_id: int,
    plan_id: int,
    *,
    selected_only: bool = False,
    search: str | None = None,
) -> list[CourseSummary]:
    """A plan's courses: compulsory first, with the learner's selection and progress.

    `search` matches any substring of the title (Chinese included) through the title-grams
    index of migration 0003.
    """
    await get_plan(db, learner_id, plan_id)
    search = (search or "").strip()[:50] or None
    rows = await db.fetch(
        f"""SELECT c.id, c.title, coalesce(t.name, '') AS teacher, c.hour_tenths / 10.0::float8 AS hours,
                   pc.compulsory, pc.examined, s.course_id IS NOT NULL AS selected,
                   CASE WHEN pc.compulsory THEN 0
                        ELSE c.hour_tenths * p.price_per_hour_fen / 10 END AS price_fen,
                   {COURSE_PROGRESS} AS progress
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
    return [CourseSummary(**{**dict(row), "progress": row["progress"] or 0}) for row in rows]


async def chapter_media(db: Executor, course_id: int, chapter_id: int) -> str:
    """The path of a chapter's video; NotFound unless the chapter belongs to the course."""
    media: str | None = await db.fetchval(
        "SELECT media FROM chapters WHERE id = $1 AND course_id = $2", chapter_id, course_id
    )
    if media is None:
        raise NotFound("章节不存在")
    return media


def learning_year(configured: int | None, now_ms: int) -> int:
    """The year whose plans count as this year's: the configured one, else today's in China."""
    if configured is not None:
        return configured
    return china_time(now_ms).year


def in_tab(plan: PlanSummary, tab: str, year: int) -> bool:
    """Whether a plan is listed under a tab of 我的课程 (F7) in the given year.

    Catch-up lists the public plans of the four years before, not those already passed
    (the manual: "未学习过的公需科目培训计划").
    """
    if tab == "public":
        return plan.kind == "public" and plan.year == year
    if tab == "catch-up":
        return (
            plan.kind == "public"
            and year - CATCH_UP_YEARS <= plan.year < year
            and plan.state != "passed"
        )
    if tab == "professional":
        return plan.kind == "professional" and plan.year == year
    return True
