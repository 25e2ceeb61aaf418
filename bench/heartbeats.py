"""Benchmark of the progress core: simulated learners beating against a real `jixu serve`.

    .venv/bin/python bench/heartbeats.py --closed-loop --learners 5000
    .venv/bin/python bench/heartbeats.py --learners 20000 --interval-ms 2000
    .venv/bin/python bench/heartbeats.py --idle --learners 50000 --source-addresses 4
    .venv/bin/python bench/heartbeats.py --closed-loop --servers engine,checks,engine,checks
    .venv/bin/python bench/heartbeats.py --uvloop --nginx --redis-cluster \
        --servers engine:1,engine:2,engine:3 --learners 2000 --interval-ms 2000

It starts embedded PostgreSQL and Redis in a temporary folder (or uses DATABASE_URL and
REDIS_URL), migrates, creates the learners, one course and a token per learner, starts the
engine as a child process and the load generator (bench/learners.py) as another, samples CPU
and RSS, polls PostgreSQL for the flush lag, then runs the same load against
bench/bare_server.py for the ceiling. `engine:N` runs `jixu serve --workers N`; `--nginx`
puts nginx in front, `--redis-cluster` a 3-master Redis Cluster behind. See bench/README.md
for what each figure means.
"""

import argparse
import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # the engine, when run from anywhere

import learners  # noqa: E402
from measures import (  # noqa: E402
    FlushWatch,
    Sampler,
    percentile,
    profile_summary,
    timeline_storage,
)
from population import Population, populate  # noqa: E402
from processes import (  # noqa: E402
    child,
    engine_env,
    free_port,
    raise_fd_limit,
    read_event,
    redis_cluster_pids,
    stores,
    wait_listening,
)

from scripts.cluster import installed_nginx, nginx_config  # noqa: E402
from tests.redis_cluster import redis_cluster  # noqa: E402

FLUSH_HORIZON_S = 15.0  # after the load stops, how long an acked beat may take to reach PostgreSQL
FLUSH_SAMPLE = 200
FD_MARGIN = 100  # descriptors a process needs beside its sockets
SERVER_KINDS = ("engine", "checks", "bare")


