"""Notes: what a learner wrote at a moment of a chapter (F17), and 我的笔记's rows (F27)."""

from datetime import datetime

import msgspec


class Note(msgspec.Struct, frozen=True):
    id: int
    chapter_id: int
    position_s: float
    body: str
    created_at: datetime
    updated_at: datetime


class NoteEntry(msgspec.Struct, frozen=True):
    """A note with where it belongs: 我的笔记 groups by plan, course and chapter."""

    id: int
    plan_id: int | None  # the plan the course was selected in; None once no longer selected
    plan_title: str | None
    course_id: int
    course_title: str
    chapter_id: int
    chapter_title: str
    chapter_position: int
    position_s: float
    body: str
    updated_at: datetime
