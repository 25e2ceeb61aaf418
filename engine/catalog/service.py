"""Use cases of the catalogue for learners: their plans, activation, a plan's courses."""

import asyncpg

from engine.catalog import store
from engine.catalog.measures import hours, price_fen
from engine.catalog.types import ChapterFile, CourseSummary, PlanSummary
from engine.clock import china_time
from engine.db import Executor
from engine.errors import NotFound
from engine.progress.types import percent

# F7's tabs of 我的课程: every plan, this year's public plan, the earlier years' public plans
# still to catch up on, this year's professional plans.
PLAN_TABS = ("all", "public", "catch-up", "professional")
CATCH_UP_YEARS = 4


async def list_plans(db: Executor, learner_id: int) -> list[PlanSummary]:
    """Every plan with the learner's state in it, newest year first, public before professional."""
    return [_plan_summary(row) for row in await store.plan_summaries(db, learner_id)]


async def get_plan(db: Executor, learner_id: int, plan_id: int) -> PlanSummary:
    row = await store.plan_summary(db, learner_id, plan_id)
    if row is None:
        raise NotFound("培训计划不存在")
    return _plan_summary(row)


def _plan_summary(row: asyncpg.Record) -> PlanSummary:
    compulsory, elective = row["compulsory_tenths"], row["elective_tenths"]
    return PlanSummary(
        **{key: value for key, value in row.items() if key in PlanSummary.__struct_fields__},
        required_hours=hours(compulsory + elective),
        compulsory_hours=hours(compulsory),
        elective_hours=hours(elective),
        selected_hours=hours(row["selected_tenths"]),
        earned_hours=hours(row["earned_tenths"]),
    )


async def activate(pool: asyncpg.Pool, learner_id: int, plan_id: int) -> PlanSummary:
    """F8: the plan becomes 学习中 and its compulsory courses are selected. Idempotent."""
    async with pool.acquire() as connection, connection.transaction():
        if not await store.plan_available(connection, learner_id, plan_id):
            raise NotFound("培训计划不存在")
        await store.enrol(connection, learner_id, plan_id)
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

    `search` matches any substring of the title (Chinese included).
    """
    await get_plan(db, learner_id, plan_id)
    search = (search or "").strip()[:50] or None
    if search is not None and "\x00" in search:
        return []  # PostgreSQL text holds no NUL: no title has one (and the query would fail)
    rows = await store.plan_courses(
        db, learner_id, plan_id, selected_only=selected_only, search=search
    )
    return [_course_summary(row) for row in rows]


def _course_summary(row: asyncpg.Record) -> CourseSummary:
    # A plan's compulsory courses are selected at activation: nothing to pay for them.
    price = 0 if row["compulsory"] else price_fen(row["hour_tenths"], row["price_per_hour_fen"])
    total_s, covered_s, complete = row["coverage"]
    return CourseSummary(
        **{key: value for key, value in row.items() if key in CourseSummary.__struct_fields__},
        hours=hours(row["hour_tenths"]),
        price_fen=price,
        progress=percent(covered_s or 0.0, total_s or 0.0, bool(complete)),
    )


async def chapter_file(db: Executor, chapter_id: int) -> ChapterFile:
    """A chapter's video file (relative to the media folder); NotFound for no such chapter."""
    row = await store.chapter_file(db, chapter_id)
    if row is None:
        raise NotFound("章节不存在")
    return ChapterFile(*row)


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
