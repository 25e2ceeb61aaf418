"""What the benchmark measures beside the client: process CPU and RSS, and the flush lag."""

import asyncio
import bisect
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import asyncpg
import psutil
from processes import store_pids

Sample = tuple[float, float, int]  # (wall time, CPU seconds since watched, RSS bytes)


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Sampler:
    """CPU time and RSS of groups of processes, sampled on a timer.

    A group's CPU is summed per pid, so processes that start later (PostgreSQL backends)
    count from their start, and those that end keep what they had used.
    """

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s = every_s
        self.groups: dict[str, Callable[[], list[int]]] = {}
        self.series: dict[str, list[Sample]] = {}
        self._processes: dict[int, psutil.Process] = {}
        self._seen: dict[str, dict[int, float]] = {}
        self._total: dict[str, float] = {}

    def watch(self, name: str, pids: Callable[[], list[int]]) -> None:
        self.groups[name] = pids
        self.series[name] = []
        self._seen[name] = {}
        self._total[name] = 0.0
        self._sample(name, first=True)

    def watch_stores(self, data_dir: Path | None, redis_pids: list[int] | None = None) -> None:
        """Sample the embedded Redis and PostgreSQL (all its processes) under `data_dir`, or
        instead of that Redis the processes `redis_pids` (a cluster's nodes); nothing for
        stores given by URL, whose processes are not ours to watch."""
        redis_pid, postmaster = store_pids(data_dir) if data_dir else (None, None)
        redis = redis_pids or ([redis_pid] if redis_pid else [])
        if redis:
            self.watch("redis", lambda: redis)
        if postmaster:
            self.watch("postgres", lambda: self.family(postmaster))

    def family(self, pid: int) -> list[int]:
        """A process and all its descendants."""
        try:
            return [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            for name in self.groups:
                self._sample(name)

    def latest(self, name: str) -> Sample:
        return self.series[name][-1]

    def cpu_percent(self, name: str, start: float, end: float) -> float | None:
        """Average CPU of the group between two wall times, in percent of one core."""
        series = self.series.get(name)
        if not series:
            return None
        times = [sample[0] for sample in series]
        first = series[min(bisect.bisect_left(times, start), len(series) - 1)]
        last = series[max(bisect.bisect_right(times, end) - 1, 0)]
        if last[0] <= first[0]:
            return None
        return 100 * (last[1] - first[1]) / (last[0] - first[0])

    def median_rss(self, name: str, start: float, end: float) -> float | None:
        inside = [rss for at, _, rss in self.series.get(name, []) if start <= at <= end]
        return statistics.median(inside) if inside else None

    def _sample(self, name: str, *, first: bool = False) -> None:
        seen = self._seen[name]
        rss = 0
        for pid in self.groups[name]():
            try:
                process = self._processes.get(pid) or self._processes.setdefault(
                    pid, psutil.Process(pid)
                )
                with process.oneshot():
                    times = process.cpu_times()
                    cpu = times.user + times.system
                    rss += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            self._total[name] += cpu - seen.get(pid, cpu if first else 0.0)
            seen[pid] = cpu
        self.series[name].append((time.time(), self._total[name], rss))


async def timeline_storage(database_url: str) -> tuple[int, int, float]:
    """The study record in PostgreSQL: (bytes with its index, segments, learner-hours covered)."""
    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            """SELECT pg_total_relation_size('study_segments'), count(*),
                      coalesce(sum(to_ms - from_ms), 0) / 3.6e6
               FROM study_segments"""
        )
    finally:
        await connection.close()
    assert row is not None
    return row[0], row[1], float(row[2])


class FlushWatch:
    """Polls PostgreSQL for a sample of learners and notes when each hwm first appeared."""

    def __init__(self, database_url: str, chapter_id: int, learner_ids: list[int]) -> None:
        self.database_url = database_url
        self.chapter_id = chapter_id
        self.learner_ids = learner_ids
        self.every_s = 0.05
        self.timelines: dict[int, list[tuple[float, float]]] = {i: [] for i in learner_ids}
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        connection = await asyncpg.connect(self.database_url)
        try:
            while not self.stopping.is_set():
                rows = await connection.fetch(
                    """SELECT learner_id, hwm_s FROM chapter_progress
                       WHERE chapter_id = $1 AND learner_id = ANY($2::bigint[])""",
                    self.chapter_id,
                    self.learner_ids,
                )
                # Taken after the answer: the lag is overstated by at most one poll.
                seen_at = time.time()
                for learner_id, hwm in rows:
                    timeline = self.timelines[learner_id]
                    if not timeline or hwm > timeline[-1][1]:
                        timeline.append((seen_at, hwm))
                await asyncio.sleep(self.every_s)
        finally:
            await connection.close()

    def lags(self, acks: list[tuple[int, float, float]]) -> tuple[list[float], int]:
        """Seconds from each ack (learner, wall time, hwm) to its hwm in PostgreSQL; and how
        many acks are not there yet."""
        lags: list[float] = []
        missing = 0
        for learner_id, acked_at, hwm in acks:
            timeline = self.timelines.get(learner_id, [])
            reached = [seen_at for seen_at, stored in timeline if stored >= hwm - 1e-9]
            if reached:
                lags.append(max(0.0, reached[0] - acked_at))
            else:
                missing += 1
        return lags, missing


def profile_summary(path: str, top: int = 15) -> str:
    """The functions where a py-spy `raw` (collapsed stacks) profile spent its samples."""
    own: Counter[str] = Counter()
    within: Counter[str] = Counter()
    total = 0
    with open(path) as lines:
        for line in lines:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            samples = int(count)
            total += samples
            # "function (file:line)" -> "function (file)": lines of one function add up.
            frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
            own[frames[-1]] += samples
            for frame in set(frames):
                within[frame] += samples
    rows = [f"py-spy: {total} samples"]
    # The event loop's own frames hold nearly every sample; they say nothing.
    within = Counter({frame: n for frame, n in within.items() if n < 0.8 * total})
    for title, counter in (("self", own), ("inclusive", within)):
        rows.append(f"  {title}:")
        rows += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in counter.most_common(top)]
    return "\n".join(rows)
