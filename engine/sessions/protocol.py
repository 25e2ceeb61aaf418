"""PROTOCOL.md's websocket messages: one tagged union each way, decoded in one call."""

from typing import Annotated

import msgspec

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


ClientMessage = Hello | Play | Beat | Stop | Ping

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


class Pong(Message, tag="pong"):
    server_now_ms: int


class Error(Message, tag="error"):
    code: str
    message: str


decoder = msgspec.json.Decoder(ClientMessage)
encoder = msgspec.json.Encoder()
