"""Benchmark of exams: N examinees start, answer and are graded at one shared deadline.

    flock /tmp/jixu-bench.lock .venv/bin/python bench/exams.py
    flock /tmp/jixu-bench.lock .venv/bin/python bench/exams.py --learners 500 --deadline-s 30

It starts embedded PostgreSQL and Redis in a temporary folder (or uses DATABASE_URL and
REDIS_URL), migrates, creates the learners with the course studied to 100%, its question
bank and a token per learner, starts `jixu serve` as a child process and the load generator
(bench/examinees.py) as another, then creates an exam whose window closes `--deadline-s`
after the start, so that every attempt shares that deadline. It watches PostgreSQL until
every attempt is graded, then compares every acknowledged answer with the answers graded.
See bench/README.md for what each figure means.
"""

import argparse
import asyncio
import contextlib
import math
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from array import array
from collections import Counter
from pathlib import Path

import asyncpg
import msgspec

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # the engine, when run from anywhere

import examinees  # noqa: E402
import processes  # noqa: E402
from measures import Sampler, percentile, profile_summary  # noqa: E402
from population import create_exam, examine, populate  # noqa: E402

from engine.exams.keys import GRACE_MS  # noqa: E402

# Polls of PostgreSQL for graded attempts: how often.
WATCH_EVERY_S = 0.05
# The targets of the brief, checked by the report.
TARGET_GRADED_S = 2.0
TARGET_ACK_P99_MS = 50.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark exams: start, answer and auto-submission at one deadline."
    )
    parser.add_argument("--learners", type=int, default=2000, help="simulated examinees")
    parser.add_argument(
        "--deadline-s", type=float, default=45.0, help="the shared deadline, after the start"
    )
    parser.add_argument(
        "--spread-s", type=float, default=10.0, help="attempts start within this long"
    )
    parser.add_argument(
        "--answer-interval-ms",
        type=int,
        help="between an examinee's answers (default: spread until 5 s before the deadline)",
    )
    parser.add_argument(
        "--late-fraction",
        type=float,
        default=0.1,
        help="examinees who change an answer around the end of the grace",
    )
    parser.add_argument(
        "--horizon-s",
        type=float,
        default=60.0,
        help="after deadline + grace, how long to wait for every attempt to be graded",
    )
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--no-uvloop", action="store_true", help="the load generator on asyncio")
    parser.add_argument(
        "--engine-command", help="run this instead of `jixu serve` (a wrapper, another build)"
    )
    parser.add_argument("--profile", help="py-spy record the engine while it grades, to FILE")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # the load generator's own mode
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    processes.raise_fd_limit()
    if args.client:
        examinees.main(args.client)
        return
    interval_s = (args.answer_interval_ms or 0) / 1000
    last_answer_s = args.spread_s + 21 * interval_s
    if last_answer_s > args.deadline_s:
        print(
            f"warning: the last examinees answer until ~{last_answer_s:.0f} s, past the"
            f" deadline at {args.deadline_s:.0f} s: their last answers will be refused",
            file=sys.stderr,
        )
    try:
        figures, errors = asyncio.run(benchmark(args))
    except KeyboardInterrupt:
        sys.exit("interrupted")
    print_report(args, figures, errors)
    if args.profile and Path(args.profile).exists():
        print(f"\nengine profile while grading ({args.profile})")
        print(profile_summary(args.profile))
    if args.json:
        document = {"args": vars(args), "figures": figures, "errors": errors}
        Path(args.json).write_bytes(msgspec.json.format(msgspec.json.encode(document)))


async def benchmark(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, int]]:
    processes.cancel_on_signals()
    try:
        return await _benchmark(args)
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


async def _benchmark(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, int]]:
    with (
        tempfile.TemporaryDirectory(prefix="jixu-bench-") as folder,
        processes.stores(Path(folder)) as (database_url, redis_url, data_dir),
    ):
        began = time.monotonic()
        population = await populate(database_url, redis_url, args.learners)
        plan_id, course_id = await examine(
            database_url, [learner_id for learner_id, _ in population.learners]
        )
        print(
            f"population: {args.learners} learners, course {course_id} studied to 100%,"
            f" ready in {time.monotonic() - began:.1f} s",
            flush=True,
        )
        sitting = Sitting(args, Path(folder), database_url, redis_url, data_dir)
        return await sitting.run(population.learners, plan_id, course_id)


