"""The catalogue's records: what learners see of it, and the rows the demo writes."""

from datetime import datetime

import msgspec


class PlanSummary(msgspec.Struct, frozen=True):
    id: int
    title: str
    kind: str
    year: int
    category: str | None
    state: str  # pending (待激活) | learning (学习中) | passed (已通过)
    required_hours: float
    compulsory_hours: float
    elective_hours: float
    selected_hours: float
    earned_hours: float


class CourseSummary(msgspec.Struct, frozen=True):
    id: int
    title: str
    teacher: str
    hours: float
    compulsory: bool
    examined: bool
    selected: bool
    price_fen: int
    progress: int


class ChapterView(msgspec.Struct, frozen=True):
    id: int
    title: str
    duration_s: float
    hwm: float
    position: float
    complete: bool
    progress: int


class CourseDetail(msgspec.Struct, frozen=True):
    id: int
    title: str
    description: str
    hours: float
    teacher: str
    teacher_title: str
    teacher_profile: str
    selected: bool
    examined: bool
    progress: int
    chapters: list[ChapterView]


class PlanRow(msgspec.Struct, frozen=True):
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
    max_rate: float


class TeacherRow(msgspec.Struct, frozen=True):
    # Teachers have no code; name and profile together identify one.
    name: str
    title: str
    profile: str


class CourseRow(msgspec.Struct, frozen=True):
    code: str
    title: str
    teacher_name: str
    teacher_profile: str
    description: str
    hour_tenths: int


class ChapterFile(msgspec.Struct, frozen=True):
    """A chapter's video: its file under the media folder; the first chapter is the 试看 one."""

    media: str
    duration_s: float
    previewable: bool


class ChapterRow(msgspec.Struct, frozen=True):
    course_code: str
    position: int
    title: str
    media: str
    duration_s: float


class PlanCourseRow(msgspec.Struct, frozen=True):
    plan_code: str
    course_code: str
    compulsory: bool
    examined: bool


class HistoryCourse(msgspec.Struct, frozen=True):
    """A course of an earlier year's plan (F28): its progress, and whether it plays now."""

    id: int
    title: str
    teacher: str
    hours: float
    compulsory: bool
    progress: int
    watchable: bool
    has_chapters: bool


class HistoryPlan(msgspec.Struct, frozen=True):
    id: int
    title: str
    year: int
    kind: str
    state: str  # learning (学习中) | passed (已通过)
    opens_at: datetime
    closes_at: datetime
    open: bool
    courses: list[HistoryCourse]
