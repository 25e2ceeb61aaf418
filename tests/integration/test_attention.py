"""Check-ins owned by the server, and the blur grace, over real websockets on real stores."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.progress.attention import ANSWER_MS
from engine.settings import Settings
from tests.conftest import Clock, Course, Learner, build_course, enrol, new_learner
from tests.integration.test_progress_ws import Player, connect, own_node

Payload = Callable[..., dict[str, Any]]

# Check-ins every 20 s of playback on average: each falls 15-25 s after the last.
INTERVAL_S = 20
LATEST_S = 2 * INTERVAL_S - 15


async def settle(player: Player) -> list[dict[str, Any]]:
    """What the server sent unprompted after the last reply: a ping's pong comes after it."""
    await player.ws.send_json({"type": "ping"})
    frames = []
    while (frame := await player.receive())["type"] != "pong":
        frames.append(frame)
    return frames


async def beat_until_checked(player: Player, limit_s: float) -> tuple[float, dict[str, Any]]:
    """Beat honestly until the server asks for a check-in; the credit earned, and the check."""
    credited = 0.0
    for _ in range(round(limit_s / 5) + 2):
        ack = await player.beat()
        credited += ack["credited_s"]
        checks = [frame for frame in await settle(player) if frame["type"] == "attention.check"]
        if checks:
            return credited, checks[0]
    raise AssertionError(f"no check-in after {credited} s of playback")


Nodes = Callable[..., Awaitable[TestClient]]


@pytest.fixture
async def nodes(aiohttp_client: Any, settings: Settings, clock: Clock) -> AsyncIterator[Nodes]:
    """Nodes on the shared stores for a scripted learner, who beats far faster than a real
    one may; closed before the test's database is dropped."""
    made: list[TestClient] = []

    async def make(**changes: Any) -> TestClient:
        node = await own_node(aiohttp_client, settings, clock, ws_messages_per_s=1000, **changes)
        made.append(node)
        return node

    yield make
    for node in made:
        await node.close()


@pytest.fixture
async def node(nodes: Nodes) -> TestClient:
    return await nodes(attention_interval_s=INTERVAL_S)


@pytest.fixture
async def learner(node: TestClient, registration: Payload) -> Learner:
    return await new_learner(node, registration)


@pytest.fixture
async def course(database_url: str, learner: Learner) -> Course:
    course = await build_course(database_url, durations=(600.0,))
    await enrol(database_url, learner.id, course)
    return course


