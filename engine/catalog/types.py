"""What learners see of the catalogue."""

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
