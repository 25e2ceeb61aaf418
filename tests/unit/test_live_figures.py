"""The live view's arithmetic: counters into rates over a window, nodes into a cluster."""

import pytest

from engine.live.service import Sampler, total
from engine.live.types import NodeFigures
from engine.metrics import Counts


def counts(accepted: float = 0, gap: float = 0, answers: float = 0, **gauges: float) -> Counts:
    values = {
        "errors": 0.0,
        "sockets": 0.0,
        "learners": 0.0,
        "redis_latency_s": 0.0,
        "postgres_latency_s": 0.0,
        "flush_lag_s": 0.0,
        "flush_pending": 0.0,
        "exams_running": 0.0,
        "next_deadline_s": -1.0,
    } | gauges
    return Counts(beats={"accepted": accepted, "gap": gap}, answers=answers, **values)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rates_are_averaged_over_the_window() -> None:
    ticks = Ticks()
    sampler = Sampler("n1", window_s=5, monotonic=ticks)
    first = sampler.figures(counts(), 0)
    assert (first.beats_accepted, first.beats_refused, first.answers) == (0, {"gap": 0}, 0)
    seen = []
    for second in range(1, 9):
        ticks.now += 1
        # One beat in the first second, then none.
        seen.append(sampler.figures(counts(accepted=1), second * 1000).beats_accepted)
    assert seen == [1.0, 0.5, 0.33, 0.25, 0.2, 0.0, 0.0, 0.0]


def test_refused_beats_are_by_reason_and_gauges_pass_through() -> None:
    ticks = Ticks()
    sampler = Sampler("n1", monotonic=ticks)
    sampler.figures(counts(), 0)
    ticks.now += 2
    figures = sampler.figures(
        counts(
            accepted=4,
            gap=2,
            answers=6,
            learners=3,
            sockets=4,
            redis_latency_s=0.0012,
            next_deadline_s=42.5,
            flush_pending=7,
        ),
        2000,
    )
    assert figures == NodeFigures(
        node="n1",
        at_ms=2000,
        learners=3,
        sockets=4,
        beats_accepted=2.0,
        beats_refused={"gap": 1.0},
        answers=3.0,
        errors=0.0,
        redis_ms=1.2,
        postgres_ms=0.0,
        exams_running=0,
        next_deadline_s=42.5,
        flush_lag_s=0.0,
        flush_pending=7,
    )


def node(name: str, at_ms: int, **changes: object) -> NodeFigures:
    values: dict[str, object] = {
        "node": name,
        "at_ms": at_ms,
        "learners": 0,
        "sockets": 0,
        "beats_accepted": 0.0,
        "beats_refused": {},
        "answers": 0.0,
        "errors": 0.0,
        "redis_ms": 0.0,
        "postgres_ms": 0.0,
        "exams_running": 0,
        "next_deadline_s": None,
        "flush_lag_s": 0.0,
        "flush_pending": 0,
    } | changes
    return NodeFigures(**values)  # type: ignore[arg-type]


def test_the_cluster_sums_rates_and_takes_the_worst_latency() -> None:
    one = node("n1", 1000, learners=2, sockets=3, beats_accepted=1.5, beats_refused={"gap": 0.2},
               redis_ms=0.4, postgres_ms=3.0, exams_running=5, next_deadline_s=10.0)  # fmt: skip
    two = node("n2", 1500, learners=1, sockets=1, beats_accepted=0.25, errors=0.5,
               beats_refused={"gap": 0.1, "seek": 1.0}, redis_ms=0.9, postgres_ms=1.0,
               exams_running=6, next_deadline_s=9.5, flush_lag_s=0.7, flush_pending=3)  # fmt: skip
    cluster = total([one, two], 2000)
    assert (cluster.learners, cluster.sockets) == (3, 4)
    assert cluster.beats_accepted == 1.75
    assert cluster.beats_refused == {"gap": 0.3, "seek": 1.0}
    assert cluster.errors == 0.5
    assert (cluster.redis_ms, cluster.postgres_ms) == (0.9, 3.0)
    # Cluster-wide figures: the node that probed last.
    assert (cluster.exams_running, cluster.next_deadline_s) == (6, 9.5)
    assert (cluster.flush_lag_s, cluster.flush_pending) == (0.7, 3)
    assert cluster.nodes == [one, two]


@pytest.mark.parametrize("nodes", [[], [node("n1", 0)]])
def test_an_idle_cluster_shows_zeros(nodes: list[NodeFigures]) -> None:
    cluster = total(nodes, 0)
    assert (cluster.beats_accepted, cluster.exams_running, cluster.next_deadline_s) == (0, 0, None)