@dataclass
class Run:
    """One load against one server: the figures that the report prints."""

    server: str
    figures: dict[str, float] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the progress core against a bare websocket server."
    )
    parser.add_argument("--learners", type=int, default=5000, help="simulated learners")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--closed-loop", action="store_true", help="every learner beats again as soon as acked"
    )
    mode.add_argument("--idle", action="store_true", help="connect and hold; RSS per connection")
    parser.add_argument(
        "--interval-ms", type=int, default=5000, help="beat interval (engine default 5000)"
    )
    parser.add_argument("--duration-s", type=float, default=30.0, help="measured window")
    parser.add_argument("--warmup-s", type=float, help="before the window (default by mode)")
    parser.add_argument(
        "--source-addresses",
        type=int,
        default=0,
        help="bind client sockets to 127.0.0.2 … 127.0.0.(K+1), past the ephemeral-port limit",
    )
    parser.add_argument("--uvloop", action="store_true", help="uvloop in servers and client")
    parser.add_argument("--server-uvloop", action="store_true", help="uvloop in servers only")
    parser.add_argument("--client-uvloop", action="store_true", help="uvloop in the client only")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument(
        "--servers",
        default="engine,bare",
        help="which to load, in order (repeats allowed): engine (check-ins off), checks"
        " (check-ins every --attention-interval-s), bare; engine:N and checks:N run"
        " `jixu serve --workers N` (N processes on one port)",
    )
    parser.add_argument(
        "--nginx", action="store_true", help="the load goes through nginx (deploy/nginx.conf)"
    )
    parser.add_argument("--nginx-workers", type=int, default=1, help="nginx worker processes")
    parser.add_argument(
        "--redis-cluster",
        action="store_true",
        help="start a 3-master Redis Cluster (tests/redis_cluster.py) and use it as REDIS_URL",
    )
    parser.add_argument(
        "--attention-interval-s",
        type=int,
        default=30,
        help="the mean check-in interval of the `checks` server (JIXU_ATTENTION_INTERVAL_S)",
    )
    parser.add_argument("--profile", help="py-spy record the engine during the window to FILE")
    parser.add_argument(
        "--engine-command", help="run this instead of `jixu serve` (a wrapper, another build)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # the load generator's own mode
    args = parser.parse_args(argv)
    for server in args.servers.split(","):
        kind, _, count = server.partition(":")
        if kind not in SERVER_KINDS or (count and (kind == "bare" or not count.isdigit())):
            parser.error(f"--servers: {server!r} is not engine[:N], checks[:N] or bare")
        if count and not (args.uvloop or args.server_uvloop):
            # The workers of `jixu serve --workers` run on uvloop wherever it is installed.
            parser.error(f"--servers {server}: N processes run on uvloop; add --uvloop")
    args.mode = "closed" if args.closed_loop else "idle" if args.idle else "interval"
    if args.warmup_s is None:
        args.warmup_s = 2 * args.interval_ms / 1000 + 2 if args.mode == "interval" else 5.0
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    limit = raise_fd_limit()
    if args.client:
        learners.main(args.client)
        return
    if args.learners + FD_MARGIN > limit:
        # One process cannot hold more sockets than its limit: split the load generator.
        needed = -(-args.learners // (limit - FD_MARGIN))
        args.client_processes = max(args.client_processes, needed)
        print(
            f"warning: at most {limit} open files per process (RLIMIT_NOFILE); the load"
            f" generator runs in {args.client_processes} processes, but one server process"
            f" cannot hold more than ~{limit - FD_MARGIN} sockets",
            file=sys.stderr,
        )
    try:
        runs = asyncio.run(benchmark(args))
    except KeyboardInterrupt:
        sys.exit("interrupted")
    print_report(args, runs)
    if args.profile and Path(args.profile).exists():
        print("\nengine profile during the window (" + args.profile + ")")
        print(profile_summary(args.profile))
    if args.json:
        Path(args.json).write_bytes(
            msgspec.json.format(msgspec.json.encode({"args": vars(args), "runs": runs}))
        )


async def benchmark(args: argparse.Namespace) -> list[Run]:
    # `kill` (and Ctrl-C, also where a shell started us with SIGINT ignored) unwinds
    # everything: child processes stopped, embedded servers stopped, folder removed.
    main_task = asyncio.current_task()
    assert main_task is not None
    for stop in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(stop, main_task.cancel)
    try:
        return await _benchmark(args)
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


async def _benchmark(args: argparse.Namespace) -> list[Run]:
    with (
        tempfile.TemporaryDirectory(prefix="jixu-bench-") as folder,
        stores(Path(folder)) as (
            database_url,
            redis_url,
            data_dir,
        ),
        contextlib.ExitStack() as stack,
    ):
        redis_pids = None
        if args.redis_cluster:
            cluster = redis_cluster(Path(folder) / "cluster", die_with_parent=True)
            redis_url = stack.enter_context(cluster)
            redis_pids = redis_cluster_pids(redis_url)
            print(f"Redis Cluster: {redis_url}", flush=True)
        began = time.monotonic()
        population = await populate(database_url, redis_url, args.learners)
        print(
            f"population: {args.learners} learners, chapter {population.chapter_id},"
            f" ready in {time.monotonic() - began:.1f} s",
            flush=True,
        )
        runs = []
        for server in args.servers.split(","):
            print(f"\n== {server}: {args.mode}, {args.learners} learners", flush=True)
            phase = Phase(args, server, Path(folder), database_url, redis_url, data_dir, redis_pids)
            runs.append(await phase.run(population))
        return runs


class Phase:
    """One server process, the client processes against it, and what is measured meanwhile."""

    def __init__(
        self,
        args: argparse.Namespace,
        server: str,
        folder: Path,
        database_url: str,
        redis_url: str,
        data_dir: Path | None,
        redis_pids: list[int] | None,
    ) -> None:
        self.args = args
        self.server = server
        kind, _, count = server.partition(":")
        self.kind = kind
        self.processes = int(count) if count else None  # None: one `jixu serve`, no --workers
        self.folder = folder
        self.database_url = database_url
        self.redis_url = redis_url
        self.data_dir = data_dir
        self.redis_pids = redis_pids
        self.port = free_port()
        self.client_port = free_port() if args.nginx else self.port
        self.sampler = Sampler()
        self.engine = kind in ("engine", "checks")

    async def run(self, population: Population) -> Run:
        args = self.args
        async with contextlib.AsyncExitStack() as stack:
            server = await stack.enter_async_context(
                # `jixu serve --workers` stops its workers on SIGTERM.
                child(self._server_command(), self._env(), death_signal=signal.SIGTERM)
            )
            await wait_listening(self.port, server)
            # Every engine process: `jixu serve --workers` and its workers.
            self.sampler.watch("server", lambda: self.sampler.family(server.pid))
            if args.nginx:
                proxy = await stack.enter_async_context(self._nginx())
                await wait_listening(self.client_port, proxy)
                self.sampler.watch("nginx", lambda: self.sampler.family(proxy.pid))
            self.sampler.watch_stores(self.data_dir, self.redis_pids)
            sampling = asyncio.create_task(self.sampler.run())
            stack.callback(sampling.cancel)
            await asyncio.sleep(2.0)  # settle; the baseline RSS is taken before any socket
            baseline_rss = self.sampler.latest("server")[2]
            clients = [
                await stack.enter_async_context(
                    child(self._client_command(i, population), None, pipes=True)
                )
                for i in range(args.client_processes)
            ]
            self.sampler.watch("client", lambda: [client.pid for client in clients])
            # Logins and plays take PostgreSQL time: 15-25 connections/s on a loaded machine.
            ramp_timeout = 120 + args.learners / 10
            ready = await asyncio.wait_for(
                asyncio.gather(*(read_event(client, "ready") for client in clients)),
                ramp_timeout,
            )
            connected = sum(event["connected"] for event in ready)
            print(f"   {connected} connected; go", flush=True)
            go = time.time() + 1.0
            start, end = go + args.warmup_s, go + args.warmup_s + args.duration_s
            signal_line = msgspec.json.encode(learners.Go(go, start, end)) + b"\n"
            for client in clients:
                assert client.stdin is not None
                client.stdin.write(signal_line)
                await client.stdin.drain()
            flushes = None
            storage_before = None
            if self.engine and args.mode != "idle":
                storage_before = await timeline_storage(self.database_url)
                sample = _flush_sample(population.learners)
                flushes = FlushWatch(self.database_url, population.chapter_id, sample)
                watching = asyncio.create_task(flushes.run())
                stack.callback(watching.cancel)
            profile = None
            if self.engine and args.profile:
                profile = asyncio.create_task(_profile(server.pid, start, end, args.profile))
            await asyncio.wait_for(
                asyncio.gather(*(client.wait() for client in clients)),
                end - time.time() + 60,
            )
            results = [self._client_results(i) for i in range(args.client_processes)]
            figures = self._figures(results, start, end, baseline_rss, connected)
            if flushes is not None:
                acks = [ack for result, _ in results for ack in result.flush_acks]
                figures.update(await _finish_flushes(flushes, watching, acks))
            if storage_before is not None:
                figures.update(_storage(storage_before, await timeline_storage(self.database_url)))
            if profile is not None:
                await profile
        errors: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        for result, _ in results:
            errors.update(result.errors)
            reasons.update(result.reasons)
        return Run(self.server, figures, dict(errors), dict(reasons))

    def _nginx(self) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
        """nginx (deploy/nginx.conf, as `make cluster` renders it) from the clients' port to
        the server's; its master stops its workers on SIGTERM."""
        nginx = installed_nginx()
        if nginx is None:
            sys.exit("--nginx: nginx is not installed (apt-get install nginx)")
        folder = self.folder / f"nginx-{self.port}"
        folder.mkdir()
        # Each proxied socket holds two connections. With exactly that many (and a margin)
        # nginx still ran short ("worker_connections are not enough, reusing connections")
        # and closed sockets being set up: twice as many. A worker may open `limit` files.
        limit = raise_fd_limit()
        connections = min(4 * self.args.learners + 1000, limit - FD_MARGIN)
        config = nginx_config(
            folder,
            self.client_port,
            self.port,
            worker_processes=self.args.nginx_workers,
            worker_connections=connections,
        )
        (folder / "nginx.conf").write_text(config)
        command = [nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder)]
        return child(command, None, death_signal=signal.SIGTERM)

    def _server_command(self) -> list[str]:
        uvloop = self.args.uvloop or self.args.server_uvloop
        if self.kind == "bare":
            command = [sys.executable, str(BENCH_DIR / "bare_server.py"), "--port", str(self.port)]
            return [*command, "--uvloop"] if uvloop else command
        workers = [] if self.processes is None else ["--workers", str(self.processes)]
        if self.args.engine_command:
            return [*shlex.split(self.args.engine_command), *workers]
        if uvloop:
            jixu = shutil.which("jixu", path=str(Path(sys.executable).parent)) or "jixu"
            return [jixu, "serve", *workers]  # which runs on uvloop where it is installed
        # `jixu serve` on asyncio's own loop: hide uvloop from it.
        code = "import sys; sys.modules['uvloop'] = None; from web.cli import main; main(['serve'])"
        return [sys.executable, "-c", code]

    def _env(self) -> dict[str, str]:
        env = engine_env(self.database_url, self.redis_url, self.port)
        checks = self.args.attention_interval_s if self.kind == "checks" else 0
        if self.args.nginx:
            env["JIXU_TRUSTED_PROXIES"] = "127.0.0.1"  # as deploy/nginx.conf says
        env["JIXU_ATTENTION_INTERVAL_S"] = str(checks)
        if self.args.interval_ms != 5000:
            env["JIXU_BEAT_INTERVAL_MS"] = str(self.args.interval_ms)
        if self.args.mode == "closed":
            # A closed loop beats several times a second: let the per-socket limiter count
            # but never refuse, so that the figure is the engine's throughput.
            env["JIXU_WS_MESSAGES_PER_S"] = "1000"
        return env

    def _client_command(self, index: int, population: Population) -> list[str]:
        args = self.args
        everyone = population.learners
        size = -(-len(everyone) // args.client_processes)
        first = index * size
        config = learners.ClientConfig(
            url=f"http://127.0.0.1:{self.client_port}/ws",
            learners=everyone[first : first + size],
            first_index=first,
            chapter_id=population.chapter_id,
            mode=args.mode,
            interval_ms=args.interval_ms,
            source_addresses=args.source_addresses,
            uvloop=args.uvloop or args.client_uvloop,
            flush_sample=_flush_sample(everyone),
            connect_concurrency=max(1, args.connect_concurrency // args.client_processes),
            results_path=str(self.folder / f"{self.server}-client{index}.json"),
        )
        path = self.folder / f"{self.server}-client{index}.config.json"
        path.write_bytes(msgspec.json.encode(config))
        return [sys.executable, str(Path(__file__).resolve()), "--client", str(path)]

    def _client_results(self, index: int) -> tuple[learners.ClientResults, array]:
        path = self.folder / f"{self.server}-client{index}.json"
        result = msgspec.json.decode(path.read_bytes(), type=learners.ClientResults)
        latencies = array("d")
        latency_path = Path(str(path) + ".latency")
        with latency_path.open("rb") as file:
            latencies.fromfile(file, latency_path.stat().st_size // latencies.itemsize)
        return result, latencies

    def _figures(
        self,
        results: list[tuple[learners.ClientResults, array]],
        start: float,
        end: float,
        baseline_rss: int,
        connected: int,
    ) -> dict[str, float]:
        window = end - start
        total = learners.ClientResults()
        checks = sum(result.checks for result, _ in results)
        latencies: list[float] = []
        per_second = [0] * max(len(r.per_second) for r, _ in results)
        for result, latency in results:
            total.sent += result.sent
            total.acks += result.acks
            total.accepted += result.accepted
            latencies.extend(latency)
            for second, count in enumerate(result.per_second):
                per_second[second] += count
        latencies.sort()
        whole_seconds = per_second[: int(window)] or [0]
        figures: dict[str, float] = {
            "learners": self.args.learners,
            "connected": connected,
            "ready_s": max(r.ready_s for r, _ in results),
            "window_s": window,
            "offered_per_s": total.sent / window,
            "acks_per_s": total.acks / window,
            "accepted_per_s": total.accepted / window,
            "accepted_per_s_median_second": statistics.median(whole_seconds),
            "accepted_per_s_min_second": min(whole_seconds),
            "ack_p50_ms": 1000 * percentile(latencies, 0.50),
            "ack_p95_ms": 1000 * percentile(latencies, 0.95),
            "ack_p99_ms": 1000 * percentile(latencies, 0.99),
            "ack_max_ms": 1000 * (latencies[-1] if latencies else float("nan")),
            "errors": sum(sum(r.errors.values()) for r, _ in results),
            "checks_per_s": checks / window,
            "server_baseline_rss_mib": baseline_rss / 2**20,
            "processes": self.processes or 1,
            # The host's, at the end of the phase: how much else wanted its two cores.
            "load_average": os.getloadavg()[0],
        }
        for name in ("server", "client", "redis", "postgres", "nginx"):
            cpu = self.sampler.cpu_percent(name, start, end)
            if cpu is not None:
                figures[f"{name}_cpu_pct"] = cpu
                if total.acks:
                    # CPU time per answered beat: what a beat costs, however busy the machine.
                    figures[f"{name}_cpu_us_per_ack"] = cpu / 100 * window / total.acks * 1e6
                if total.accepted:
                    # ... and per credited beat: check-ins' answers and the beats they leave
                    # without credit included.
                    cpu_us = cpu / 100 * window * 1e6
                    figures[f"{name}_cpu_us_per_accepted"] = cpu_us / total.accepted
        rss = self.sampler.median_rss("server", start, end)
        if rss is not None:
            figures["server_rss_mib"] = rss / 2**20
            if connected:
                figures["rss_per_connection_kib"] = (rss - baseline_rss) / connected / 1024
        return figures


def _storage(before: tuple[int, int, float], after: tuple[int, int, float]) -> dict[str, float]:
    """The study record this phase added: bytes (table and index) per learner-hour played."""
    grown_bytes, segments, hours = (a - b for a, b in zip(after, before, strict=True))
    return {
        "timeline_segments": segments,
        "timeline_learner_hours": hours,
        "timeline_bytes_per_learner_hour": grown_bytes / hours if hours else float("nan"),
        "timeline_segments_per_learner_hour": segments / hours if hours else float("nan"),
        "timeline_bytes_per_segment": grown_bytes / segments if segments else float("nan"),
    }


def _flush_sample(population: list[tuple[int, str]]) -> list[int]:
    step = max(1, len(population) // FLUSH_SAMPLE)
    return [learner_id for learner_id, _ in population[::step]]


async def _finish_flushes(
    flushes: FlushWatch, watching: "asyncio.Task[None]", acks: list[tuple[int, float, float]]
) -> dict[str, float]:
    """Keep polling until every sampled ack is in PostgreSQL (or the horizon passes)."""
    for _ in range(int(FLUSH_HORIZON_S / 0.5)):
        if not flushes.lags(acks)[1]:
            break
        await asyncio.sleep(0.5)
    flushes.stopping.set()
    await watching
    lags, unflushed = flushes.lags(acks)
    lags.sort()
    return {
        "flush_samples": len(acks),
        "flush_unflushed": unflushed,
        "flush_p50_ms": 1000 * percentile(lags, 0.50),
        "flush_p99_ms": 1000 * percentile(lags + [float("inf")] * unflushed, 0.99),
        "flush_max_ms": 1000 * (lags[-1] if lags else float("nan")),
    }


async def _profile(pid: int, start: float, end: float, output: str) -> None:
    await asyncio.sleep(max(0.0, start - time.time()))
    command = ["py-spy", "record", "--pid", str(pid), "--duration", str(int(end - start))]
    command += ["--rate", "100", "--nonblocking", "--format", "raw", "--output", output]
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    process = await asyncio.create_subprocess_exec(
        py_spy, *command[1:], stdout=asyncio.subprocess.DEVNULL
    )
    await process.wait()


TARGETS = {
    "closed": "(a) accepted beats/s >= 35% of the bare server's",
    "interval": "(b) at 20,000 learners / 2 s: ack p99 <= 50 ms, 0 errors, flush p99 <= 2 s",
    "idle": "(c) 50,000 idle learners at <= 20 KiB RSS each",
}

ROWS = [
    ("connected", "connected learners", "{:.0f}"),
    ("ready_s", "time to connect all (s)", "{:.1f}"),
    ("offered_per_s", "beats sent /s", "{:.0f}"),
    ("accepted_per_s", "accepted beats /s (window mean)", "{:.0f}"),
    ("accepted_per_s_median_second", "  per second: median", "{:.0f}"),
    ("accepted_per_s_min_second", "  per second: min", "{:.0f}"),
    ("ack_p50_ms", "ack latency p50 (ms)", "{:.1f}"),
    ("ack_p95_ms", "ack latency p95 (ms)", "{:.1f}"),
    ("ack_p99_ms", "ack latency p99 (ms)", "{:.1f}"),
    ("ack_max_ms", "ack latency max (ms)", "{:.1f}"),
    ("errors", "errors", "{:.0f}"),
    ("server_cpu_pct", "server CPU (% of a core)", "{:.0f}"),
    ("server_baseline_rss_mib", "server RSS before sockets (MiB)", "{:.1f}"),
    ("server_rss_mib", "server RSS, window median (MiB)", "{:.1f}"),
    ("rss_per_connection_kib", "RSS per connection (KiB)", "{:.1f}"),
    ("server_cpu_us_per_ack", "server CPU per ack (us)", "{:.0f}"),
    ("server_cpu_us_per_accepted", "server CPU per accepted beat (us)", "{:.0f}"),
    ("processes", "server processes", "{:.0f}"),
    ("checks_per_s", "check-ins answered /s", "{:.1f}"),
    ("client_cpu_pct", "load generator CPU (%)", "{:.0f}"),
    ("client_cpu_us_per_ack", "load generator CPU per ack (us)", "{:.0f}"),
    ("redis_cpu_pct", "Redis CPU (%)", "{:.0f}"),
    ("redis_cpu_us_per_ack", "Redis CPU per ack (us)", "{:.0f}"),
    ("postgres_cpu_pct", "PostgreSQL CPU (%)", "{:.0f}"),
    ("postgres_cpu_us_per_ack", "PostgreSQL CPU per ack (us)", "{:.0f}"),
    ("nginx_cpu_pct", "nginx CPU (%)", "{:.0f}"),
    ("nginx_cpu_us_per_ack", "nginx CPU per ack (us)", "{:.0f}"),
    ("load_average", "host load average (1 min, at end)", "{:.1f}"),
    ("flush_p50_ms", "flush lag p50 (ms)", "{:.0f}"),
    ("flush_p99_ms", "flush lag p99 (ms)", "{:.0f}"),
    ("flush_max_ms", "flush lag max (ms)", "{:.0f}"),
    ("flush_samples", "flush lag samples", "{:.0f}"),
    ("flush_unflushed", "  not in PostgreSQL after 15 s", "{:.0f}"),
    ("timeline_segments", "timeline segments written", "{:.0f}"),
    ("timeline_learner_hours", "  learner-hours they cover", "{:.1f}"),
    ("timeline_segments_per_learner_hour", "  segments per learner-hour", "{:.1f}"),
    ("timeline_bytes_per_learner_hour", "  bytes per learner-hour", "{:.0f}"),
    ("timeline_bytes_per_segment", "  bytes per segment", "{:.0f}"),
]


def print_report(args: argparse.Namespace, runs: list[Run]) -> None:
    loop = "uvloop" if args.uvloop or args.server_uvloop else "asyncio"
    print(
        f"\nmode {args.mode}, {args.learners} learners, interval {args.interval_ms} ms,"
        f" window {args.duration_s:.0f} s, server loop {loop}"
    )
    names = [run.server for run in runs]
    print(f"{'':34}" + "".join(f"{name:>12}" for name in names))
    for key, label, form in ROWS:
        if not any(key in run.figures for run in runs):
            continue
        cells = [form.format(run.figures[key]) if key in run.figures else "-" for run in runs]
        print(f"{label:34}" + "".join(f"{cell:>12}" for cell in cells))
    by_name = {run.server: run for run in runs}
    ratio = None
    if "engine" in by_name and "bare" in by_name and args.mode != "idle":
        bare = by_name["bare"].figures["accepted_per_s"]
        ratio = by_name["engine"].figures["accepted_per_s"] / bare if bare else float("nan")
        print(f"{'engine / bare accepted beats/s':34}{ratio:>12.1%}")
    cost = _checks_cost(runs)
    if cost is not None:
        print(f"{'checks / engine CPU per accepted':34}{cost:>12.1%}")
        print(f"target: check-ins cost at most 10% CPU per accepted beat: {_met(cost <= 1.10)}")
    for run in runs:
        if run.errors:
            print(f"{run.server} errors: {run.errors}")
        if run.reasons:
            print(f"{run.server} acks without credit: {run.reasons}")
    if any(":" in name for name in names):
        print_scale(runs)
    engine = by_name.get("engine")
    if engine is None:
        return
    print(f"\ntarget {TARGETS[args.mode]}: {_verdict(args, engine, ratio)}")


SCALE_COLUMNS = [
    ("accepted_per_s", "accepted/s", "{:.0f}"),
    ("ack_p50_ms", "p50 ms", "{:.0f}"),
    ("ack_p99_ms", "p99 ms", "{:.0f}"),
    ("server_cpu_pct", "engine %", "{:.0f}"),
    ("server_cpu_us_per_accepted", "engine us/beat", "{:.0f}"),
    ("nginx_cpu_pct", "nginx %", "{:.0f}"),
    ("nginx_cpu_us_per_accepted", "nginx us/beat", "{:.0f}"),
    ("redis_cpu_pct", "Redis %", "{:.0f}"),
    ("redis_cpu_us_per_accepted", "Redis us/beat", "{:.0f}"),
    ("client_cpu_pct", "client %", "{:.0f}"),
    ("client_cpu_us_per_accepted", "client us/beat", "{:.0f}"),
    ("load_average", "load avg", "{:.1f}"),
]


def print_scale(runs: list[Run]) -> None:
    """Per server (engine:N), the medians of its runs; CPU per accepted beat is summed over
    the server's processes (and nginx's, and every Redis node's)."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.server, []).append(run)
    print("\nper server, medians of its runs (CPU per accepted beat: all its processes)")
    header = ["server", "runs", *(label for _, label, _ in SCALE_COLUMNS), "errors"]
    header += ["engine s/1000", "1 core each"]
    print("".join(f"{cell:>15}" for cell in header))
    for name, group in groups.items():
        cells = [name, str(len(group))]
        for key, _, form in SCALE_COLUMNS:
            values = [run.figures[key] for run in group if key in run.figures]
            cells.append(form.format(statistics.median(values)) if values else "-")
        cells.append(str(sum(int(run.figures["errors"]) for run in group)))
        per_beat = [
            run.figures["server_cpu_us_per_accepted"]
            for run in group
            if "server_cpu_us_per_accepted" in run.figures
        ]
        if per_beat:
            us = statistics.median(per_beat)
            processes = group[0].figures["processes"]
            # An extrapolation, not a measurement: every process given a core of its own.
            cells += [f"{us / 1000:.3f}", f"{processes * 1e6 / us:.0f}/s"]
        print("".join(f"{cell:>15}" for cell in cells))


def _checks_cost(runs: list[Run]) -> float | None:
    """Median server CPU per accepted beat with check-ins on over the same with them off."""
    key = "server_cpu_us_per_accepted"
    on = [run.figures[key] for run in runs if run.server == "checks" and key in run.figures]
    off = [run.figures[key] for run in runs if run.server == "engine" and key in run.figures]
    if not on or not off:
        return None
    return statistics.median(on) / statistics.median(off)


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


def _verdict(args: argparse.Namespace, engine: Run, ratio: float | None) -> str:
    figures = engine.figures
    if args.mode == "closed":
        return "n/a (no bare run)" if ratio is None else "met" if ratio >= 0.35 else "NOT met"
    if args.mode == "idle":
        per_connection = figures.get("rss_per_connection_kib", float("inf"))
        met = per_connection <= 20 and figures["connected"] >= 50_000 and not figures["errors"]
        return "met" if met else "NOT met"
    met = (
        figures["ack_p99_ms"] <= 50
        and figures["errors"] == 0
        and figures.get("flush_p99_ms", float("inf")) <= 2000
        and figures["connected"] >= 20_000
        and args.interval_ms <= 2000
    )
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()
