"""One websocket connection: its learner, its playback, its bounded send queue and writer."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from engine.progress.types import CourseTally
from engine.sessions.protocol import Message, encoder

# Close codes beyond RFC 6455's, as PROTOCOL.md names them.
LOST_AUTHENTICATION = 4001
TOO_SLOW = 4002


@dataclass
class Playback:
    """What the connection is playing, and what its acks need to know."""

    chapter_id: int
    max_rate: float
    course: CourseTally


class Connection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        app: web.Application,
        *,
        conn_id: str,
        learner_id: int,
        token: str,
        queue_size: int,
        messages_per_s: float,
    ) -> None:
        self.ws = ws
        self.app = app
        self.id = conn_id
        self.learner_id = learner_id
        self.token = token
        self.log = structlog.get_logger("engine.sessions").bind(conn=conn_id, learner=learner_id)
        self.playback: Playback | None = None
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(queue_size)
        self.writer: asyncio.Task[None] | None = None
        self.closing: asyncio.Task[Any] | None = None
        self.rate = messages_per_s
        self.allowance = 2 * messages_per_s  # a burst of two seconds' worth
        self.checked_at = time.monotonic()
        self.garbage = 0
        self.auth_checked_at = time.monotonic()

    def start(self) -> None:
        self.writer = asyncio.create_task(self._write(), name=f"ws-writer-{self.id}")

    def send(self, message: Message) -> None:
        self.send_raw(encoder.encode(message))

    def send_raw(self, data: bytes) -> None:
        """Queue a frame; a client too far behind is disconnected, never waited for."""
        if self.closing is not None:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.log.warning("client too slow, disconnecting", queued=self.queue.qsize())
            self.close(TOO_SLOW, "too slow")

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
        """Stop the writer once the socket is done."""
        if self.writer is not None and not self.writer.done():
            try:
                self.queue.put_nowait(None)
            except asyncio.QueueFull:
                self.writer.cancel()
            await asyncio.gather(self.writer, return_exceptions=True)
        if self.closing is not None:
            await asyncio.gather(self.closing, return_exceptions=True)

    async def _write(self) -> None:
        while (data := await self.queue.get()) is not None:
            if self.ws.closed:
                return
            try:
                await self.ws.send_frame(data, WSMsgType.TEXT)
            except ConnectionError:
                return
