"""Hypothesis fuzz of /ws frames: any JSON, wrong types, huge numbers, unknown types, binary
frames, messages that look right with fields out of range. The server answers each with
protocol messages (`error` for whatever it cannot take) or closes with a defined code, the
next connection works, and nothing is stored."""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec
from aiohttp.test_utils import TestClient
from hypothesis import strategies as st

from engine.appkeys import DB, REDIS
from engine.sessions import protocol
from engine.settings import Settings
from tests.conftest import Clock, Learner, build_course, new_learner
from tests.integration.fuzzing import fuzz, json_values, stored
from web.app import create_portal

EXAMPLES = 250
CLIENT_TYPES = ["hello", "ping", "play", "beat", "stop"] + [
    f"exam.{verb}" for verb in ("join", "answer", "flag", "submit")
]
FIELDS = [
    "tab",
    "chapter",
    "position",
    "seq",
    "playing",
    "focused",
    "rate",
    "attempt",
    "question",
    "answer",
    "flagged",
]
SERVER_TYPES = {
    message.__struct_config__.tag
    for message in protocol.Message.__subclasses__()
    if message not in protocol.ClientMessage.__args__
}
# 1008: too many malformed frames; 1009: a frame over JIXU_WS_MAX_FRAME_BYTES.
CLOSE_CODES = {aiohttp.WSCloseCode.POLICY_VIOLATION, aiohttp.WSCloseCode.MESSAGE_TOO_BIG}
# Answers to a well-formed message that is not a refusal, for a learner who has nothing.
ANSWERS = {"hello": "welcome", "ping": "pong"}

Frame = tuple[str, str | bytes]


def frames(ids: list[int]) -> st.SearchStrategy[Frame]:
    field_values = json_values | st.sampled_from(ids) | st.lists(st.text(max_size=2), max_size=9)
    message_like = st.fixed_dictionaries(
        {"type": st.sampled_from(CLIENT_TYPES) | st.text(max_size=12)},
        optional=dict.fromkeys(FIELDS, field_values),
    )
    return st.one_of(
        well_typed(ids).map(lambda message: ("text", msgspec.json.encode(message).decode())),
        message_like.map(lambda message: ("text", msgspec.json.encode(message).decode())),
        json_values.map(lambda value: ("text", msgspec.json.encode(value).decode())),
        st.text(max_size=64).map(lambda text: ("text", text)),
        st.binary(max_size=64).map(lambda data: ("binary", data)),
        st.just(("text", '{"type": "ping", "pad": "' + "x" * 9000 + '"}')),
    )


def well_typed(ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    """Messages of every client type with fields of the right JSON types, values anywhere:
    ids that exist but are not the learner's, zero, negative, past 2**63."""
    numbers = st.sampled_from(ids) | st.integers(min_value=-2, max_value=2**64)
    seconds = numbers | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12)
    fields: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "hello": {"tab": st.text(max_size=80)},
        "ping": {},
        "play": {"chapter": numbers, "position": seconds | st.none()},
        "beat": {
            "seq": numbers,
            "position": seconds,
            "playing": st.booleans(),
            "focused": st.booleans(),
            "rate": seconds,
        },
        "stop": {"seq": numbers, "position": seconds},
        "exam.join": {"attempt": numbers},
        "exam.answer": {
            "attempt": numbers,
            "question": numbers,
            "answer": st.lists(st.text(max_size=2), max_size=9),
            "seq": numbers,
        },
        "exam.flag": {
            "attempt": numbers,
            "question": numbers,
            "flagged": st.booleans(),
            "seq": numbers | st.none(),
        },
        "exam.submit": {"attempt": numbers},
    }
    return st.one_of(
        [st.fixed_dictionaries({"type": st.just(kind), **typed}) for kind, typed in fields.items()]
    )


