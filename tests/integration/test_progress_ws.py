"""The progress core over a real websocket: what earns credit and what does not."""

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.appkeys import FLUSHER, LOGIN_SESSIONS, PROGRESS
from engine.settings import Settings
from tests.conftest import Clock, Course, Learner, build_course, enrol, new_learner
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]


async def close_code(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    """Read until the server closes the socket; the code it closed with."""
    async for _ in ws:
        pass
    return ws.close_code


class Player:
    """A scripted player speaking the protocol, with the test's hand on the server clock."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, clock: Clock) -> None:
        self.ws = ws
        self.clock = clock
        self.seq = 0
        self.position = 0.0

    async def send(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.ws.send_json(message)
        return await self.receive()

    async def receive(self) -> dict[str, Any]:
        reply: dict[str, Any] = await self.ws.receive_json(timeout=5)
        return reply

    async def play(self, chapter: int, position: float | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "play", "chapter": chapter}
        if position is not None:
            message["position"] = position
        reply = await self.send(message)
        if reply["type"] == "playing":
            self.position = reply["position"]
        return reply

    async def beat(
        self,
        *,
        after: float = 5.0,
        advance: float | None = None,
        playing: bool = True,
        focused: bool = True,
        rate: float = 1.0,
        seq: int | None = None,
    ) -> dict[str, Any]:
        self.clock.advance(after)
        self.position += after * rate if advance is None else advance
        self.seq = self.seq + 1 if seq is None else seq
        reply = await self.send(
            {
                "type": "beat",
                "seq": self.seq,
                "position": self.position,
                "playing": playing,
                "focused": focused,
                "rate": rate,
            }
        )
        if "seek_to" in reply:  # as the real player does
            self.position = reply["seek_to"]
        return reply


@pytest.fixture
async def learner(client: TestClient, registration: Payload) -> Learner:
    return await new_learner(client, registration)


@pytest.fixture
async def course(database_url: str, learner: Learner) -> Course:
    course = await build_course(database_url, durations=(60.0, 30.0))
    await enrol(database_url, learner.id, course)
    return course


async def own_node(
    aiohttp_client: Any, settings: Settings, clock: Clock, **changes: Any
) -> TestClient:
    """A portal of the test's own (to shut down, or with other settings), on `clock`."""
    node: TestClient = await aiohttp_client(
        create_portal(msgspec.structs.replace(settings, **changes), clock=clock)
    )
    return node


async def connect(client: TestClient, learner: Learner, clock: Clock) -> Player:
    ws = await client.ws_connect("/ws", headers=learner.headers)
    return Player(ws, clock)


async def test_hello_and_ping(client: TestClient, learner: Learner, clock: Clock) -> None:
    player = await connect(client, learner, clock)
    welcome = await player.send({"type": "hello", "tab": "t1"})
    assert welcome["type"] == "welcome"
    assert welcome["server_now_ms"] == clock.now_ms
    assert await player.send({"type": "ping"}) == {"type": "pong", "server_now_ms": clock.now_ms}


async def test_honest_playback_credits_wall_time(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    playing = await player.play(course.chapters[0])
    assert playing == {
        "type": "playing",
        "chapter": course.chapters[0],
        "lease": playing["lease"],
        "position": 0.0,
        "hwm": 0.0,
        "duration_s": 60.0,
        "interval_ms": 5000,
        "max_rate": 1.0,
        "chapter_progress": 0,
        "course_progress": 0,
        "blur_grace_ms": 1500,
    }
    credited = 0.0
    for _ in range(6):
        ack = await player.beat()
        assert ack["type"] == "ack"
        assert "reason" not in ack
        credited += ack["credited_s"]
    assert credited == pytest.approx(30.0)
    assert ack["hwm"] == pytest.approx(30.0)
    assert ack["chapter_progress"] == 50
    assert ack["course_progress"] == 33


async def test_double_speed_credits_at_most_real_time(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    credited = 0.0
    for _ in range(4):
        ack = await player.beat(rate=2.0)
        credited += ack["credited_s"]
        if "seek_to" in ack:
            assert ack["reason"] == "too_fast"
    assert credited <= 20.0 + 2.0


async def test_forward_seek_earns_nothing_and_is_sent_back(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    await player.beat()
    ack = await player.beat(advance=40.0)
    assert ack["credited_s"] == 0
    assert ack["reason"] == "seek"
    assert ack["seek_to"] == pytest.approx(5.0)
    assert ack["hwm"] == pytest.approx(5.0)


async def test_backward_seek_is_allowed_but_rewatching_earns_nothing(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    for _ in range(4):
        await player.beat()
    ack = await player.beat(after=0.1, advance=-15.0)
    assert ack["reason"] == "seek"
    assert "seek_to" not in ack
    ack = await player.beat()
    assert ack["credited_s"] == 0
    assert ack["reason"] == "rewatch"
    assert ack["position"] == pytest.approx(10.0)


async def test_replayed_seq_earns_nothing(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    await player.beat()
    ack = await player.beat(seq=1)
    assert ack["credited_s"] == 0
    assert ack["reason"] == "replay"
    assert ack["hwm"] == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("flags", "reason"),
    [({"playing": False}, "paused"), ({"focused": False}, "unfocused")],
    ids=["paused", "unfocused"],
)
async def test_paused_or_unfocused_time_earns_nothing(
    client: TestClient,
    learner: Learner,
    course: Course,
    clock: Clock,
    flags: dict[str, bool],
    reason: str,
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    assert (await player.beat())["credited_s"] == pytest.approx(5.0)
    # The beat that reports the pause still credits the playing interval before it.
    await player.beat(advance=0.0, **flags)
    for _ in range(3):
        ack = await player.beat(advance=0.0 if "playing" in flags else None, **flags)
        assert ack["credited_s"] == 0
        assert ack["reason"] == reason
    assert ack["hwm"] <= 10.0 + 1e-6


async def test_playing_on_while_unfocused_must_be_watched_again(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    await player.beat(focused=False)
    ack = await player.beat(focused=False)
    assert ack["credited_s"] == 0
    assert ack["seek_to"] == pytest.approx(5.0)


async def test_a_long_gap_earns_nothing_for_the_gap(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    await player.beat()
    ack = await player.beat(after=120.0, advance=5.0)
    assert ack["credited_s"] == 0
    assert ack["reason"] == "gap"
    ack = await player.beat()
    assert ack["credited_s"] == pytest.approx(5.0)


async def test_a_second_tab_supersedes_the_first(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    first = await connect(client, learner, clock)
    await first.play(course.chapters[0])
    await first.beat()
    second = await connect(client, learner, clock)
    second_playing = await second.play(course.chapters[1])
    assert second_playing["type"] == "playing"
    assert await first.receive() == {"type": "superseded", "chapter": course.chapters[1]}
    ack = await first.beat()
    assert ack["credited_s"] == 0
    assert ack["reason"] == "superseded"
    assert (await second.beat())["credited_s"] == pytest.approx(5.0)


async def test_stop_releases_the_lease(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    await player.beat()
    clock.advance(2)
    final = await player.send({"type": "stop", "seq": 2, "position": 7.0})
    assert final["type"] == "ack"
    assert final["credited_s"] == pytest.approx(2.0)
    error = await player.send(
        {"type": "beat", "seq": 3, "position": 8, "playing": True, "focused": True}
    )
    assert error["type"] == "error"
    assert error["code"] == "not_playing"
    other = await connect(client, learner, clock)
    playing = await other.play(course.chapters[0])
    assert playing["position"] == pytest.approx(7.0)
    assert playing["hwm"] == pytest.approx(7.0)
    await player.ws.send_json({"type": "ping"})
    assert (await player.receive())["type"] == "pong"  # no `superseded` before it


async def test_play_is_refused_for_a_course_not_selected(
    client: TestClient, learner: Learner, database_url: str, clock: Clock
) -> None:
    other = await build_course(database_url)
    player = await connect(client, learner, clock)
    reply = await player.play(other.chapters[0])
    assert reply["type"] == "error"
    assert reply["code"] == "forbidden"
    assert reply["message"]


async def test_play_is_refused_when_the_plan_is_closed(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    import asyncpg

    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "UPDATE plans SET closes_at = '2001-01-01' WHERE id = $1", course.plan_id
    )
    await connection.close()
    player = await connect(client, learner, clock)
    reply = await player.play(course.chapters[0])
    assert reply["code"] == "forbidden"


async def test_resume_and_restart_positions(
    client: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    for _ in range(3):
        await player.beat()
    await player.ws.close()
    again = await connect(client, learner, clock)
    assert (await again.play(course.chapters[0]))["position"] == pytest.approx(15.0)
    assert (await again.play(course.chapters[0], position=0))["position"] == 0
    # Starting beyond what was watched is not possible.
    assert (await again.play(course.chapters[0], position=50))["position"] == pytest.approx(15.0)


async def test_malformed_frames_get_an_error_and_the_socket_stays(
    client: TestClient, learner: Learner, clock: Clock
) -> None:
    player = await connect(client, learner, clock)
    for frame in ("not json", '{"type": "nope"}', '{"type": "beat", "seq": -1}', "[]"):
        await player.ws.send_str(frame)
        reply = await player.receive()
        assert reply["type"] == "error"
        assert reply["code"] == "bad_message"
    assert (await player.send({"type": "ping"}))["type"] == "pong"


async def test_a_socket_sending_only_garbage_is_closed(
    client: TestClient, learner: Learner, clock: Clock
) -> None:
    ws = await client.ws_connect("/ws", headers=learner.headers)
    for _ in range(10):
        await ws.send_str("garbage")
    assert await close_code(ws) == aiohttp.WSCloseCode.POLICY_VIOLATION


async def test_message_rate_is_limited(client: TestClient, learner: Learner, clock: Clock) -> None:
    player = await connect(client, learner, clock)
    for _ in range(40):
        await player.ws.send_json({"type": "ping"})
    replies = [await player.receive() for _ in range(40)]
    assert any(reply.get("code") == "rate_limited" for reply in replies)


async def test_socket_needs_a_login_and_an_allowed_origin(
    client: TestClient, learner: Learner
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws")
    assert refused.value.status == 401
    client.session.cookie_jar.update_cookies({"jixu_session": learner.token})
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        await client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert foreign.value.status == 403
    ws = await client.ws_connect("/ws", headers={"Origin": f"http://{client.host}:{client.port}"})
    await ws.close()


async def test_flushed_progress_reaches_postgres(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    import asyncpg

    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    for _ in range(4):
        await player.beat()
    while await client.app[FLUSHER].run_once() > 0:
        pass
    connection = await asyncpg.connect(database_url)
    row = await connection.fetchrow(
        "SELECT hwm_s, position_s, complete FROM chapter_progress WHERE learner_id = $1",
        learner.id,
    )
    await connection.close()
    assert row["hwm_s"] == pytest.approx(20.0)
    assert row["position_s"] == pytest.approx(20.0)
    assert row["complete"] is False


async def test_an_oversized_frame_closes_the_socket(
    client: TestClient, learner: Learner, clock: Clock
) -> None:
    ws = await client.ws_connect("/ws", headers=learner.headers)
    await ws.send_str('{"type": "hello", "tab": "' + "x" * 20_000 + '"}')
    assert await close_code(ws) == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_shutdown_closes_sockets_as_going_away(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload
) -> None:
    node = await own_node(aiohttp_client, settings, clock)
    learner = await new_learner(node, registration)
    ws = await node.ws_connect("/ws", headers=learner.headers)
    await ws.send_json({"type": "ping"})
    await ws.receive_json(timeout=5)
    # The server alone shuts down (closing the client would close the socket from this side).
    closing = asyncio.ensure_future(node.server.close())
    assert await close_code(ws) == aiohttp.WSCloseCode.GOING_AWAY
    await closing
    await node.close()


async def test_a_socket_whose_login_ended_is_closed(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload
) -> None:
    node = await own_node(aiohttp_client, settings, clock, ws_auth_recheck_s=0)
    learner = await new_learner(node, registration)
    ws = await node.ws_connect("/ws", headers=learner.headers)
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json(timeout=5))["type"] == "pong"
    await node.post("/api/v1/auth/logout", headers=learner.headers)
    await ws.send_json({"type": "ping"})
    assert await close_code(ws) == 4001
    await node.close()


async def test_a_login_re_check_redis_cannot_answer_keeps_the_socket(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload
) -> None:
    """An overloaded Redis fails the re-check: the socket stays and asks again next time."""
    node = await own_node(aiohttp_client, settings, clock, ws_auth_recheck_s=0)
    learner = await new_learner(node, registration)
    ws = await node.ws_connect("/ws", headers=learner.headers)
    sessions = node.app[LOGIN_SESSIONS]
    resolve = sessions.resolve

    async def unavailable(token: str) -> int | None:
        raise RedisConnectionError("No connection available.")

    sessions.resolve = unavailable
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json(timeout=5))["type"] == "pong"
    # Once Redis answers again, the re-check is made, and an ended login still ends it.
    sessions.resolve = resolve
    await node.post("/api/v1/auth/logout", headers=learner.headers)
    await ws.send_json({"type": "ping"})
    assert await close_code(ws) == 4001
    await node.close()


async def test_a_store_that_cannot_answer_gets_unavailable(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload
) -> None:
    node = await own_node(aiohttp_client, settings, clock)
    learner = await new_learner(node, registration)
    ws = await node.ws_connect("/ws", headers=learner.headers)

    async def overloaded(*args: Any, **kwargs: Any) -> None:
        raise RedisTimeoutError("Timeout reading from socket")

    node.app[PROGRESS].play = overloaded
    await ws.send_json({"type": "play", "chapter": 1})
    reply = await ws.receive_json(timeout=5)
    assert reply == {"type": "error", "code": "unavailable", "message": "服务器繁忙，请稍后再试"}
    await ws.send_json({"type": "ping"})  # the socket stays
    assert (await ws.receive_json(timeout=5))["type"] == "pong"
    await node.close()


async def test_an_upgrade_redis_cannot_check_gets_503(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload
) -> None:
    """The upgrade skips the middlewares, so it answers a store outage itself: 503, not 500."""
    node = await own_node(aiohttp_client, settings, clock)
    learner = await new_learner(node, registration)

    async def unavailable(token: str) -> int | None:
        raise RedisConnectionError("No connection available.")

    node.app[LOGIN_SESSIONS].resolve = unavailable
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await node.ws_connect("/ws", headers=learner.headers)
    assert refused.value.status == 503
    await node.close()