class Sitting:
    """The engine, the load generator against it, and what is watched meanwhile."""

    def __init__(
        self,
        args: argparse.Namespace,
        folder: Path,
        database_url: str,
        redis_url: str,
        data_dir: Path | None,
    ) -> None:
        self.args = args
        self.folder = folder
        self.database_url = database_url
        self.redis_url = redis_url
        self.data_dir = data_dir
        self.port = processes.free_port()
        self.sampler = Sampler(every_s=0.25)

    async def run(
        self, learners: list[tuple[int, str]], plan_id: int, course_id: int
    ) -> tuple[dict[str, float], dict[str, int]]:
        args = self.args
        async with contextlib.AsyncExitStack() as stack:
            server = await stack.enter_async_context(
                processes.child(
                    self._server_command(),
                    processes.engine_env(self.database_url, self.redis_url, self.port),
                )
            )
            await processes.wait_listening(self.port, server)
            self.sampler.watch("server", lambda: [server.pid])
            self.sampler.watch_stores(self.data_dir)
            sampling = asyncio.create_task(self.sampler.run())
            stack.callback(sampling.cancel)
            clients = [
                await stack.enter_async_context(
                    processes.child(self._client_command(i, learners), None, pipes=True)
                )
                for i in range(args.client_processes)
            ]
            self.sampler.watch("client", lambda: [client.pid for client in clients])
            await asyncio.gather(*(processes.read_event(client, "ready") for client in clients))
            go = time.time() + 1.0
            deadline = go + args.deadline_s
            exam_id = await create_exam(self.database_url, plan_id, course_id, int(deadline * 1000))
            signal_line = msgspec.json.encode(
                examinees.Go(
                    exam_id=exam_id,
                    go=go,
                    spread_s=args.spread_s,
                    deadline=deadline,
                    grace_s=GRACE_MS / 1000,
                    answer_interval_s=(
                        args.answer_interval_ms / 1000 if args.answer_interval_ms else None
                    ),
                    late_fraction=args.late_fraction,
                    horizon_s=args.horizon_s,
                )
            )
            for client in clients:
                assert client.stdin is not None
                client.stdin.write(signal_line + b"\n")
                await client.stdin.drain()
            print(f"go: exam {exam_id}, deadline in {args.deadline_s:.0f} s", flush=True)
            watch = GradingWatch(self.database_url, exam_id, deadline, args.horizon_s)
            watching = asyncio.create_task(watch.run())
            stack.callback(watching.cancel)
            profile = None
            if args.profile:
                profile = asyncio.create_task(_profile(server.pid, deadline, args.profile))
            horizon = deadline + GRACE_MS / 1000 + args.horizon_s + 30
            await asyncio.wait_for(
                asyncio.gather(*(client.wait() for client in clients)), horizon - time.time()
            )
            watch.clients_done.set()
            await asyncio.wait_for(watching, max(1.0, horizon - time.time()))
            if profile is not None:
                await profile
            results = [self._client_results(i) for i in range(args.client_processes)]
            stored = await _graded_attempts(self.database_url, exam_id)
        figures, errors = self._figures(results, stored, watch, go, deadline)
        # The machine is shared: what else ran during the last minute (2 cores).
        figures["load_1min"] = os.getloadavg()[0]
        return figures, errors

    def _server_command(self) -> list[str]:
        if self.args.engine_command:
            return shlex.split(self.args.engine_command)
        jixu = shutil.which("jixu", path=str(Path(sys.executable).parent)) or "jixu"
        return [jixu, "serve"]  # on uvloop where it is installed, as in production

    def _client_command(self, index: int, learners: list[tuple[int, str]]) -> list[str]:
        size = -(-len(learners) // self.args.client_processes)
        first = index * size
        config = examinees.ClientConfig(
            base_url=f"http://127.0.0.1:{self.port}",
            learners=learners[first : first + size],
            first_index=first,
            uvloop=not self.args.no_uvloop,
            results_path=str(self.folder / f"client{index}.json"),
        )
        path = self.folder / f"client{index}.config.json"
        path.write_bytes(msgspec.json.encode(config))
        return [sys.executable, str(Path(__file__).resolve()), "--client", str(path)]

    def _client_results(self, index: int) -> tuple[examinees.ClientResults, dict[str, array]]:
        path = self.folder / f"client{index}.json"
        result = msgspec.json.decode(path.read_bytes(), type=examinees.ClientResults)
        latencies = {}
        for name in ("start", "ack", "late"):
            values = array("d")
            raw = Path(f"{path}.{name}")
            with raw.open("rb") as file:
                values.fromfile(file, raw.stat().st_size // values.itemsize)
            latencies[name] = values
        return result, latencies

    def _figures(
        self,
        results: list[tuple[examinees.ClientResults, dict[str, array]]],
        stored: dict[int, "Stored"],
        watch: "GradingWatch",
        go: float,
        deadline: float,
    ) -> tuple[dict[str, float], dict[str, int]]:
        args, grace_s = self.args, GRACE_MS / 1000
        sitting = [seen for result, _ in results for seen in result.examinees]
        replies = {  # (wall time of the reply, latency)
            name: [pair for _, arrays in results for pair in _pairs(arrays[name])]
            for name in ("start", "ack", "late")
        }
        latencies = {
            name: sorted(latency for _, latency in pairs) for name, pairs in replies.items()
        }
        # Acks while attempts are still being started share the server with the starts.
        last_start = max((at for at, _ in replies["start"]), default=math.nan)
        acks_after = sorted(latency for at, latency in replies["ack"] if at > last_start)
        errors: Counter[str] = Counter()
        for result, _ in results:
            errors.update(result.errors)
        acked = lost = late_acked = late_refused = extra = 0
        for seen in sitting:
            late_acked += seen.late == "acked"
            late_refused += seen.late not in ("", "acked")
            graded = stored.get(seen.attempt_id)
            acked += len(seen.acked)
            if graded is None:
                lost += len(seen.acked)
                continue
            lost += sum(graded.answers.get(q) != answer for q, answer in seen.acked.items())
            extra += sum(q not in seen.acked for q in graded.answers)
        results_at = sorted(seen.result_at - deadline for seen in sitting if seen.result_at)
        graded_at = sorted(row.submitted_at - deadline for row in stored.values() if row.graded)
        figures: dict[str, float] = {
            "learners": args.learners,
            "attempts_started": len(latencies["start"]),
            "start_p50_ms": 1000 * percentile(latencies["start"], 0.50),
            "start_p99_ms": 1000 * percentile(latencies["start"], 0.99),
            "start_max_ms": 1000 * (latencies["start"] or [float("nan")])[-1],
            "answers_acked": acked,
            "ack_p50_ms": 1000 * percentile(latencies["ack"], 0.50),
            "ack_p99_ms": 1000 * percentile(latencies["ack"], 0.99),
            "ack_max_ms": 1000 * (latencies["ack"] or [float("nan")])[-1],
            "last_start_s": last_start - go,
            "acks_after_starts": len(acks_after),
            "ack_after_starts_p50_ms": 1000 * percentile(acks_after, 0.50),
            "ack_after_starts_p99_ms": 1000 * percentile(acks_after, 0.99),
            "late_acked": late_acked,
            "late_refused": late_refused,
            "attempts_graded": sum(row.graded for row in stored.values()),
            "attempts_in_db": len(stored),
            "last_started_s": watch.last_started() - deadline,
            "graded_first_s": watch.first_graded() - deadline,
            "graded_last_s": watch.all_graded() - deadline,
            "graded_last_after_grace_s": watch.all_graded() - deadline - grace_s,
            "submitted_at_first_s": graded_at[0] if graded_at else float("nan"),
            "submitted_at_last_s": graded_at[-1] if graded_at else float("nan"),
            "results_received": len(results_at),
            "result_p50_s": percentile(results_at, 0.50),
            "result_last_s": results_at[-1] if results_at else float("nan"),
            "answers_lost": lost,
            "answers_unacked_stored": extra,
            "errors": sum(errors.values()),
            "ticks": sum(result.ticks for result, _ in results),
        }
        phases = {
            "starting": (go, go + args.spread_s),
            "answering": (go + args.spread_s, deadline),
            "grading": (deadline + grace_s - 0.25, watch.all_graded() + 0.25),
        }
        for name in ("server", "client", "redis", "postgres"):
            for phase, (start, end) in phases.items():
                cpu = self.sampler.cpu_percent(name, start, end)
                if cpu is not None:
                    figures[f"{name}_cpu_{phase}_pct"] = cpu
                    # CPU time, the figure least disturbed by the machine's other work.
                    figures[f"{name}_cpu_{phase}_s"] = cpu / 100 * (end - start)
        rss = [sample[2] for sample in self.sampler.series["server"]]
        figures["server_rss_max_mib"] = max(rss) / 2**20
        figures["server_rss_median_mib"] = statistics.median(rss) / 2**20
        return figures, dict(errors)


def _pairs(values: array) -> list[tuple[float, float]]:
    return list(zip(values[::2], values[1::2], strict=True))


class Stored(msgspec.Struct):
    graded: bool
    submitted_at: float  # wall clock, seconds; 0 while in progress
    answers: dict[int, list[str]]


async def _graded_attempts(database_url: str, exam_id: int) -> dict[int, Stored]:
    """Every attempt of the exam as PostgreSQL holds it, by id."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            """SELECT id, status = 'submitted' AND submitted_by = 'deadline' AS graded,
                      coalesce(extract(epoch FROM submitted_at), 0)::float8 AS submitted_at,
                      answers
               FROM exam_attempts WHERE exam_id = $1""",
            exam_id,
        )
    finally:
        await connection.close()
    decode = msgspec.json.Decoder(dict[int, list[str]]).decode
    return {
        row["id"]: Stored(row["graded"], row["submitted_at"], decode(row["answers"]))
        for row in rows
    }


class GradingWatch:
    """Polls PostgreSQL for the exam's attempts and how many are graded, and notes when each
    count first became visible (wall clock) until the load generator is done and none is
    left in progress. Attempts still being started near the deadline appear late, so the
    last one graded is known only at the end."""

    def __init__(self, database_url: str, exam_id: int, deadline: float, horizon_s: float) -> None:
        self.database_url = database_url
        self.exam_id = exam_id
        self.deadline = deadline
        self.horizon_s = horizon_s
        self.clients_done = asyncio.Event()
        self.timeline: list[tuple[float, int, int]] = []  # (seen at, graded, attempts)

    async def run(self) -> None:
        horizon = self.deadline + GRACE_MS / 1000 + self.horizon_s
        connection = await asyncpg.connect(self.database_url)
        try:
            while time.time() < horizon:
                graded, total = await connection.fetchrow(
                    """SELECT count(*) FILTER (WHERE status = 'submitted'), count(*)
                       FROM exam_attempts WHERE exam_id = $1""",
                    self.exam_id,
                )
                # Taken after the answer: a time is late by at most one poll and one query.
                if not self.timeline or self.timeline[-1][1:] != (graded, total):
                    self.timeline.append((time.time(), graded, total))
                if self.clients_done.is_set() and graded == total:
                    return
                await asyncio.sleep(WATCH_EVERY_S)
        finally:
            await connection.close()

    def first_graded(self) -> float:
        return next((at for at, graded, _ in self.timeline if graded), math.nan)

    def all_graded(self) -> float:
        """When the last attempt was seen graded; NaN if some never was."""
        if not self.timeline or self.timeline[-1][1] != self.timeline[-1][2]:
            return math.nan
        final = self.timeline[-1][2]
        return next(at for at, graded, _ in self.timeline if graded >= final)

    def last_started(self) -> float:
        """When the last attempt appeared."""
        final = self.timeline[-1][2] if self.timeline else 0
        return next((at for at, _, total in self.timeline if total >= final), math.nan)


async def _profile(pid: int, deadline: float, output: str) -> None:
    """py-spy on the engine from just before the end of the grace, for 10 s."""
    await asyncio.sleep(max(0.0, deadline + GRACE_MS / 1000 - 0.5 - time.time()))
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    command = ["record", "--pid", str(pid), "--duration", "10", "--rate", "200"]
    command += ["--nonblocking", "--format", "raw", "--output", output]
    process = await asyncio.create_subprocess_exec(
        py_spy, *command, stdout=asyncio.subprocess.DEVNULL
    )
    await process.wait()


ROWS = [
    ("attempts_started", "attempts started (HTTP 201)", "{:.0f}"),
    ("start_p50_ms", "attempt start latency p50 (ms)", "{:.1f}"),
    ("start_p99_ms", "attempt start latency p99 (ms)", "{:.1f}"),
    ("start_max_ms", "attempt start latency max (ms)", "{:.1f}"),
    ("answers_acked", "answers acknowledged", "{:.0f}"),
    ("ack_p50_ms", "answer ack latency p50 (ms)", "{:.1f}"),
    ("ack_p99_ms", "answer ack latency p99 (ms)", "{:.1f}"),
    ("ack_max_ms", "answer ack latency max (ms)", "{:.1f}"),
    ("last_start_s", "last attempt started, after go (s)", "{:.1f}"),
    ("acks_after_starts", "  answers acknowledged after that", "{:.0f}"),
    ("ack_after_starts_p50_ms", "  their ack latency p50 (ms)", "{:.1f}"),
    ("ack_after_starts_p99_ms", "  their ack latency p99 (ms)", "{:.1f}"),
    ("late_acked", "late answers acknowledged", "{:.0f}"),
    ("late_refused", "late answers refused (expected)", "{:.0f}"),
    ("attempts_graded", "attempts auto-submitted", "{:.0f}"),
    ("last_started_s", "last attempt stored, after deadline (s)", "{:.2f}"),
    ("graded_first_s", "first graded, after the deadline (s)", "{:.2f}"),
    ("graded_last_s", "last graded, after the deadline (s)", "{:.2f}"),
    ("graded_last_after_grace_s", "  after deadline + grace (s)", "{:.2f}"),
    ("submitted_at_first_s", "submitted_at first − deadline (s)", "{:.2f}"),
    ("submitted_at_last_s", "submitted_at last − deadline (s)", "{:.2f}"),
    ("results_received", "exam.result received", "{:.0f}"),
    ("result_p50_s", "exam.result p50, after deadline (s)", "{:.2f}"),
    ("result_last_s", "exam.result last, after deadline (s)", "{:.2f}"),
    ("answers_lost", "acknowledged answers lost", "{:.0f}"),
    ("answers_unacked_stored", "graded answers never acknowledged", "{:.0f}"),
    ("errors", "errors", "{:.0f}"),
    ("ticks", "exam.tick received", "{:.0f}"),
    ("server_cpu_starting_pct", "server CPU starting (% of a core)", "{:.0f}"),
    ("server_cpu_answering_pct", "server CPU answering (%)", "{:.0f}"),
    ("server_cpu_grading_pct", "server CPU grading (%)", "{:.0f}"),
    ("server_cpu_grading_s", "server CPU time grading (s)", "{:.2f}"),
    ("server_rss_median_mib", "server RSS median (MiB)", "{:.1f}"),
    ("server_rss_max_mib", "server RSS max (MiB)", "{:.1f}"),
    ("client_cpu_answering_pct", "load generator CPU answering (%)", "{:.0f}"),
    ("redis_cpu_answering_pct", "Redis CPU answering (%)", "{:.0f}"),
    ("redis_cpu_grading_pct", "Redis CPU grading (%)", "{:.0f}"),
    ("postgres_cpu_starting_pct", "PostgreSQL CPU starting (%)", "{:.0f}"),
    ("postgres_cpu_grading_pct", "PostgreSQL CPU grading (%)", "{:.0f}"),
    ("postgres_cpu_grading_s", "PostgreSQL CPU time grading (s)", "{:.2f}"),
    ("load_1min", "machine load average, 1 min", "{:.1f}"),
]


def print_report(
    args: argparse.Namespace, figures: dict[str, float], errors: dict[str, int]
) -> None:
    pace = (
        f"an answer every {args.answer_interval_ms} ms"
        if args.answer_interval_ms
        else "answers spread until 5 s before the deadline"
    )
    print(
        f"\n{args.learners} examinees, starts within {args.spread_s:.0f} s, {pace},"
        f" deadline at {args.deadline_s:.0f} s, grace {GRACE_MS} ms"
    )
    for key, label, form in ROWS:
        if key in figures:
            print(f"{label:40}{form.format(figures[key]):>12}")
    if errors:
        print(f"errors: {errors}")
    everyone = figures["attempts_graded"] == figures["attempts_started"] == args.learners
    graded = everyone and figures["graded_last_s"] <= TARGET_GRADED_S
    after_grace = everyone and figures["graded_last_after_grace_s"] <= TARGET_GRADED_S
    print(
        f"\ntarget: every attempt graded within {TARGET_GRADED_S:.0f} s of the deadline:"
        f" {_verdict(graded)} (grading may start only at deadline + {GRACE_MS} ms);"
        f" within {TARGET_GRADED_S:.0f} s of deadline + grace: {_verdict(after_grace)}"
    )
    print(f"target: 0 answers lost: {_verdict(figures['answers_lost'] == 0)}")
    print(
        f"target: answer ack p99 <= {TARGET_ACK_P99_MS:.0f} ms:"
        f" {_verdict(figures['ack_p99_ms'] <= TARGET_ACK_P99_MS)}"
    )


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()
