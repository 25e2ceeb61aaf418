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


class Report(msgspec.Struct, frozen=True):
    """A learner's report of a 站内信, for administrators."""

    id: int
    message_id: int
    reporter: str
    sender: str
    title: str
    body: str
    reason: str
    created_at: datetime
