"""From Redis to PostgreSQL: the flusher, completion, hours, and several nodes at once."""

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import BATCHER, FLUSHER, REDIS
from engine.progress import keys
from engine.progress.flusher import Flusher
from engine.settings import Settings
from tests.conftest import Clock, Learner, build_course, enrol, new_learner
from tests.integration.test_progress_ws import Player, connect
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]


async def flush(client: TestClient) -> None:
    """Flush what is queued; the node's own flusher loop may hold entries too: wait until it
    has acknowledged them (it writes PostgreSQL first, then acknowledges)."""
    while await client.app[FLUSHER].run_once() > 0:
        pass
    for _ in range(200):
        pending = await client.app[REDIS].xpending(keys.STREAM, keys.FLUSH_GROUP)
        if pending["pending"] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the flusher loop kept entries unacknowledged")


async def watch(player: Player, chapter: int, seconds: float) -> float:
    """Play a chapter honestly for `seconds`; return the credit acknowledged."""
    await player.play(chapter)
    credited = 0.0
    for _ in range(round(seconds / 5)):
        credited += (await player.beat())["credited_s"]
    return credited


async def stored(database_url: str, query: str, *args: Any) -> Any:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def test_watching_every_chapter_completes_the_course_and_earns_its_hours(
    client: TestClient, registration: Payload, database_url: str, clock: Clock
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(
        database_url, durations=(10.0, 10.0), hour_tenths=20, elective_tenths=20
    )
    await enrol(database_url, learner.id, course)
    player = await connect(client, learner, clock)
    await watch(player, course.chapters[0], 10)
    await flush(client)
    [half] = await stored(
        database_url, "SELECT completed_at FROM selections WHERE learner_id = $1", learner.id
    )
    assert half["completed_at"] is None
    await watch(player, course.chapters[1], 10)
    await flush(client)
    [selection] = await stored(
        database_url, "SELECT completed_at FROM selections WHERE learner_id = $1", learner.id
    )
    assert selection["completed_at"] is not None
    [enrolment] = await stored(
        database_url,
        "SELECT state, earned_tenths FROM enrolments WHERE learner_id = $1",
        learner.id,
    )
    assert dict(enrolment) == {"state": "passed", "earned_tenths": 20}
    detail = await (
        await client.get(f"/api/v1/courses/{course.course_id}", headers=learner.headers)
    ).json()
    assert detail["course"]["progress"] == 100
    assert [c["complete"] for c in detail["course"]["chapters"]] == [True, True]


async def test_an_examined_course_is_complete_but_earns_no_hours_before_its_exam(
    client: TestClient, registration: Payload, database_url: str, clock: Clock
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(database_url, durations=(10.0,), examined=True, compulsory=True)
    await enrol(database_url, learner.id, course)
    await watch(await connect(client, learner, clock), course.chapters[0], 10)
    await flush(client)
    [row] = await stored(
        database_url,
        """SELECT s.completed_at, e.state, e.earned_tenths FROM selections s
           JOIN enrolments e USING (learner_id, plan_id) WHERE s.learner_id = $1""",
        learner.id,
    )
    assert row["completed_at"] is not None
    assert (row["state"], row["earned_tenths"]) == ("learning", 0)


async def test_a_consumer_killed_before_xack_is_reclaimed_and_nothing_counts_twice(
    client: TestClient, registration: Payload, database_url: str, clock: Clock
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(database_url, durations=(10.0,), hour_tenths=15, elective_tenths=15)
    await enrol(database_url, learner.id, course)
    await watch(await connect(client, learner, clock), course.chapters[0], 10)
    redis = client.app[REDIS]
    batcher = client.app[BATCHER]
    dead = Flusher(
        redis, batcher, await asyncpg.create_pool(database_url, min_size=1, max_size=1), "dead"
    )
    try:
        entries = await dead.read(block=False)
        assert entries
        # The dead consumer even wrote PostgreSQL before dying without its XACK.
        await dead.save(entries)
    finally:
        await dead.pool.close()
    pending = await redis.xpending(keys.STREAM, keys.FLUSH_GROUP)
    assert pending["pending"] == len(entries)
    rescuer = Flusher(redis, batcher, client.app[FLUSHER].pool, "rescuer", claim_idle_ms=0)
    assert await rescuer.run_once() == len(entries)
    assert (await redis.xpending(keys.STREAM, keys.FLUSH_GROUP))["pending"] == 0
    [row] = await stored(
        database_url,
        """SELECT p.hwm_s, e.earned_tenths FROM chapter_progress p
           JOIN enrolments e ON e.learner_id = p.learner_id WHERE p.learner_id = $1""",
        learner.id,
    )
    state = await redis.hget(keys.state_key(learner.id, course.chapters[0]), "hwm")
    assert row["hwm_s"] == pytest.approx(float(state))
    assert row["earned_tenths"] == 15


async def test_a_node_restarted_under_its_id_flushes_what_it_left_pending_at_once(
    client: TestClient, registration: Payload, database_url: str, clock: Clock
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(database_url, durations=(60.0,))
    await enrol(database_url, learner.id, course)
    await watch(await connect(client, learner, clock), course.chapters[0], 10)
    redis, batcher, pool = client.app[REDIS], client.app[BATCHER], client.app[FLUSHER].pool
    killed = Flusher(redis, batcher, pool, "node-w-1")
    entries = await killed.read(block=False)
    assert entries
    # Its successor (same node id, fresh process) needs no idle time to pass.
    successor = Flusher(redis, batcher, pool, "node-w-1")
    assert await successor.run_once() == len(entries)
    assert await successor.run_once() == 0
    # The application's own flusher keeps reading beside it: only this consumer must be done.
    summary = await redis.xpending(keys.STREAM, keys.FLUSH_GROUP)
    assert all(consumer["name"] != "node-w-1" for consumer in summary["consumers"])
    [row] = await stored(
        database_url, "SELECT hwm_s FROM chapter_progress WHERE learner_id = $1", learner.id
    )
    assert row["hwm_s"] == pytest.approx(10.0)


async def test_a_learner_moving_between_two_nodes_keeps_exact_totals(
    aiohttp_client: Any,
    settings: Settings,
    clock: Clock,
    registration: Payload,
    database_url: str,
) -> None:
    node_a = await aiohttp_client(create_portal(settings, clock=clock))
    node_b = await aiohttp_client(create_portal(settings, clock=clock))
    learner = await new_learner(node_a, registration)
    course = await build_course(database_url, durations=(120.0,))
    await enrol(database_url, learner.id, course)
    on_a = await connect(node_a, learner, clock)
    credited = await watch(on_a, course.chapters[0], 20)
    on_b = await connect(node_b, learner, clock)
    playing = await on_b.play(course.chapters[0])
    assert playing["position"] == pytest.approx(20.0)
    # Node A's socket hears of the takeover through the bus.
    assert await on_a.receive() == {"type": "superseded", "chapter": course.chapters[0]}
    assert (await on_a.beat())["reason"] == "superseded"
    on_b.position = playing["position"]
    for _ in range(4):
        credited += (await on_b.beat())["credited_s"]
    for node in (node_a, node_b):
        await flush(node)
    [row] = await stored(
        database_url, "SELECT hwm_s FROM chapter_progress WHERE learner_id = $1", learner.id
    )
    assert credited == pytest.approx(40.0)
    assert row["hwm_s"] == pytest.approx(40.0)
    await node_a.close()
    await node_b.close()


async def test_clean_shutdown_flushes_everything(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload, database_url: str
) -> None:
    node = await aiohttp_client(create_portal(settings, clock=clock))
    learner: Learner = await new_learner(node, registration)
    course = await build_course(database_url, durations=(60.0,))
    await enrol(database_url, learner.id, course)
    await watch(await connect(node, learner, clock), course.chapters[0], 15)
    await node.close()
    [row] = await stored(
        database_url, "SELECT hwm_s FROM chapter_progress WHERE learner_id = $1", learner.id
    )
    assert row["hwm_s"] == pytest.approx(15.0)
