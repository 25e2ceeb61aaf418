"""Live `notice` frames: every node LISTENs to the messages PostgreSQL announces as their
transactions commit, and pushes each to the learner's sockets it holds.

Every node hears every message (its learner id and start), and only the nodes holding one
of the learner's sockets do more: one unread-count query per batch. No registry of who is
connected where can go stale, and a message is pushed only once it is committed, whichever
domain's transaction (a payment, a grading) stored it.
"""

import asyncio

import asyncpg
import msgspec
import structlog

from engine.messages import service as messages
from engine.messages.types import Pushed
from engine.sessions.hub import Hub
from engine.sessions.protocol import Notice

log = structlog.get_logger(__name__)

# How long a pass waits for a notification: each pass that ends shows the feed alive.
WAIT_S = 1.0

_decoder = msgspec.json.Decoder(Pushed)


class NoticeFeed:
    def __init__(self, hub: Hub, pool: asyncpg.Pool, url: str) -> None:
        self.hub = hub
        self.pool = pool
        self.url = url
        self.pending: list[str] = []
        self.heard = asyncio.Event()
        self.listening = asyncio.Event()
        self._connection: asyncpg.Connection | None = None
        self.pushed = 0

    async def step(self) -> None:
        """The background loop's pass: listen (again) if not listening, then push what came."""
        if self._connection is None or self._connection.is_closed():
            await self._listen()
        try:
            await asyncio.wait_for(self.heard.wait(), WAIT_S)
        except TimeoutError:
            return
        await self.run_once()

    async def run_once(self) -> int:
        """Push the notifications heard so far; how many frames were queued."""
        self.heard.clear()
        payloads, self.pending = self.pending, []
        pushed = []
        for payload in payloads:
            try:
                pushed.append(_decoder.decode(payload))
            except msgspec.DecodeError:
                log.error("notice not understood", payload=payload[:200])
        sockets = self.hub.learner_connections({item.learner for item in pushed})
        if not sockets:
            return 0
        unread = await messages.unread_counts(self.pool, list(sockets))
        sent = 0
        for item in pushed:
            for connection in sockets.get(item.learner, ()):
                connection.send(Notice(item.kind, item.title, item.body, unread[item.learner]))
                sent += 1
        self.pushed += sent
        return sent

    async def _listen(self) -> None:
        await self.close()
        connection = await asyncpg.connect(self.url)
        try:
            await connection.add_listener(messages.NOTICES_CHANNEL, self._hear)
        except BaseException:
            await connection.close()
            raise
        connection.add_termination_listener(self._lost)
        self._connection = connection
        self.listening.set()

    def _hear(self, connection: object, pid: int, channel: str, payload: object) -> None:
        self.pending.append(str(payload))
        self.heard.set()

    def _lost(self, connection: object) -> None:
        # Wake the pass: it finds the connection closed and listens again.
        self.listening.clear()
        self.heard.set()

    async def close(self) -> None:
        """Stop listening (before listening afresh, and on shutdown)."""
        self.listening.clear()
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()
