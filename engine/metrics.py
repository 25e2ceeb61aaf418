"""Prometheus metrics, one registry per application (tests run several side by side).

The live operations view reads its figures from this registry too (`counts`), so /metrics
and the view cannot disagree.
"""

from collections.abc import Callable

import msgspec
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
# A beat that earned credit; any other outcome is the reason it was refused (beat.lua).
ACCEPTED = "accepted"


class Counts(msgspec.Struct, frozen=True):
    """The registry's counters and gauges that the live view shows, read at one moment."""

    beats: dict[str, float]  # outcome (`accepted` or the refusal's reason) → beats so far
    answers: float
    errors: float
    sockets: float
    learners: float
    redis_latency_s: float
    postgres_latency_s: float
    flush_lag_s: float
    flush_pending: float
    exams_running: float
    next_deadline_s: float  # -1: no exam running


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "jixu_http_requests",
            "HTTP requests served, by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "jixu_http_request_duration_seconds",
            "Time to serve an HTTP request",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.redis_calls_shed = Counter(
            "jixu_redis_calls_shed",
            "Redis calls refused at once (unavailable, HTTP 503): the queue to Redis was full",
            registry=self.registry,
        )
        self.beats = Counter(
            "jixu_beats",
            "Heartbeats answered, by outcome: accepted, or the reason credit was refused",
            ["outcome"],
            registry=self.registry,
        )
        self.exam_answers = Counter(
            "jixu_exam_answers",
            "Exam answers saved as drafts (flags not counted)",
            registry=self.registry,
        )
        self.errors = Counter(
            "jixu_errors",
            "Errors: HTTP 5xx answers, websocket commands that failed, background loop steps",
            ["source"],
            registry=self.registry,
        )
        self.redis_latency = Gauge(
            "jixu_redis_latency_seconds",
            "Round trip of a PING to Redis, probed every second",
            registry=self.registry,
        )
        self.postgres_latency = Gauge(
            "jixu_postgres_latency_seconds",
            "Round trip of a SELECT 1 to PostgreSQL, probed every second",
            registry=self.registry,
        )
        self.flush_lag = Gauge(
            "jixu_flush_lag_seconds",
            "Age of the oldest progress entry not yet written to PostgreSQL (cluster-wide)",
            registry=self.registry,
        )
        self.flush_pending = Gauge(
            "jixu_flush_pending",
            "Progress entries not yet written to PostgreSQL (cluster-wide)",
            registry=self.registry,
        )
        self.exams_running = Gauge(
            "jixu_exams_running",
            "Exam attempts in progress (cluster-wide)",
            registry=self.registry,
        )
        self.next_deadline = Gauge(
            "jixu_exam_next_deadline_seconds",
            "Seconds until the earliest deadline of an attempt in progress; -1: none",
            registry=self.registry,
        )
        self.next_deadline.set(-1)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)
        if status >= 500:
            self.errors.labels("http").inc()

    def count_beat(self, reason: str) -> None:
        """A beat's outcome: `reason` is beat.lua's, '' when the beat earned credit."""
        self.beats.labels(reason or ACCEPTED).inc()

    def count_sockets(
        self, open_sockets: Callable[[], int], learners_online: Callable[[], int]
    ) -> None:
        """The websockets this node holds and their learners, read when scraped (the
        upgrades pass the request metrics by: a socket's life is not a request's latency)."""
        sockets = Gauge(
            "jixu_websockets_open", "Websockets this node holds", registry=self.registry
        )
        sockets.set_function(open_sockets)
        learners = Gauge(
            "jixu_learners_online",
            "Users with at least one websocket on this node",
            registry=self.registry,
        )
        learners.set_function(learners_online)

    def counts(self) -> Counts:
        """The figures of the live view, from the same samples /metrics renders."""
        values: dict[str, float] = {}
        beats: dict[str, float] = {}
        errors = 0.0
        for metric in self.registry.collect():
            for sample in metric.samples:
                if sample.name == "jixu_beats_total":
                    beats[sample.labels["outcome"]] = sample.value
                elif sample.name == "jixu_errors_total":
                    errors += sample.value
                else:
                    values[sample.name] = sample.value
        return Counts(
            beats=beats,
            answers=values.get("jixu_exam_answers_total", 0.0),
            errors=errors,
            sockets=values.get("jixu_websockets_open", 0.0),
            learners=values.get("jixu_learners_online", 0.0),
            redis_latency_s=values["jixu_redis_latency_seconds"],
            postgres_latency_s=values["jixu_postgres_latency_seconds"],
            flush_lag_s=values["jixu_flush_lag_seconds"],
            flush_pending=values["jixu_flush_pending"],
            exams_running=values["jixu_exams_running"],
            next_deadline_s=values["jixu_exam_next_deadline_seconds"],
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
