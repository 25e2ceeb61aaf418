"""The live operations view's figures: each node's, published every second, and the
cluster's, summed from the nodes alive."""

import msgspec


class NodeFigures(msgspec.Struct, frozen=True):
    """One node's second: its own rates and sockets, and the cluster-wide figures it
    probed (exams, flush lag: every node reads the same stores)."""

    node: str
    at_ms: int  # when the node took these figures (its clock)
    learners: int  # users with a socket on this node
    sockets: int
    beats_accepted: float  # per second, over the last interval
    beats_refused: dict[str, float]  # reason → per second
    answers: float  # exam answers saved per second
    errors: float  # per second
    redis_ms: float
    postgres_ms: float
    exams_running: int
    next_deadline_s: float | None  # None: no exam running
    flush_lag_s: float
    flush_pending: int


class ClusterFigures(msgspec.Struct, frozen=True):
    """What the view shows: the nodes alive, and their totals (rates summed; the stores'
    latencies the worst node's; the cluster-wide figures the freshest node's)."""

    at_ms: int
    nodes: list[NodeFigures]
    learners: int
    sockets: int
    beats_accepted: float
    beats_refused: dict[str, float]
    answers: float
    errors: float
    redis_ms: float
    postgres_ms: float
    exams_running: int
    next_deadline_s: float | None
    flush_lag_s: float
    flush_pending: int
