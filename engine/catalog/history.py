"""历史课程 (F28): the courses a learner selected in earlier years' plans, with their progress.

Such a course plays while one of the learner's plans that holds it is open: the rule
playback itself holds to (engine.progress.service.may_watch), asked for every course at once.
"""

from engine.catalog import store
from engine.catalog.measures import hours
from engine.catalog.types import HistoryCourse, HistoryPlan
from engine.clock import utc_time
from engine.db import Executor
from engine.progress.service import watchable_courses
from engine.progress.types import percent


async def earlier_courses(
    db: Executor, learner_id: int, year: int, now_ms: int
) -> list[HistoryPlan]:
    """The learner's plans of years before `year` with their selected courses, newest first."""
    now = utc_time(now_ms)
    rows = await store.earlier_courses(db, learner_id, year)
    watchable = await watchable_courses(db, learner_id, [row["id"] for row in rows], now_ms)
    plans: dict[int, HistoryPlan] = {}
    for row in rows:
        plan = plans.get(row["plan_id"])
        if plan is None:
            plan = plans[row["plan_id"]] = HistoryPlan(
                id=row["plan_id"],
                title=row["plan_title"],
                year=row["year"],
                kind=row["kind"],
                state=row["state"],
                opens_at=row["opens_at"],
                closes_at=row["closes_at"],
                open=row["opens_at"] <= now < row["closes_at"],
                courses=[],
            )
        total_s, covered_s, complete = row["coverage"]
        plan.courses.append(
            HistoryCourse(
                id=row["id"],
                title=row["title"],
                teacher=row["teacher"],
                hours=hours(row["hour_tenths"]),
                compulsory=row["compulsory"],
                progress=percent(covered_s or 0.0, total_s or 0.0, bool(complete)),
                watchable=row["id"] in watchable,
                has_chapters=total_s is not None,
            )
        )
    return list(plans.values())
