"""Room values: a room's name, a member's seat, stored messages and an answered question."""

import re
from typing import Literal

import msgspec

from engine.accounts.types import Role
from engine.errors import NotFound

RoomKind = Literal["course", "qa"]
ROOM_NAME = re.compile(r"^(course|qa):([1-9][0-9]{0,17})$")


class Room(msgspec.Struct, frozen=True):
    """`course:<id>` (讨论) or `qa:<id>` (问答)."""

    kind: RoomKind
    course_id: int

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.course_id}"

    @classmethod
    def parse(cls, name: str) -> "Room":
        found = ROOM_NAME.match(name)
        if found is None:
            raise NotFound("聊天室不存在")
        kind: RoomKind = "course" if found[1] == "course" else "qa"
        return cls(kind, int(found[2]))


class Seat(msgspec.Struct, frozen=True):
    """A member of a room: who may send there, under which name and role."""

    room: Room
    user_id: int
    name: str
    role: Role

    @property
    def moderates(self) -> bool:
        """Teachers of the course and administrators answer questions and hide messages."""
        return self.role != "learner"


class StoredMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    room: str
    seq: int
    author_id: int
    author: str
    role: Role
    text: str  # "" once hidden
    at_ms: int
    client_id: str
    answer_to: int | None
    answered: bool
    hidden: bool


class History(msgspec.Struct, frozen=True, kw_only=True):
    messages: list[StoredMessage]  # by seq
    last_seq: int  # the room's last sequence when read: every message up to it is stored
    pinned: list[StoredMessage]  # 问答: answered questions with their answers


class Hidden(msgspec.Struct, frozen=True):
    room: str
    message_id: int
