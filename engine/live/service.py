"""The live operations view: every node publishes its figures each second to one Redis
hash and reads everyone's back, so any node shows the whole cluster.

The figures come from the node's Prometheus registry (`Metrics.counts`): counters become
rates over the last interval here, on the node that counted them; the stores' latencies,
the exams running and the flush lag are probed each second and set on the same registry,
so that /metrics shows them too.
"""

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
import structlog

from engine import db
from engine.admin.scope import Scope, require
from engine.clock import Clock
from engine.kv import Batcher, Redis
from engine.live import scripts, store
from engine.live.keys import FIGURES_KEY, STALE_MS, TTL_S
from engine.live.types import ClusterFigures, NodeFigures
from engine.metrics import ACCEPTED, Counts, Metrics

log = structlog.get_logger(__name__)

_decoder = msgspec.json.Decoder(NodeFigures)
_encoder = msgspec.json.Encoder()


async def probe(
    metrics: Metrics, redis: Redis, batcher: Batcher, pool: asyncpg.Pool, now_ms: int
) -> None:
    """Time a round trip to each store, and read the cluster-wide figures, onto `metrics`."""
    started = time.perf_counter()
    await redis.ping()
    metrics.redis_latency.set(time.perf_counter() - started)
    started = time.perf_counter()
    await db.ping(pool)
    metrics.postgres_latency.set(time.perf_counter() - started)
    running, deadline = await store.running_exams(pool)
    metrics.exams_running.set(running)
    if deadline is None:
        metrics.next_deadline.set(-1)
    else:
        metrics.next_deadline.set(max(0.0, deadline.timestamp() - now_ms / 1000))
    pending, lag_s = await scripts.flush_lag(batcher)
    metrics.flush_pending.set(pending)
    metrics.flush_lag.set(lag_s)


# Rates are averaged over this long: a learner beats every 5 s, so a one-second window
# would show one learner as 1, 0, 0, 0, 0 beats/s.
WINDOW_S = 5.0


