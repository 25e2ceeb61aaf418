"""PROTOCOL.md's websocket messages: one tagged union each way, decoded in one call."""

from typing import Annotated

import msgspec

from engine.live.types import ClusterFigures

Seq = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=1e7)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


class Message(msgspec.Struct, tag_field="type", forbid_unknown_fields=False):
    pass


# Client → server


class Hello(Message, tag="hello"):
    tab: Annotated[str, msgspec.Meta(max_length=64)] = ""


class Play(Message, tag="play"):
    chapter: Id
    position: Seconds | None = None  # None: resume where the learner left off


class Beat(Message, tag="beat"):
    seq: Seq
    position: Seconds
    playing: bool
    focused: bool
    rate: Annotated[float, msgspec.Meta(gt=0, le=16)] = 1.0


class Stop(Message, tag="stop"):
    seq: Seq
    position: Seconds


class Ping(Message, tag="ping"):
    pass


class AttentionAnswer(Message, tag="attention.answer"):
    id: Annotated[str, msgspec.Meta(max_length=64)]


class ExamJoin(Message, tag="exam.join"):
    attempt: Id


class ExamAnswer(Message, tag="exam.answer"):
    attempt: Id
    question: Id
    answer: Annotated[list[Annotated[str, msgspec.Meta(max_length=1)]], msgspec.Meta(max_length=8)]
    seq: Seq


class ExamFlag(Message, tag="exam.flag"):
    attempt: Id
    question: Id
    flagged: bool
    seq: Seq | None = None


class ExamSubmit(Message, tag="exam.submit"):
    attempt: Id


# Rooms (讨论 `course:<id>`, 问答 `qa:<id>`): every field of a room message sent to clients is
# ChatMessage's; `chat.history` lists them too.
RoomName = Annotated[str, msgspec.Meta(max_length=40)]
ClientId = Annotated[str, msgspec.Meta(max_length=64)]


class ChatJoin(Message, tag="chat.join"):
    room: RoomName
    after_seq: Seq | None = None  # a reconnect's catch-up: every message after it


class ChatSend(Message, tag="chat.send"):
    room: RoomName
    text: str  # its length is the rooms' rule (a Chinese message), the frame caps its bytes
    client_id: ClientId = ""
    answer_to: Id | None = None  # 问答: the question a teacher answers


class ChatLeave(Message, tag="chat.leave"):
    room: RoomName


class ChatHide(Message, tag="chat.hide"):
    room: RoomName
    id: Id
    reason: str


class ChatReport(Message, tag="chat.report"):
    room: RoomName
    id: Id
    reason: str


# The live operations view (super administrators): figures every second while subscribed.
class LiveSubscribe(Message, tag="live.subscribe"):
    pass


class LiveUnsubscribe(Message, tag="live.unsubscribe"):
    pass


ChatCommand = ChatJoin | ChatSend | ChatLeave | ChatHide | ChatReport

ClientMessage = (
    Hello | Play | Beat | Stop | Ping | ExamJoin | ExamAnswer | ExamFlag | ExamSubmit
    | ChatCommand | AttentionAnswer | LiveSubscribe | LiveUnsubscribe
)  # fmt: skip

# Server → client


class Welcome(Message, tag="welcome"):
    conn: str
    server_now_ms: int


class Playing(Message, tag="playing"):
    chapter: int
    lease: str
    position: float
    hwm: float
    duration_s: float
    interval_ms: int
    max_rate: float
    chapter_progress: int
    course_progress: int
    blur_grace_ms: int = 0  # a shorter blur may play on: the server forgives one now and then


class Ack(Message, tag="ack", omit_defaults=True):
    seq: int
    position: float
    hwm: float
    credited_s: float
    chapter_progress: int
    course_progress: int
    reason: str | None = None
    seek_to: float | None = None


class Superseded(Message, tag="superseded"):
    chapter: int


class AttentionCheck(Message, tag="attention.check"):
    id: str
    expires_ms: int


class AttentionOk(Message, tag="attention.ok"):
    id: str


class Pong(Message, tag="pong"):
    server_now_ms: int


class ExamState(Message, tag="exam.state"):
    attempt: int
    deadline_ms: int
    server_now_ms: int
    answers: dict[int, list[str]]  # question → shown option keys
    flags: list[int]


class ExamSaved(Message, tag="exam.saved", omit_defaults=True):
    attempt: int
    question: int
    seq: int | None = None
    stale: bool = False  # a later frame (a higher seq) is stored: keep that, send no more


class ExamTick(Message, tag="exam.tick"):
    attempt: int
    remaining_ms: int
    server_now_ms: int


class ExamResult(Message, tag="exam.result"):
    attempt: int
    score: int
    passed: bool
    total_score: int


class Notice(Message, tag="notice"):
    kind: str  # system | letter | survey | announcement
    title: str
    body: str
    unread: int  # the learner's unread messages, this one included


class ChatMessage(Message, tag="chat.message", omit_defaults=True):
    room: str
    seq: int
    id: int
    author: str
    author_id: int
    role: str  # learner, teacher or admin: a teacher's and administrator's are marked
    text: str  # "" when hidden
    at_ms: int
    client_id: str = ""
    answer_to: int | None = None  # an answer: the question it answers (pinned under it)
    answered: bool = False  # a question: answered (else 待回答)
    hidden: bool = False


class ChatHistory(Message, tag="chat.history"):
    room: str
    role: str  # the member's own: teachers and administrators answer and hide
    messages: list[ChatMessage]
    last_seq: int
    pinned: list[ChatMessage]  # 问答: answered questions and their answers


class ChatHidden(Message, tag="chat.hidden"):
    room: str
    id: int


class ChatReported(Message, tag="chat.reported"):
    room: str
    id: int


class LiveFigures(Message, tag="live.figures"):
    figures: ClusterFigures  # the whole cluster's second, from whichever node


class Error(Message, tag="error", omit_defaults=True):
    code: str
    message: str
    room: str | None = None  # the room of a refused chat command


decoder = msgspec.json.Decoder(ClientMessage)
encoder = msgspec.json.Encoder()
