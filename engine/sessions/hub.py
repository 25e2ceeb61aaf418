"""The connections this node holds, and the bus that reaches connections on other nodes.

Each node subscribes to its own channel on one Redis pub/sub connection; a message for a
connection elsewhere (a superseded lease) is published to its node's channel.
The same connection hears the logins that end (`SESSIONS_ENDED_CHANNEL`, one channel for all
nodes: logouts are rare, and no record of which node holds whose sockets can go stale) and
the rooms' messages (`ROOMS_CHANNEL`: each published once, delivered by every node to the
members it holds, the same bytes to each).
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import msgspec
import structlog
from aiohttp import WSCloseCode
from redis.asyncio.client import PubSub

from engine.accounts.keys import SESSIONS_ENDED_CHANNEL
from engine.accounts.logins import SessionsEnded, session_digest
from engine.errors import TRANSIENT
from engine.kv import Redis
from engine.rooms.keys import ROOMS_CHANNEL
from engine.rooms.types import Seat
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


class RoomEnvelope(msgspec.Struct, frozen=True):
    room: str
    data: msgspec.Raw  # the frame every member of the room gets, encoded once
    seq: int = 0  # a message's (a hide has none)


# After the bus was lost: each room's frames after the seq this node relayed last.
CatchUp = Callable[[dict[str, int]], Awaitable[list[tuple[str, int, bytes]]]]


_envelope_decoder = msgspec.json.Decoder(Envelope)
_room_decoder = msgspec.json.Decoder(RoomEnvelope)
_ended_decoder = msgspec.json.Decoder(SessionsEnded)


class Hub:
    def __init__(self, redis: Redis, node_id: str, catch_up: CatchUp | None = None) -> None:
        self.redis = redis
        self.node_id = node_id
        self.connections: dict[str, Connection] = {}
        self.rooms: dict[str, dict[str, Connection]] = {}  # room → its members here, by id
        self.relayed: dict[str, int] = {}  # room → the highest seq its members here were sent
        self.catch_up = catch_up
        self.lost = False  # the bus lost its connection: what was published meanwhile is missed
        self.subscribed = asyncio.Event()
        self._pubsub: PubSub | None = None

    def add(self, connection: Connection) -> None:
        self.connections[connection.id] = connection

    def remove(self, connection: Connection) -> None:
        self.connections.pop(connection.id, None)
        for room in list(connection.rooms):
            self.leave(connection, room)

    def enter(self, connection: Connection, seat: Seat) -> None:
        """Make the connection a member of the seat's room on this node: from now on it gets
        every message the bus relays to the room."""
        connection.rooms[seat.room.name] = seat
        self.rooms.setdefault(seat.room.name, {})[connection.id] = connection

    def leave(self, connection: Connection, room: str) -> None:
        connection.rooms.pop(room, None)
        members = self.rooms.get(room)
        if members is not None:
            members.pop(connection.id, None)
            if not members:
                del self.rooms[room]
                self.relayed.pop(room, None)

    def joined(self, room: str, last_seq: int) -> None:
        """A member here read the room's history up to `last_seq`."""
        if room in self.rooms:
            self.relayed[room] = max(self.relayed.get(room, 0), last_seq)

    async def publish_room(self, room: str, message: Message, seq: int = 0) -> None:
        """Encode once and publish to every node (this one too: one path, one order per
        node). With Redis away, this node's members still get it; the others catch up."""
        data = encoder.encode(message)
        envelope = encoder.encode(RoomEnvelope(room, msgspec.Raw(data), seq))
        try:
            await self.redis.publish(ROOMS_CHANNEL, envelope)
        except TRANSIENT as exc:
            log.warning("room message not published; members elsewhere catch up", error=repr(exc))
            self._deliver_room(room, data, seq)

    def _deliver_room(self, room: str, data: bytes, seq: int) -> None:
        members = self.rooms.get(room)
        if not members:
            return
        if seq:
            self.relayed[room] = max(self.relayed.get(room, 0), seq)
        # A copy of the members: a slow one is closed (and so leaves) while we iterate.
        for connection in list(members.values()):
            connection.send_raw(data)

    async def _catch_up(self) -> None:
        """Send the members here what was published while the bus was away (clients keep
        one of each seq, so what also came live is harmless)."""
        if self.catch_up is not None and self.relayed:
            missed = await self.catch_up(dict(self.relayed))
            for room, seq, data in missed:
                self._deliver_room(room, data, seq)
            log.info("bus back: room members sent what they missed", messages=len(missed))
        self.lost = False

    def learner_connections(self, learner_ids: set[int]) -> dict[int, list[Connection]]:
        """This node's sockets of these learners. A scan, not an index: it runs once per batch
        of notices, and an index would cost memory on every one of tens of thousands of
        sockets."""
        found: dict[int, list[Connection]] = {}
        for connection in self.connections.values():
            if connection.learner_id in learner_ids:
                found.setdefault(connection.learner_id, []).append(connection)
        return found

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
        if self.lost:
            await self._catch_up()
        try:
            item = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=wait_s)
        except BaseException:
            # The connection may be lost or out of step: the next pass subscribes afresh.
            self.lost = True
            await self.unsubscribe()
            raise
        if item is None:
            return False
        try:
            if item["channel"] == ROOMS_CHANNEL:
                room = _room_decoder.decode(item["data"])
                self._deliver_room(room.room, bytes(room.data), room.seq)
            elif item["channel"] == SESSIONS_ENDED_CHANNEL:
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
            await pubsub.subscribe(
                node_channel(self.node_id), SESSIONS_ENDED_CHANNEL, ROOMS_CHANNEL
            )
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
