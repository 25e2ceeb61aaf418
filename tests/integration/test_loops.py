"""The background loops through a real Redis outage: /healthz takes the node out once they
have failed for longer than the threshold, and lets it back in when they recover."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from engine.embedded import EmbeddedRedis
from engine.settings import Settings
from tests.conftest import Clock, build_course, enrol, new_learner
from tests.integration.test_progress_ws import connect, own_node

Health = tuple[int, dict[str, Any]]


async def healthz(client: TestClient) -> Health:
    response = await client.get("/healthz")
    return response.status, await response.json()


async def until(check: Callable[[], Any], done: Callable[[Any], bool], within_s: float) -> Any:
    """Call `check` until `done` holds for what it returns, for at most `within_s`."""
    deadline = time.monotonic() + within_s
    while True:
        result = await check()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def test_a_redis_outage_takes_the_node_out_and_back_in(
    aiohttp_client: Any,
    settings: Settings,
    clock: Clock,
    registration: Callable[..., dict[str, Any]],
    database_url: str,
    tmp_path: Path,
) -> None:
    redis = EmbeddedRedis(tmp_path / "redis")  # the suite's Redis is shared: one to stop
    node = await own_node(
        aiohttp_client, settings, clock, redis_url=redis.start(), loop_unhealthy_s=0.3
    )
    try:
        learner = await new_learner(node, registration)
        course = await build_course(database_url, durations=(60.0,))
        await enrol(database_url, learner.id, course)
        player = await connect(node, learner, clock)
        assert (await player.play(course.chapters[0]))["type"] == "playing"
        assert (await healthz(node))[0] == 200

        await asyncio.to_thread(redis.stop)
        status, body = await until(
            lambda: healthz(node), lambda health: "bus" in health[1]["failing"], 5
        )
        assert status == 503
        assert {"redis", "flusher", "bus"} <= set(body["failing"])
        assert body["checks"]["flusher"].startswith("failing for")

        # Restarted on the same socket, with its data (the stream, the session, the play).
        await asyncio.to_thread(redis.start)
        status, body = await until(lambda: healthz(node), lambda health: health[0] == 200, 10)
        assert (status, body["status"], body["failing"]) == (200, "ok", [])
        assert set(body["checks"].values()) == {"ok"}

        # The flusher is back: a beat accepted now reaches PostgreSQL by itself.
        assert (await player.beat())["credited_s"] == 5

        async def stored() -> list[asyncpg.Record]:
            connection = await asyncpg.connect(database_url)
            try:
                return await connection.fetch(
                    "SELECT hwm_s FROM chapter_progress WHERE learner_id = $1", learner.id
                )
            finally:
                await connection.close()

        # `play` queued its own flush (hwm 0), which may land first: wait for the beat's.
        rows = await until(stored, lambda rows: [row["hwm_s"] for row in rows] == [5.0], 5)
        assert [row["hwm_s"] for row in rows] == [5.0]
    finally:
        await node.close()
        await asyncio.to_thread(redis.stop)
