"""The archive (F23) and the year's hours (F32), computed from the stored facts: enrolments,
selections, progress and exam results, and the offline records an administrator enters."""

import re
from collections import defaultdict
from datetime import date, datetime

import asyncpg

from engine.accounts.types import User
from engine.archive import compliance, store
from engine.archive.types import CourseRecord, OfflineRecord, OpenPlan, PlanRecord, YearHours
from engine.catalog.measures import hours, tenths
from engine.clock import CHINA
from engine.db import Executor
from engine.errors import NotFound
from engine.progress.types import percent

KINDS = ("public", "professional")
MAX_OFFLINE_TENTHS = 2000
HOURS = re.compile(r"[0-9]{1,3}(\.[0-9])?")


async def plan_records(
    db: Executor, learner_id: int, plan_id: int | None = None
) -> list[PlanRecord]:
    """The learner's activated plans, newest year first, each with its selected courses."""
    plans = await store.plans(db, learner_id, plan_id)
    by_plan: dict[int, list[CourseRecord]] = defaultdict(list)
    for row in await store.courses(db, learner_id, [plan["id"] for plan in plans]):
        by_plan[row["plan_id"]].append(_course(row))
    return [_plan(row, by_plan[row["id"]]) for row in plans]


async def plan_record(db: Executor, learner_id: int, plan_id: int) -> PlanRecord:
    """查看档案: one plan of the learner's archive; NotFound unless the learner activated it."""
    found = await plan_records(db, learner_id, plan_id)
    if not found:
        raise NotFound("没有该培训计划的档案")
    return found[0]


def _course(row: asyncpg.Record) -> CourseRecord:
    total_s, covered_s, complete = row["coverage"]
    completed = row["completed_at"] is not None
    return CourseRecord(
        id=row["id"],
        title=row["title"],
        compulsory=row["compulsory"],
        examined=row["examined"],
        hours=hours(row["hour_tenths"]),
        progress=percent(covered_s or 0.0, total_s or 0.0, bool(complete)),
        completed_on=_day(row["completed_at"]),
        exam_score=row["best_score"],
        exam_total=row["total_score"],
        exam_passed=row["exam_passed"],
        # The rule engine.progress applies when it counts a plan's hours.
        earned=completed and (not row["examined"] or row["exam_passed"]),
    )


def _plan(row: asyncpg.Record, courses: list[CourseRecord]) -> PlanRecord:
    compulsory, elective = row["compulsory_tenths"], row["elective_tenths"]
    return PlanRecord(
        id=row["id"],
        title=row["title"],
        kind=row["kind"],
        year=row["year"],
        category=row["category"],
        state=row["state"],
        compulsory_hours=hours(compulsory),
        elective_hours=hours(elective),
        required_hours=hours(compulsory + elective),
        compulsory_earned=_earned(courses, compulsory=True),
        elective_earned=_earned(courses, compulsory=False),
        earned_hours=hours(row["earned_tenths"]),
        activated_on=_day(row["activated_at"]) or date.min,
        passed_on=_day(row["passed_at"]),
        courses=courses,
        certificate=f"/archive/plans/{row['id']}/certificate.pdf"
        if row["state"] == "passed"
        else None,
    )


def _earned(courses: list[CourseRecord], *, compulsory: bool) -> float:
    return hours(sum(tenths(c.hours) for c in courses if c.earned and c.compulsory == compulsory))


def _day(moment: datetime | None) -> date | None:
    """A stored time as the day it was in China."""
    return moment.astimezone(CHINA).date() if moment is not None else None


async def offline_records(db: Executor, learner_id: int) -> list[OfflineRecord]:
    """线下档案, newest first."""
    return [
        OfflineRecord(
            id=row["id"],
            year=row["year"],
            kind=row["kind"],
            title=row["title"],
            organiser=row["organiser"],
            hours=hours(row["hour_tenths"]),
            completed_on=row["completed_on"],
        )
        for row in await store.offline_records(db, learner_id)
    ]


async def year_hours(db: Executor, user: User, year: int, now: datetime) -> YearHours:
    """F32: the year's hours (online plans of that year and offline records) against what the
    learner's title requires, and the open plans of the year that could make up the rest."""
    plans = await store.plans(db, user.id)
    offline = await store.offline_records(db, user.id)
    return await _year_hours(db, user, year, plans, offline, now)


async def years_hours(db: Executor, user: User, this_year: int, now: datetime) -> list[YearHours]:
    """`year_hours` of every year the archive has something for up to this one, newest first
    (the plans and offline records read once for all of them)."""
    plans = await store.plans(db, user.id)
    offline = await store.offline_records(db, user.id)
    years = {this_year} | {row["year"] for row in [*plans, *offline] if row["year"] < this_year}
    return [
        await _year_hours(db, user, year, plans, offline, now)
        for year in sorted(years, reverse=True)
    ]


async def _year_hours(
    db: Executor,
    user: User,
    year: int,
    all_plans: list[asyncpg.Record],
    all_offline: list[asyncpg.Record],
    now: datetime,
) -> YearHours:
    plans = [plan for plan in all_plans if plan["year"] == year]
    offline = [record for record in all_offline if record["year"] == year]
    online = {
        kind: sum(plan["earned_tenths"] for plan in plans if plan["kind"] == kind) for kind in KINDS
    }
    offline_tenths = sum(record["hour_tenths"] for record in offline)
    by_kind = {
        kind: online[kind] + sum(r["hour_tenths"] for r in offline if r["kind"] == kind)
        for kind in KINDS
    }
    earned = sum(by_kind.values())
    required = compliance.required_tenths(user.title_level)
    missing = max(0, required - earned)
    open_plans = [
        OpenPlan(
            id=row["id"],
            title=row["title"],
            kind=row["kind"],
            state=row["state"],
            to_pass_hours=hours(max(0, row["required_tenths"] - row["earned_tenths"])),
        )
        for row in await store.open_plans(db, user.id, year, now)
    ]
    return YearHours(
        year=year,
        required_hours=hours(required),
        earned_hours=hours(earned),
        public_hours=hours(by_kind["public"]),
        professional_hours=hours(by_kind["professional"]),
        offline_hours=hours(offline_tenths),
        missing_hours=hours(missing),
        deadline=compliance.deadline(year),
        days_left=compliance.days_left(year, now.astimezone(CHINA).date()),
        open_plans=open_plans,
        covered=sum(tenths(plan.to_pass_hours) for plan in open_plans) >= missing,
    )
