"""The Batcher against a real Redis that stops answering for a while: the calls queued
beyond its bound are refused at once, the ones before them still answered."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import BATCHER, METRICS
from engine.errors import TRANSIENT, Overloaded
from engine.kv import Batcher, create_redis
from engine.scripts import SCRIPTS
from tests.conftest import new_learner

PAUSE_MS = 1_000


async def test_calls_beyond_the_bound_are_shed_while_the_queued_ones_complete(
    redis_url: str,
) -> None:
    redis, admin = create_redis(redis_url), create_redis(redis_url)
    shed: list[None] = []
    try:
        batcher = Batcher(redis, SCRIPTS, max_pending=3, on_shed=lambda: shed.append(None))
        await redis.ping()  # the connection exists before Redis pauses
        await admin.client_pause(PAUSE_MS)
        started = time.monotonic()
        # Issued in one tick: they all wait for the same batch.
        calls = [asyncio.ensure_future(batcher.call([("INCR", "n")])) for _ in range(5)]
        done, waiting = await asyncio.wait(calls, timeout=0.3)
        assert done == set(calls[3:])
        assert waiting == set(calls[:3])
        for call in calls[3:]:
            with pytest.raises(Overloaded) as refused:
                call.result()
            assert refused.value.code == "unavailable"
            assert isinstance(refused.value, TRANSIENT)
        assert len(shed) == 2
        # The queue went out as a batch: a call made now has room again.
        later = asyncio.ensure_future(batcher.call([("INCR", "n")]))
        assert [reply for call in calls[:3] for [reply] in [await call]] == [1, 2, 3]
        assert await later == [4]
        assert time.monotonic() - started >= PAUSE_MS / 1000 * 0.9
        assert len(shed) == 2
    finally:
        await redis.aclose()
        await admin.aclose()


async def test_a_shed_call_is_answered_503_and_counted(
    client: TestClient, registration: Callable[..., dict[str, Any]]
) -> None:
    learner = await new_learner(client, registration)
    app = client.server.app
    app[BATCHER].max_pending = 0
    response = await client.get("/api/v1/account", headers=learner.headers)
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert (await response.json())["error"]["code"] == "unavailable"
    socket = await client.get("/ws", headers=learner.headers)
    assert socket.status == 503
    assert b"jixu_redis_calls_shed_total 2.0" in app[METRICS].render()
    app[BATCHER].max_pending = 1_000
    assert (await client.get("/api/v1/account", headers=learner.headers)).status == 200