async def test_a_learner_ignoring_check_ins_stops_earning_until_answering(
    node: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(node, learner, clock)
    await player.play(course.chapters[0])
    credited, check = await beat_until_checked(player, LATEST_S)
    assert 15 <= credited <= LATEST_S + 5  # the beat that asks still earns its interval
    assert check["expires_ms"] == clock.now_ms + ANSWER_MS
    # A script that plays on regardless earns nothing, however long.
    for _ in range(12):
        ack = await player.beat()
        assert (ack["credited_s"], ack["reason"]) == (0, "check_pending")
        assert ack["hwm"] == pytest.approx(credited)
    assert await settle(player) == []  # asked once
    clock.advance(3)
    assert await player.send({"type": "attention.answer", "id": check["id"]}) == {
        "type": "attention.ok",
        "id": check["id"],
    }
    # Credit resumes from the answer, not from the beat before it.
    ack = await player.beat()
    assert ack["credited_s"] == pytest.approx(5.0)
    assert ack["hwm"] == pytest.approx(credited + 5)
    # ... until the next check-in, drawn afresh.
    more, again = await beat_until_checked(player, LATEST_S)
    assert again["id"] != check["id"]
    assert 15 - 5 <= more <= LATEST_S


async def test_forged_replayed_or_foreign_answers_do_nothing(
    node: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(node, learner, clock)
    idle = await connect(node, learner, clock)
    forged = {"type": "attention.answer", "id": "0123456789abcdef"}
    assert (await idle.send(forged))["code"] == "unknown"  # not playing: nothing to answer
    await player.play(course.chapters[0])
    assert (await player.send(forged))["code"] == "unknown"  # nothing asked yet
    _, check = await beat_until_checked(player, LATEST_S)
    answer = {"type": "attention.answer", "id": check["id"]}
    refused = await player.send(forged)
    assert refused["type"] == "error"
    assert refused["code"] == "unknown"
    assert refused["message"]
    assert (await player.beat())["reason"] == "check_pending"
    assert (await player.send(answer))["type"] == "attention.ok"
    assert (await player.send(answer))["code"] == "unknown"  # single use
    assert (await player.beat())["credited_s"] == pytest.approx(5.0)
    for bad in ({"type": "attention.answer"}, {"type": "attention.answer", "id": "x" * 100}):
        assert (await player.send(bad))["code"] == "bad_message"


async def test_a_check_in_survives_reconnecting_to_another_node(
    node: TestClient,
    nodes: Nodes,
    learner: Learner,
    course: Course,
    clock: Clock,
) -> None:
    other = await nodes(attention_interval_s=INTERVAL_S)
    first = await connect(node, learner, clock)
    await first.play(course.chapters[0])
    credited, check = await beat_until_checked(first, LATEST_S)
    # `stop` gives the lease up, not the check-in; nor does the socket closing.
    clock.advance(1)
    await first.send({"type": "stop", "seq": first.seq + 1, "position": first.position})
    await first.ws.close()
    second = await connect(other, learner, clock)
    playing = await second.play(course.chapters[0])
    assert playing["hwm"] == pytest.approx(credited)
    assert await settle(second) == [
        {"type": "attention.check", "id": check["id"], "expires_ms": check["expires_ms"]}
    ]
    assert (await second.beat())["reason"] == "check_pending"
    assert (await second.send({"type": "attention.answer", "id": check["id"]}))[
        "type"
    ] == "attention.ok"
    assert (await second.beat())["credited_s"] == pytest.approx(5.0)


async def test_an_expired_check_in_needs_a_new_play(
    node: TestClient, learner: Learner, course: Course, clock: Clock
) -> None:
    player = await connect(node, learner, clock)
    await player.play(course.chapters[0])
    credited, check = await beat_until_checked(player, LATEST_S)
    clock.advance(ANSWER_MS / 1000)
    expired = await player.send({"type": "attention.answer", "id": check["id"]})
    assert (expired["type"], expired["code"]) == ("error", "expired")
    assert (await player.beat())["credited_s"] == 0
    await player.play(course.chapters[0])
    [renewed] = await settle(player)
    assert renewed["type"] == "attention.check"
    assert renewed["id"] != check["id"]
    assert renewed["expires_ms"] == clock.now_ms + ANSWER_MS
    assert (await player.beat())["reason"] == "check_pending"
    assert (await player.send({"type": "attention.answer", "id": check["id"]}))["code"] == (
        "unknown"
    )
    assert (await player.send({"type": "attention.answer", "id": renewed["id"]}))[
        "type"
    ] == "attention.ok"
    ack = await player.beat()
    assert ack["credited_s"] == pytest.approx(5.0)
    assert ack["hwm"] == pytest.approx(credited + 5)


async def test_no_check_in_when_they_are_off(
    nodes: Nodes, registration: Payload, database_url: str, clock: Clock
) -> None:
    client = await nodes()
    learner = await new_learner(client, registration)
    course = await build_course(database_url, durations=(600.0,))
    await enrol(database_url, learner.id, course)
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    for _ in range(40):
        assert "reason" not in await player.beat()
    assert await settle(player) == []


async def test_a_short_blur_costs_nothing_once_a_long_one_does(
    nodes: Nodes, registration: Payload, database_url: str, clock: Clock
) -> None:
    """The default grace: 1.5 s, at most once in 900 s (check-ins off)."""
    client = await nodes()
    learner = await new_learner(client, registration)
    course = await build_course(database_url, durations=(600.0,))
    await enrol(database_url, learner.id, course)
    player = await connect(client, learner, clock)
    await player.play(course.chapters[0])
    assert (await player.beat())["credited_s"] == pytest.approx(5.0)
    # A 1 s blur, with a beat of the interval in the middle of it: all of it counts.
    assert (await player.beat(after=2.0, focused=False))["credited_s"] == pytest.approx(2.0)
    assert (await player.beat(after=0.5, focused=False))["reason"] == "unfocused"
    graced = await player.beat(after=0.5)
    assert "reason" not in graced
    assert graced["hwm"] == pytest.approx(8.0)
    assert (await player.beat())["hwm"] == pytest.approx(13.0)
    # A second short blur within the grace window is not forgiven.
    await player.beat(after=1.0, focused=False)
    assert (await player.beat(after=1.0))["reason"] == "unfocused"
    # A 10 s blur: the player pauses once the grace has passed; none of the 10 s counts.
    clock.advance(900)
    await player.play(course.chapters[0])
    assert (await player.beat())["credited_s"] == pytest.approx(5.0)
    before = (await player.beat(after=0.0, focused=False))["hwm"]
    assert (await player.beat(after=1.5, focused=False, playing=False))["reason"] == "unfocused"
    back = await player.beat(after=8.5, advance=0.0, focused=True, playing=False)
    assert (back["credited_s"], back["reason"]) == (0, "paused")
    assert back["hwm"] == pytest.approx(before)