class Socket:
    """The fuzzing learner's socket, opened again whenever the server closes it."""

    def __init__(self, client: TestClient, learner: Learner) -> None:
        self.client = client
        self.learner = learner
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames = 0
        self.closes: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self.refusals = 0
        self.last_close: int | None = None

    async def open(self) -> aiohttp.ClientWebSocketResponse:
        if self.ws is None or self.ws.closed:
            self.ws = await self.client.ws_connect("/ws", headers=self.learner.headers)
        return self.ws

    async def reopen(self) -> aiohttp.ClientWebSocketResponse:
        """A new socket after the server closed the last: its lease is given back as the
        server finishes with it, a moment after the close frame; until then the learner's
        cap may still count it (429)."""
        for _ in range(50):
            try:
                return await self.open()
            except aiohttp.WSServerHandshakeError as exc:
                status = exc.status
            assert status == 429
            self.refusals += 1
            await asyncio.sleep(0.02)
        raise AssertionError("no new socket within a second of a close")

    async def check(self, frame: Frame) -> None:
        kind, data = frame
        ws = await self.reopen()
        self.frames += 1
        if kind == "binary":
            await ws.send_bytes(data)  # type: ignore[arg-type]
        else:
            await ws.send_str(data)  # type: ignore[arg-type]
        expected = _expected(kind, data)
        replies = await self.replies_until_pong(ws, answered_ping=expected == "pong")
        if replies is None:
            assert self.last_close in CLOSE_CODES, (frame, self.last_close)
            # The next connection works at once.
            assert await self.replies_until_pong(await self.reopen()) == []
            return
        for reply in replies:
            assert reply["type"] in SERVER_TYPES, reply
            if reply["type"] == "error":
                assert reply["code"] not in {"internal", "unavailable"}, reply
                assert reply["message"], reply
                self.errors[reply["code"]] = self.errors.get(reply["code"], 0) + 1
        assert [reply["type"] for reply in replies] == [expected], (frame, replies)

    async def replies_until_pong(
        self, ws: aiohttp.ClientWebSocketResponse, *, answered_ping: bool = False
    ) -> list[Any] | None:
        """What the server sends up to the pong of a ping sent now (after the pong of the
        fuzzed frame when it was a ping itself); None: it closed."""
        self.last_close = None
        # Closing already: its close frame is on the way.
        with contextlib.suppress(aiohttp.ClientConnectionResetError):
            await ws.send_str('{"type": "ping"}')
        replies = []
        while True:
            message = await ws.receive(timeout=10)
            if message.type is aiohttp.WSMsgType.TEXT:
                reply = msgspec.json.decode(message.data)
                if reply["type"] == "pong" and not answered_ping:
                    return replies
                answered_ping = answered_ping and reply["type"] != "pong"
                replies.append(reply)
                continue
            assert message.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}, message
            if message.type is aiohttp.WSMsgType.CLOSE:
                self.last_close = message.data
                self.closes[message.data] = self.closes.get(message.data, 0) + 1
            return None


def _expected(kind: str, data: str | bytes) -> str:
    """The one reply a frame gets: `error`, unless it is a well-formed hello or ping."""
    if kind == "binary":
        return "error"
    try:
        message = protocol.decoder.decode(data)
    except msgspec.DecodeError:
        return "error"
    return ANSWERS.get(message.__struct_config__.tag, "error")  # type: ignore[arg-type]


async def test_fuzzed_frames_get_errors_or_a_defined_close_and_store_nothing(
    aiohttp_client: Any,
    settings: Settings,
    clock: Clock,
    registration: Callable[..., dict[str, Any]],
) -> None:
    # A rate limit would answer most frames `rate_limited` before they are read.
    fast = msgspec.structs.replace(settings, ws_messages_per_s=100_000.0)
    client: TestClient = await aiohttp_client(create_portal(fast, clock=clock))
    learner = await new_learner(client, registration)
    course = await build_course(settings.database_url)  # not the learner's
    ids = [1, learner.id, course.plan_id, course.course_id, *course.chapters]
    before = await stored(client.app[DB], client.app[REDIS])
    socket = Socket(client, learner)

    ran = await fuzz(frames(ids), socket.check, examples=EXAMPLES)

    print(f"ws fuzz: {ran} frames; closes {socket.closes}; 429s {socket.refusals}; {socket.errors}")
    assert ran == socket.frames >= EXAMPLES // 2
    assert await stored(client.app[DB], client.app[REDIS]) == before
    assert await socket.replies_until_pong(await socket.open()) == []