class Sampler:
    """Turns the registry's counters into rates over the last `WINDOW_S`."""

    def __init__(
        self,
        node_id: str,
        *,
        window_s: float = WINDOW_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.node_id = node_id
        self.window_s = window_s
        self.monotonic = monotonic
        self.samples: deque[tuple[float, Counts]] = deque()

    def figures(self, counts: Counts, now_ms: int) -> NodeFigures:
        """This node's figures; rates are 0 on the first sample (nothing to compare)."""
        at = self.monotonic()
        self.samples.append((at, counts))
        # Keep the newest sample at least a window old: the rates' starting point.
        while len(self.samples) > 2 and self.samples[1][0] <= at - self.window_s:
            self.samples.popleft()
        since, earlier = self.samples[0]

        def rate(now: float, before: float) -> float:
            if at <= since:
                return 0.0
            return round(max(0.0, now - before) / (at - since), 2)

        beats = {
            reason: rate(count, earlier.beats.get(reason, 0.0))
            for reason, count in counts.beats.items()
        }
        accepted = beats.pop(ACCEPTED, 0.0)
        return NodeFigures(
            node=self.node_id,
            at_ms=now_ms,
            learners=int(counts.learners),
            sockets=int(counts.sockets),
            beats_accepted=accepted,
            beats_refused=dict(sorted(beats.items())),
            answers=rate(counts.answers, earlier.answers),
            errors=rate(counts.errors, earlier.errors),
            redis_ms=round(counts.redis_latency_s * 1000, 2),
            postgres_ms=round(counts.postgres_latency_s * 1000, 2),
            exams_running=int(counts.exams_running),
            next_deadline_s=None if counts.next_deadline_s < 0 else counts.next_deadline_s,
            flush_lag_s=round(counts.flush_lag_s, 2),
            flush_pending=int(counts.flush_pending),
        )


async def exchange(redis: Redis, figures: NodeFigures) -> ClusterFigures:
    """Publish this node's figures and read every live node's, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hset(FIGURES_KEY, figures.node, _encoder.encode(figures))
        pipe.expire(FIGURES_KEY, TTL_S)
        pipe.hgetall(FIGURES_KEY)
        replies: Any = await pipe.execute()
    return await _cluster(redis, replies[-1], figures.at_ms)


async def cluster_view(redis: Redis, scope: Scope, now_ms: int) -> ClusterFigures:
    """The view's first paint, for a super administrator only: the figures are the whole
    engine's, every organisation's."""
    require(scope, "super")
    return await read_cluster(redis, now_ms)


async def read_cluster(redis: Redis, now_ms: int) -> ClusterFigures:
    """Every live node's latest figures and their totals."""
    stored: Any = await redis.hgetall(FIGURES_KEY)
    return await _cluster(redis, stored, now_ms)


async def _cluster(redis: Redis, stored: dict[str, str], now_ms: int) -> ClusterFigures:
    nodes: list[NodeFigures] = []
    stale: list[str] = []
    for field, value in stored.items():
        try:
            figures = _decoder.decode(value)
        except msgspec.DecodeError:
            log.error("live figures not understood", node=field)
            stale.append(field)
            continue
        if now_ms - figures.at_ms > STALE_MS:
            stale.append(field)
        else:
            nodes.append(figures)
    if stale:
        await redis.hdel(FIGURES_KEY, *stale)
    return total(sorted(nodes, key=lambda node: node.node), now_ms)


def total(nodes: list[NodeFigures], now_ms: int) -> ClusterFigures:
    """The cluster's figures: rates and sockets summed, latencies the worst node's, and the
    cluster-wide figures as the node that probed last saw them."""
    refused: dict[str, float] = {}
    for node in nodes:
        for reason, rate in node.beats_refused.items():
            refused[reason] = round(refused.get(reason, 0.0) + rate, 2)
    latest = max(nodes, key=lambda node: node.at_ms, default=None)
    return ClusterFigures(
        at_ms=now_ms,
        nodes=nodes,
        learners=sum(node.learners for node in nodes),
        sockets=sum(node.sockets for node in nodes),
        beats_accepted=round(sum(node.beats_accepted for node in nodes), 2),
        beats_refused=dict(sorted(refused.items())),
        answers=round(sum(node.answers for node in nodes), 2),
        errors=round(sum(node.errors for node in nodes), 2),
        redis_ms=max((node.redis_ms for node in nodes), default=0.0),
        postgres_ms=max((node.postgres_ms for node in nodes), default=0.0),
        exams_running=latest.exams_running if latest else 0,
        next_deadline_s=latest.next_deadline_s if latest else None,
        flush_lag_s=latest.flush_lag_s if latest else 0.0,
        flush_pending=latest.flush_pending if latest else 0,
    )


class Publisher:
    """The node's loop: each second, probe, publish, read the cluster back and hand it to
    `show` (the node's subscribed sockets)."""

    def __init__(
        self,
        metrics: Metrics,
        redis: Redis,
        batcher: Batcher,
        pool: asyncpg.Pool,
        clock: Clock,
        node_id: str,
        show: Callable[[ClusterFigures], None],
        *,
        interval_s: float = 1.0,
    ) -> None:
        self.metrics = metrics
        self.redis = redis
        self.batcher = batcher
        self.pool = pool
        self.clock = clock
        self.sampler = Sampler(node_id)
        self.show = show
        self.interval_s = interval_s

    async def step(self) -> None:
        """The background loop's pass: publish, then wait for the next second."""
        started = time.monotonic()
        await self.run_once()
        await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - started)))

    async def run_once(self) -> ClusterFigures:
        """One second's figures: this node's published, the cluster's shown and returned."""
        now_ms = self.clock()
        await probe(self.metrics, self.redis, self.batcher, self.pool, now_ms)
        figures = self.sampler.figures(self.metrics.counts(), now_ms)
        cluster = await exchange(self.redis, figures)
        self.show(cluster)
        return cluster
