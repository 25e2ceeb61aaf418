"""deploy/grafana-dashboard.json graphs only what /metrics exposes, and every figure of the
live view has a panel."""

import json
import re
from pathlib import Path

from engine.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exposed() -> set[str]:
    metrics = Metrics()
    metrics.count_sockets(lambda: 0, lambda: 0)
    return {
        metric.name + suffix
        for metric in metrics.registry.collect()
        for suffix in SUFFIXES[metric.type]
    }


def test_every_query_names_an_exposed_metric_and_every_live_figure_is_graphed() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in expressions for name in re.findall(r"jixu_\w+", expr)}
    assert used <= exposed()
    assert {
        "jixu_learners_online",
        "jixu_beats_total",
        "jixu_exams_running",
        "jixu_exam_next_deadline_seconds",
        "jixu_exam_answers_total",
        "jixu_flush_lag_seconds",
        "jixu_redis_latency_seconds",
        "jixu_postgres_latency_seconds",
        "jixu_errors_total",
    } <= used
