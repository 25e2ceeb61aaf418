"""Prometheus metrics, one registry per application (tests run several side by side)."""

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


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

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)

    def count_sockets(self, open_sockets: Callable[[], int]) -> None:
        """The websockets this node holds, read when scraped (the upgrades pass the request
        metrics by: a socket's life is not a request's latency)."""
        gauge = Gauge("jixu_websockets_open", "Websockets this node holds", registry=self.registry)
        gauge.set_function(open_sockets)

    def render(self) -> bytes:
        return generate_latest(self.registry)
