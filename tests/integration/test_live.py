"""The live operations view across two nodes sharing PostgreSQL and Redis: each publishes
its figures, any node's viewers see the whole cluster, and only super administrators may
subscribe."""

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import asyncpg
import msgspec
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import LIVE_PUBLISHER, LOGIN_SESSIONS, REDIS
from engine.kv import Batcher, create_redis
from engine.live.keys import FIGURES_KEY
from engine.live.scripts import flush_lag
from engine.progress.keys import STREAM
from engine.scripts import SCRIPTS
from engine.settings import Settings
from tests.admin_client import Browser
from tests.admin_world import insert_user
from tests.conftest import Clock, build_course, enrol, new_learner
from tests.integration.test_exams import Examinee, attempt_started
from tests.integration.test_progress_ws import Player
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]


async def node(aiohttp_client: Any, settings: Settings, clock: Clock, name: str) -> TestClient:
    portal = create_portal(msgspec.structs.replace(settings, node_id=name), clock=clock)
    client: TestClient = await aiohttp_client(portal)
    return client


async def socket_of(client: TestClient, user_id: int) -> aiohttp.ClientWebSocketResponse:
    token = await client.server.app[LOGIN_SESSIONS].create(user_id)
    return await client.ws_connect("/ws", headers={"Authorization": f"Bearer {token}"})


