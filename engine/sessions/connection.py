"""One websocket connection: its learner, playback state, bounded send queue and writer."""

import asyncio
import enum
import time
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from engine.errors import DomainError
from engine.exams.types import JoinedExam
from engine.progress.types import CourseTally
from engine.rooms.types import Seat
from engine.sessions.protocol import Message, encoder

LOG = structlog.stdlib.get_logger("engine.sessions")

# Close codes beyond RFC 6455's, as PROTOCOL.md names them.
LOST_AUTHENTICATION = 4001
TOO_SLOW = 4002


class PlaybackState(enum.Enum):
    """Whether the socket holds a chapter's playback: `play` starts it (or moves it to another
    chapter), `stop` or a superseded beat ends it. Independent of the exams it joined."""

    IDLE = "idle"
    PLAYING = "playing"


@dataclass(slots=True)
class Playback:
    """What the connection is playing, and what its acks need to know."""

    chapter_id: int
    max_rate: float
    course: CourseTally


class Connection:
    # Slots: no attribute dict on each of tens of thousands of mostly idle sockets.
    __slots__ = (
        "_playback",
        "address",
        "allowance",
        "auth_checked_at",
        "checked_at",
        "closing",
        "exams",
        "garbage",
        "id",
        "learner_id",
        "playback_state",
        "queue",
        "queue_size",
        "rate",
        "rooms",
        "token",
        "writer",
        "ws",
    )

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        conn_id: str,
        learner_id: int,
        token: str,
        queue_size: int,
        messages_per_s: float,
        address: str = "",
    ) -> None:
        self.ws = ws
        self.id = conn_id
        self.learner_id = learner_id
        self.token = token
        self.address = address  # the client's, as web/requests.py client_address sees it
        self.playback_state = PlaybackState.IDLE
        self._playback: Playback | None = None  # set exactly while PLAYING
        self.exams: dict[int, JoinedExam] = {}  # attempts this socket joined, by id
        self.rooms: dict[str, Seat] = {}  # rooms this socket joined, by name
        # The send queue: a list, and a writer task that runs only while it holds frames.
        # An asyncio.Queue (four deques) and a writer parked on it cost ~4 KiB on each of
        # tens of thousands of mostly idle sockets.
        self.queue: list[bytes] = []
        self.queue_size = queue_size
        self.writer: asyncio.Task[None] | None = None
        self.closing: asyncio.Task[Any] | None = None
        self.rate = messages_per_s
        self.allowance = 2 * messages_per_s  # a burst of two seconds' worth
        self.checked_at = time.monotonic()
        self.garbage = 0
        self.auth_checked_at = time.monotonic()

    @property
    def playback(self) -> Playback:
        """What the socket plays; a client that beats before `play` is told so."""
        if self.playback_state is PlaybackState.IDLE:
            raise DomainError("请先开始播放", code="not_playing")
        assert self._playback is not None  # held exactly while PLAYING
        return self._playback

    def start_playing(self, playback: Playback) -> None:
        """IDLE or PLAYING → PLAYING: `play` takes a chapter, or moves to another."""
        self.playback_state, self._playback = PlaybackState.PLAYING, playback

    def stop_playing(self) -> None:
        """PLAYING → IDLE: the lease is released or superseded."""
        if self.playback_state is not PlaybackState.PLAYING:
            raise RuntimeError(f"cannot stop playing: the socket is {self.playback_state.value}")
        self.playback_state, self._playback = PlaybackState.IDLE, None

    def joined(self, attempt_id: int) -> JoinedExam:
        """An exam attempt this socket joined; answers to any other are refused."""
        joined = self.exams.get(attempt_id)
        if joined is None:
            raise DomainError("请先进入考试", code="not_joined")
        return joined

    def seat(self, room: str) -> Seat:
        """The socket's seat in a room it joined; sending anywhere else is refused."""
        seat = self.rooms.get(room)
        if seat is None:
            raise DomainError("请先进入聊天室", code="not_joined")
        return seat

    @property
    def log(self) -> structlog.stdlib.BoundLogger:
        """A logger whose lines carry the connection's id and learner (built when used)."""
        return LOG.bind(conn=self.id, learner=self.learner_id)

    def send(self, message: Message) -> None:
        self.send_raw(encoder.encode(message))

    def send_raw(self, data: bytes) -> None:
        """Queue a frame; a client too far behind is disconnected, never waited for."""
        if self.closing is not None:
            return
        if len(self.queue) >= self.queue_size:
            self.log.warning("client too slow, disconnecting", queued=len(self.queue))
            self.close(TOO_SLOW, "too slow")
            return
        self._enqueue(data)

    def _enqueue(self, data: bytes) -> None:
        self.queue.append(data)
        if self.writer is None:
            # Unnamed: naming a task runs Python code, on every burst of frames here.
            self.writer = asyncio.create_task(self._write())

    def close(self, code: int, reason: str = "") -> None:
        if self.closing is None:
            self.closing = asyncio.create_task(
                self.ws.close(code=code, message=reason.encode()), name=f"ws-close-{self.id}"
            )

    def allow(self) -> bool:
        """Token bucket over incoming messages."""
        now = time.monotonic()
        self.allowance = min(2 * self.rate, self.allowance + (now - self.checked_at) * self.rate)
        self.checked_at = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    async def finish(self) -> None:
        """Once the socket is done: let the writer drain, or stop it at once if dropped."""
        writer = self.writer
        if writer is not None:
            if self.closing is not None or len(self.queue) >= self.queue_size:
                writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        if self.closing is not None:
            await asyncio.gather(self.closing, return_exceptions=True)

    async def _write(self) -> None:
        """Send what is queued, then end: the next frame queued starts a new writer."""
        try:
            while self.queue and not self.ws.closed:
                # At most queue_size long: popping from the front costs nothing worth a deque.
                data = self.queue.pop(0)
                try:
                    await self.ws.send_frame(data, WSMsgType.TEXT)
                except ConnectionError:
                    self.queue.clear()
                    return
        finally:
            self.writer = None
