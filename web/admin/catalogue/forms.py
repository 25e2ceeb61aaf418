"""The catalogue's forms as posted, decoded at the edge and turned into the engine's inputs:
hours as people write them (1.5) into tenths, yuan into fen, days into the open period."""

import math
from datetime import date

import msgspec
from aiohttp import web

from engine.catalog.admin_types import (
    Course,
    CourseInput,
    Plan,
    PlanCourseInput,
    PlanInput,
    Teacher,
    TeacherInput,
)
from engine.catalog.measures import tenths
from engine.catalog.periods import period_days, plan_period
from engine.errors import InvalidInput
from web.decoding import BAD_ID, Id, parse_id


class PlanForm(msgspec.Struct, kw_only=True):
    title: str
    kind: str
    year: int
    category: str = ""
    compulsory_hours: float = 0
    elective_hours: float = 0
    price_per_hour: float = 0  # yuan
    opens_on: date
    closes_on: date
    org_id: Id | None = None


class CourseForm(msgspec.Struct, kw_only=True):
    code: str
    title: str
    teacher_id: Id | None = None
    description: str = ""
    hours: float
    org_id: Id | None = None


class TeacherForm(msgspec.Struct, kw_only=True):
    name: str
    title: str = ""
    profile: str = ""
    org_id: Id | None = None


class ChapterTitle(msgspec.Struct, kw_only=True):
    title: str


class KeyPointsForm(msgspec.Struct, kw_only=True):
    key_points: str = ""


class MoveForm(msgspec.Struct, kw_only=True):
    direction: str


def _finite(**numbers: float) -> None:
    """NaN and infinity parse as numbers but are none a person means."""
    bad = {name: "格式不正确" for name, value in numbers.items() if not math.isfinite(value)}
    if bad:
        raise InvalidInput(bad)


def plan_input(form: PlanForm) -> PlanInput:
    _finite(
        compulsory_hours=form.compulsory_hours,
        elective_hours=form.elective_hours,
        price_per_hour=form.price_per_hour,
    )
    if form.kind not in ("public", "professional"):
        raise InvalidInput({"kind": "请选择计划类型"})
    opens_at, closes_at = plan_period(form.opens_on, form.closes_on)
    return PlanInput(
        title=form.title,
        kind=form.kind,
        year=form.year,
        category=form.category,
        compulsory_tenths=tenths(form.compulsory_hours),
        elective_tenths=tenths(form.elective_hours),
        price_per_hour_fen=round(form.price_per_hour * 100),
        opens_at=opens_at,
        closes_at=closes_at,
        org_id=form.org_id,
    )


async def plan_courses(request: web.Request) -> list[PlanCourseInput]:
    """The plan's courses as the form lists them: each kept course (`course_id`, repeated)
    with its flags (`compulsory`, `examined`: the ids checked)."""
    form = await request.post()

    def ids(name: str) -> list[int]:
        found = [parse_id(str(value)) for value in form.getall(name, [])]
        if None in found:
            raise InvalidInput({"courses": BAD_ID})
        return [value for value in found if value is not None]

    compulsory, examined = set(ids("compulsory")), set(ids("examined"))
    return [
        PlanCourseInput(
            course_id=course_id,
            compulsory=course_id in compulsory,
            examined=course_id in examined,
        )
        for course_id in ids("course_id")
    ]


def plan_values(plan: Plan) -> dict[str, str]:
    """A stored plan as its form shows it."""
    opens_on, closes_on = period_days(plan.opens_at, plan.closes_at)
    return {
        "title": plan.title,
        "kind": plan.kind,
        "year": str(plan.year),
        "category": plan.category or "",
        "compulsory_hours": f"{plan.compulsory_tenths / 10:g}",
        "elective_hours": f"{plan.elective_tenths / 10:g}",
        "price_per_hour": f"{plan.price_per_hour_fen / 100:g}",
        "opens_on": opens_on.isoformat(),
        "closes_on": closes_on.isoformat(),
        "org_id": "" if plan.org_id is None else str(plan.org_id),
    }


def course_input(form: CourseForm) -> CourseInput:
    _finite(hours=form.hours)
    return CourseInput(
        code=form.code,
        title=form.title,
        teacher_id=form.teacher_id,
        description=form.description,
        hour_tenths=tenths(form.hours),
        org_id=form.org_id,
    )


def course_values(course: Course) -> dict[str, str]:
    return {
        "code": course.code,
        "title": course.title,
        "teacher_id": "" if course.teacher_id is None else str(course.teacher_id),
        "description": course.description,
        "hours": f"{course.hour_tenths / 10:g}",
        "org_id": "" if course.org_id is None else str(course.org_id),
    }


def teacher_input(form: TeacherForm) -> TeacherInput:
    return TeacherInput(name=form.name, title=form.title, profile=form.profile, org_id=form.org_id)


def teacher_values(teacher: Teacher) -> dict[str, str]:
    return {
        "name": teacher.name,
        "title": teacher.title,
        "profile": teacher.profile,
        "org_id": "" if teacher.org_id is None else str(teacher.org_id),
    }
