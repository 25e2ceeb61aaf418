"""The connections this node holds, and the bus that reaches connections on other nodes.

Each node subscribes to its own channel on one Redis pub/sub connection; a message for a
connection elsewhere (a superseded lease, later chat) is published to its node's channel.
The same connection hears the logins that end (`SESSIONS_ENDED_CHANNEL`, one channel for all
nodes: logouts are rare, and no record of which node holds whose sockets can go stale).
"""

import asyncio
from collections.abc import Sequence

import msgspec
import structlog
from aiohttp import WSCloseCode
from redis.asyncio.client import PubSub

from engine.accounts.keys import SESSIONS_ENDED_CHANNEL
from engine.accounts.logins import SessionsEnded, session_digest
from engine.kv import Redis
from engine.sessions.connection import LOST_AUTHENTICATION, Connection
from engine.sessions.protocol import ExamResult, Message, encoder

log = structlog.get_logger(__name__)

# How long a pass of the bus waits for a message: each pass that ends shows the bus alive.
RELAY_WAIT_S = 1.0


def node_channel(node_id: str) -> str:
    """Pub/sub channel `node:<id>`: messages for the connections one node holds."""
    return f"node:{node_id}"


class Envelope(msgspec.Struct, frozen=True):
    conn: str
    data: msgspec.Raw
    finished: int | None = None  # the attempt an `exam.result` in `data` is for


_envelope_decoder = msgspec.json.Decoder(Envelope)
_ended_decoder = msgspec.json.Decoder(SessionsEnded)


class Hub:
    def __init__(self, redis: Redis, node_id: str) -> None:
        self.redis = redis
        self.node_id = node_id
        self.connections: dict[str, Connection] = {}
        self.subscribed = asyncio.Event()
        self._pubsub: PubSub | None = None

    def add(self, connection: Connection) -> None:
        self.connections[connection.id] = connection

    def remove(self, connection: Connection) -> None:
        self.connections.pop(connection.id, None)

    async def send_to(self, node_id: str, conn_id: str, message: Message) -> None:
        """Deliver to a connection on whichever node holds it; gone connections are ignored."""
        await self.send_many([(node_id, conn_id, message)])

    async def send_many(self, deliveries: Sequence[tuple[str, str, Message]]) -> None:
        """Deliver each (node id, connection id, message); what goes to other nodes is
        published in one round trip."""
        published = []
        for node_id, conn_id, message in deliveries:
            data = encoder.encode(message)
            finished = message.attempt if isinstance(message, ExamResult) else None
            if node_id == self.node_id:
                self._deliver(conn_id, data, finished)
            elif node_id:
                envelope = encoder.encode(Envelope(conn_id, msgspec.Raw(data), finished))
                published.append((node_channel(node_id), envelope))
        if published:
            async with self.redis.pipeline(transaction=False) as pipe:
                for channel, envelope in published:
                    # Not `pipe.publish`, which redis-py refuses in a cluster's pipeline: the
                    # command itself is fine on any node (README: Redis Cluster).
                    pipe.execute_command("PUBLISH", channel, envelope)
                await pipe.execute()

    def _deliver(self, conn_id: str, data: bytes, finished: int | None) -> None:
        """Send the frame; an attempt's result also ends its ticks on this socket."""
        connection = self.connections.get(conn_id)
        if connection is not None:
            if finished is not None:
                connection.exams.pop(finished, None)
            connection.send_raw(data)

    async def relay_once(self, wait_s: float = RELAY_WAIT_S) -> bool:
        """The bus's pass: relay the next message published to this node's channel, waiting
        up to `wait_s`; whether one came. Subscribes first when not subscribed."""
        if self._pubsub is None:
            self._pubsub = await self._subscribe()
        try:
            item = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=wait_s)
        except BaseException:
            # The connection may be lost or out of step: the next pass subscribes afresh.
            await self.unsubscribe()
            raise
        if item is None:
            return False
        try:
            if item["channel"] == SESSIONS_ENDED_CHANNEL:
                self._close_ended(_ended_decoder.decode(item["data"]))
            else:
                envelope = _envelope_decoder.decode(item["data"])
                self._deliver(envelope.conn, bytes(envelope.data), envelope.finished)
        except msgspec.DecodeError:
            log.error("bus message not understood", data=str(item["data"])[:200])
        return True

    def _close_ended(self, ended: SessionsEnded) -> None:
        """Close the sockets these logins authenticated: they must not hear one more push."""
        digests = set(ended.digests)
        for connection in list(self.connections.values()):
            if connection.learner_id == ended.user_id and (
                session_digest(connection.token) in digests
            ):
                connection.close(LOST_AUTHENTICATION, "session ended")

    async def _subscribe(self) -> PubSub:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(node_channel(self.node_id), SESSIONS_ENDED_CHANNEL)
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        self.subscribed.set()
        return pubsub

    async def unsubscribe(self) -> None:
        """Close the bus's connection (after a failure, and on shutdown)."""
        self.subscribed.clear()
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close_all(self) -> None:
        """On shutdown: tell every client this node is going away."""
        connections = list(self.connections.values())
        for connection in connections:
            connection.close(WSCloseCode.GOING_AWAY, "server shutdown")
        await asyncio.gather(*(c.finish() for c in connections), return_exceptions=True)
