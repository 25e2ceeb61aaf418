"""我的消息 (F24): the inbox of every kind, surveys and their answers, 站内信's reports."""

from datetime import datetime
from typing import Literal

import msgspec

Kind = Literal["system", "letter", "survey", "announcement"]
# The tabs of 消息中心, in the manual's order (§5).
KINDS: dict[str, str] = {
    "system": "系统通知",
    "letter": "站内信",
    "survey": "调查问卷",
    "announcement": "公告",
}


class Message(msgspec.Struct, frozen=True):
    id: int
    kind: str
    title: str
    body: str
    sender_id: int | None
    sender: str | None  # the sender's username (站内信)
    survey_id: int | None
    created_at: datetime
    read_at: datetime | None


class NewNotice(msgspec.Struct, frozen=True):
    """A 系统通知 for one learner."""

    learner_id: int
    title: str
    body: str


class Pushed(msgspec.Struct, frozen=True):
    """What PostgreSQL announces on `NOTICES_CHANNEL` when a message's transaction commits:
    the nodes holding the learner's sockets push it as `notice`."""

    learner: int
    kind: str
    title: str
    body: str  # its start: the whole message is in 我的消息


class Question(msgspec.Struct, frozen=True):
    id: int
    kind: Literal["single", "multiple", "text"]
    prompt: str
    options: list[str]


class Survey(msgspec.Struct, frozen=True):
    id: int
    title: str
    intro: str
    questions: list[Question]
    answered: bool  # by the learner asking


class QuestionDraft(msgspec.Struct, frozen=True):
    """A question of a survey being posted (the `jixu messages survey` file)."""

    kind: Literal["single", "multiple", "text"]
    prompt: str
    options: list[str] = []


class SurveyDraft(msgspec.Struct, frozen=True):
    title: str
    questions: list[QuestionDraft]
    intro: str = ""


class Dispatch(msgspec.Struct, frozen=True, kw_only=True):
    """One administrator's send of a notice, an announcement or a survey, as its list shows
    it: to which organisation subtree (None: every one), by whom, how many got and read it."""

    id: int
    kind: str
    title: str
    body: str
    survey_id: int | None
    org_id: int | None
    org_name: str | None
    sender: str
    recipients: int
    read: int
    created_at: datetime


class OptionCount(msgspec.Struct, frozen=True):
    option: str
    count: int


class QuestionResult(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: Literal["single", "multiple", "text"]
    prompt: str
    options: list[OptionCount]  # choices: how many chose each option, in their order
    answers: list[str]  # text questions: the answers, newest first


class SurveyResults(msgspec.Struct, frozen=True, kw_only=True):
    survey_id: int
    dispatch_id: int
    title: str
    recipients: int
    responses: int
    rate: float  # responses per recipient, in percent, one decimal
    questions: list[QuestionResult]


class WaitingQuestion(msgspec.Struct, frozen=True, kw_only=True):
    """A question of a course's 问答 still 待回答, for the queue."""

    id: int
    course_id: int
    course_title: str
    author: str
    text: str
    created_at: datetime


class ReportedRoomMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A room message with open reports: what it says and why it was reported."""

    id: int
    room: str
    course_id: int
    course_title: str
    author: str
    text: str
    reports: int
    reasons: list[str]
    reported_at: datetime  # the first open report's time


class ReportedLetter(msgspec.Struct, frozen=True, kw_only=True):
    """An open report of a 站内信."""

    id: int
    message_id: int
    reporter: str
    sender: str
    org_name: str
    title: str
    body: str
    reason: str
    created_at: datetime
