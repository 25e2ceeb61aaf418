"""What the JSON API answers, one Struct each: the handlers encode these, and the OpenAPI
document (web/openapi.py) is generated from them."""

from typing import Literal, TypeAlias

import msgspec

from engine.accounts.types import Org, User
from engine.archive.types import OfflineRecord, PlanRecord, YearHours
from engine.catalog.types import CourseDetail, CourseSummary, PlanSummary
from engine.commerce.types import Cart, Order
from engine.exams.types import ExamListing, StartedAttempt, UnscheduledExam
from engine.notes.types import Note
from engine.progress.types import Segment
from engine.sessions.protocol import ChatMessage


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    """`code` for programs, `message` in Chinese for people, `fields`: each bad field's message."""

    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorReply(msgspec.Struct):
    error: ErrorDetail


class UserReply(msgspec.Struct):
    user: User


class LoginReply(msgspec.Struct):
    """The token authenticates as `Authorization: Bearer <token>`; browsers get a cookie too."""

    token: str
    user: User


class OkReply(msgspec.Struct):
    ok: Literal[True] = True


class OrgsReply(msgspec.Struct):
    orgs: list[Org]


class Choice(msgspec.Struct):
    value: str
    label: str


# Each enumeration of registration (民族, 学历…) by its field's name.
OptionsReply: TypeAlias = dict[str, list[Choice]]


class PlansReply(msgspec.Struct):
    plans: list[PlanSummary]


class PlanReply(msgspec.Struct):
    plan: PlanSummary


class CoursesReply(msgspec.Struct):
    courses: list[CourseSummary]


class CourseReply(msgspec.Struct):
    course: CourseDetail


class CartReply(msgspec.Struct):
    cart: Cart


class OrderReply(msgspec.Struct):
    order: Order


class OrdersReply(msgspec.Struct):
    orders: list[Order]


class BalanceReply(msgspec.Struct):
    balance_fen: int


class ExamsReply(msgspec.Struct):
    exams: list[ExamListing]
    unscheduled: list[UnscheduledExam]


class AttemptReply(msgspec.Struct):
    attempt: StartedAttempt


class TimelineReply(msgspec.Struct):
    """学习记录: the learner's own segments of one chapter, oldest first."""

    segments: list[Segment]


class ArchiveReply(msgspec.Struct):
    """我的档案: the plans, the offline records, and each year's hours against the rule."""

    year: int
    plans: list[PlanRecord]
    offline: list[OfflineRecord]
    years: list[YearHours]


class NotesReply(msgspec.Struct):
    notes: list[Note]


class NoteReply(msgspec.Struct):
    note: Note


class UnreadReply(msgspec.Struct):
    unread: int


class RoomMessagesReply(msgspec.Struct):
    """Older messages of a room, by `seq`."""

    room: str
    messages: list[ChatMessage]