async def user(database_url: str, org_id: int, role: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return await insert_user(connection, org_id, role=role)
    finally:
        await connection.close()


async def figures_until(
    ws: aiohttp.ClientWebSocketResponse, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first `live.figures` frame whose figures are `wanted` (within 15 s)."""
    async with asyncio.timeout(15):
        while True:
            frame = await ws.receive_json()
            assert frame["type"] == "live.figures", frame
            if wanted(frame["figures"]):
                return frame["figures"]  # type: ignore[no-any-return]


def by_node(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["node"]: entry for entry in figures["nodes"]}


async def test_a_viewer_on_one_node_sees_a_learner_beat_on_the_other(
    aiohttp_client: Any,
    settings: Settings,
    clock: Clock,
    registration: Payload,
    database_url: str,
    org_id: int,
) -> None:
    one = await node(aiohttp_client, settings, clock, "n1")
    two = await node(aiohttp_client, settings, clock, "n2")
    viewer = await socket_of(two, await user(database_url, org_id, "super"))
    await viewer.send_json({"type": "live.subscribe"})
    # The viewer's own socket is online on n2 from the next second on.
    idle = await figures_until(
        viewer, lambda f: set(by_node(f)) == {"n1", "n2"} and by_node(f)["n2"]["learners"] == 1
    )
    assert idle["beats_accepted"] == 0

    learner = await new_learner(one, registration)
    course = await build_course(database_url, durations=(600.0,))
    await enrol(database_url, learner.id, course)
    player = Player(await one.ws_connect("/ws", headers=learner.headers), clock)
    await player.play(course.chapters[0])
    for _ in range(3):
        assert "reason" not in await player.beat()
    skipped = await player.beat(advance=300)  # a seek ahead earns nothing
    assert skipped["reason"] == "seek"

    moved = await figures_until(
        viewer,
        lambda f: (
            by_node(f).get("n1", {}).get("beats_accepted", 0) > 0
            and f["beats_refused"].get("seek", 0) > 0
        ),
    )
    nodes = by_node(moved)
    assert set(nodes) == {"n1", "n2"}
    assert (nodes["n1"]["learners"], nodes["n2"]["learners"]) == (1, 1)
    assert moved["learners"] == 2
    assert moved["beats_accepted"] == nodes["n1"]["beats_accepted"]
    assert nodes["n2"]["beats_accepted"] == 0
    assert moved["redis_ms"] > 0
    assert moved["postgres_ms"] > 0
    # The same counters /metrics shows.
    metrics = await (await one.get("/metrics")).text()
    assert 'jixu_beats_total{outcome="accepted"} 3.0' in metrics
    assert 'jixu_beats_total{outcome="seek"} 1.0' in metrics
    assert "jixu_learners_online 1.0" in metrics
    await one.close()
    await two.close()


async def test_exams_running_their_deadline_and_answers(
    aiohttp_client: Any,
    settings: Settings,
    clock: Clock,
    registration: Payload,
    database_url: str,
    org_id: int,
) -> None:
    one = await node(aiohttp_client, settings, clock, "n1")
    viewer = await socket_of(one, await user(database_url, org_id, "super"))
    await viewer.send_json({"type": "live.subscribe"})
    learner, attempt = await attempt_started(one, registration, database_url, clock)
    clock.advance(60)
    examinee = Examinee(await one.ws_connect("/ws", headers=learner.headers))
    await examinee.send({"type": "exam.join", "attempt": attempt["id"]})
    question = attempt["questions"][0]["id"]
    assert (await examinee.answer(attempt["id"], question, ["C"], 1))["type"] == "exam.saved"
    figures = await figures_until(viewer, lambda f: f["answers"] > 0)
    assert figures["exams_running"] == 1
    assert figures["next_deadline_s"] == (attempt["deadline_ms"] - clock.now_ms) / 1000
    await one.close()


async def test_a_node_that_stops_publishing_leaves_the_view(
    aiohttp_client: Any, settings: Settings, clock: Clock
) -> None:
    one = await node(aiohttp_client, settings, clock, "n1")
    two = await node(aiohttp_client, settings, clock, "n2")
    cluster = await two.server.app[LIVE_PUBLISHER].run_once()
    assert {entry.node for entry in cluster.nodes} == {"n1", "n2"}
    await one.close()
    clock.advance(5)  # past STALE_MS: n1's last figures are too old
    cluster = await two.server.app[LIVE_PUBLISHER].run_once()
    assert [entry.node for entry in cluster.nodes] == ["n2"]
    assert await two.server.app[REDIS].hkeys(FIGURES_KEY) == ["n2"]
    assert 0 < await two.server.app[REDIS].ttl(FIGURES_KEY) <= 10
    await two.close()


@pytest.mark.parametrize("role", ["learner", "teacher", "admin"])
async def test_only_a_super_administrator_may_subscribe(
    client: TestClient, database_url: str, org_id: int, role: str
) -> None:
    ws = await socket_of(client, await user(database_url, org_id, role))
    await ws.send_json({"type": "live.subscribe"})
    reply = await ws.receive_json(timeout=5)
    assert reply == {"type": "error", "code": "forbidden", "message": reply["message"]}
    # Nothing follows: the socket was not made a viewer.
    with pytest.raises(TimeoutError):
        await ws.receive_json(timeout=2.5)


async def test_an_unsubscribed_viewer_gets_no_more_figures(
    client: TestClient, database_url: str, org_id: int
) -> None:
    ws = await socket_of(client, await user(database_url, org_id, "super"))
    await ws.send_json({"type": "live.subscribe"})
    assert (await ws.receive_json(timeout=5))["type"] == "live.figures"
    await ws.send_json({"type": "live.unsubscribe"})
    await ws.send_json({"type": "ping"})
    # Frames queued before the unsubscribe may come first; then the pong, then nothing.
    while (reply := await ws.receive_json(timeout=5))["type"] != "pong":
        assert reply["type"] == "live.figures"
    with pytest.raises(TimeoutError):
        await ws.receive_json(timeout=2.5)


async def test_the_page_paints_the_figures_for_a_super_administrator_only(
    client: TestClient, database_url: str, org_id: int
) -> None:
    await client.server.app[LIVE_PUBLISHER].run_once()
    operator = await Browser.of(client, await user(database_url, org_id, "super"))
    page = await operator.get("/admin/live")
    assert page.status == 200
    text = await page.text()
    assert "运行监控" in text
    assert "/static/js/live.js" in text
    assert "notices.js" not in text  # the page's own socket shows no notices: one socket
    admin = await Browser.of(client, await user(database_url, org_id, "admin"))
    assert (await admin.get("/admin/live")).status == 403


async def test_the_flush_lag_is_the_oldest_unflushed_entrys_age(redis_url: str) -> None:
    redis = create_redis(redis_url)
    try:
        await SCRIPTS.load(redis)
        batcher = Batcher(redis, SCRIPTS)
        assert await flush_lag(batcher) == (0, 0.0)
        seconds, _ = await redis.time()
        await redis.xadd(STREAM, {"l": "1", "c": "1"}, id=f"{(seconds - 7) * 1000}-0")
        await redis.xadd(STREAM, {"l": "1", "c": "2"})
        entries, lag_s = await flush_lag(batcher)
        assert entries == 2
        assert 6 <= lag_s < 9
    finally:
        await redis.aclose()
