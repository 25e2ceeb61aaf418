"""A connection's send queue: a client too far behind is dropped, never waited for; and its
playback state."""

import asyncio
from typing import Any

import pytest

from engine.errors import DomainError
from engine.progress.types import CourseTally
from engine.sessions.connection import TOO_SLOW, Connection, Playback, PlaybackState
from engine.sessions.protocol import Pong


class StalledSocket:
    """An in-memory websocket whose peer never reads: every send waits forever."""

    def __init__(self) -> None:
        self.closed = False
        self.close_code: int | None = None
        self.sent = 0

    async def send_frame(self, data: bytes, opcode: Any) -> None:
        self.sent += 1
        await asyncio.Event().wait()

    async def close(self, *, code: int, message: bytes = b"") -> bool:
        self.closed, self.close_code = True, code
        return True


def connect(socket: Any, conn_id: str, *, messages_per_s: float = 10) -> Connection:
    """A connection of learner 1 over an in-memory socket, its send queue 4 frames long."""
    return Connection(
        socket,
        conn_id=conn_id,
        learner_id=1,
        token="t",
        queue_size=4,
        messages_per_s=messages_per_s,
    )


async def test_a_client_too_far_behind_is_disconnected() -> None:
    socket = StalledSocket()
    connection = connect(socket, "c1")
    for _ in range(10):
        connection.send(Pong(server_now_ms=0))  # returns at once, whatever the socket does
    assert connection.closing is not None
    await connection.closing
    assert socket.close_code == TOO_SLOW
    assert socket.sent == 1
    await connection.finish()


class ReadingSocket:
    """An in-memory websocket whose peer reads every frame."""

    closed = False

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    async def send_frame(self, data: bytes, opcode: Any) -> None:
        self.frames.append(data)
        await asyncio.sleep(0)


async def test_the_writer_runs_only_while_frames_are_queued() -> None:
    socket = ReadingSocket()
    connection = connect(socket, "c3")
    assert connection.writer is None
    connection.send(Pong(server_now_ms=1))
    connection.send(Pong(server_now_ms=2))
    writer = connection.writer
    assert writer is not None
    await writer
    assert connection.writer is None  # an idle socket keeps no task
    connection.send(Pong(server_now_ms=3))
    await connection.finish()
    assert socket.frames == [
        b'{"type":"pong","server_now_ms":1}',
        b'{"type":"pong","server_now_ms":2}',
        b'{"type":"pong","server_now_ms":3}',
    ]


async def test_the_message_rate_is_a_token_bucket() -> None:
    connection = connect(StalledSocket(), "c2", messages_per_s=5)
    allowed = [connection.allow() for _ in range(20)]
    assert allowed.count(True) == 10  # a burst of two seconds' worth


PLAYBACK = Playback(1, 2.0, CourseTally(total_s=600, others_covered_s=0, others_complete=False))


def test_playback_is_held_only_while_playing() -> None:
    connection = connect(StalledSocket(), "c4")
    assert connection.playback_state is PlaybackState.IDLE
    with pytest.raises(DomainError) as idle:
        _ = connection.playback
    assert idle.value.code == "not_playing"
    first, second = PLAYBACK, Playback(2, 1.0, PLAYBACK.course)
    connection.start_playing(first)
    assert (connection.playback_state, connection.playback) == (PlaybackState.PLAYING, first)
    connection.start_playing(second)  # `play` on another chapter moves the playback
    assert connection.playback == second
    connection.stop_playing()
    assert connection.playback_state is PlaybackState.IDLE
    with pytest.raises(RuntimeError):
        connection.stop_playing()  # an idle socket has nothing to stop
