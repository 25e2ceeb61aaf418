"""The catalogue as administrators edit it: what a form submits and what a page lists.

Hours are in tenths of an hour and prices in fen, as stored; times are UTC.
"""

from datetime import date, datetime
from typing import Literal

import msgspec

PlanKind = Literal["public", "professional"]


class PlanCourseInput(msgspec.Struct, frozen=True, kw_only=True):
    course_id: int
    compulsory: bool = False
    examined: bool = False


class PlanCourse(msgspec.Struct, frozen=True, kw_only=True):
    """A course of a plan as its page lists it."""

    course_id: int
    code: str
    title: str
    hour_tenths: int
    compulsory: bool
    examined: bool


class PlanInput(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    kind: PlanKind
    year: int
    category: str | None = None
    compulsory_tenths: int
    elective_tenths: int
    price_per_hour_fen: int
    opens_at: datetime
    closes_at: datetime
    org_id: int | None  # None: the platform's own (the super administrator's alone)


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    title: str
    kind: str
    year: int
    category: str | None
    compulsory_tenths: int
    elective_tenths: int
    price_per_hour_fen: int
    opens_at: datetime
    closes_at: datetime
    org_id: int | None
    org_name: str | None
    courses: list[PlanCourse]


class PlanListing(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    title: str
    kind: str
    year: int
    org_id: int | None
    org_name: str | None
    course_count: int
    learner_count: int
    opens_on: date  # China's days, both included
    closes_on: date


class CourseInput(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    title: str
    teacher_id: int | None = None
    description: str = ""
    hour_tenths: int
    org_id: int | None


class Course(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    title: str
    teacher_id: int | None
    teacher_name: str | None
    description: str
    hour_tenths: int
    org_id: int | None
    org_name: str | None


class CourseListing(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    title: str
    teacher_name: str | None
    hour_tenths: int
    org_id: int | None
    org_name: str | None
    chapter_count: int


class TeacherInput(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    title: str = ""
    profile: str = ""
    org_id: int | None


class Teacher(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    title: str
    profile: str
    org_id: int | None
    org_name: str | None


class KeyPoint(msgspec.Struct, frozen=True, kw_only=True):
    """A named moment of a chapter's video (关键目录)."""

    at_s: float
    title: str


class Chapter(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    course_id: int
    position: int
    title: str
    media: str
    duration_s: float
    learners: int  # learners with progress in it
    key_points: list[KeyPoint] = []
