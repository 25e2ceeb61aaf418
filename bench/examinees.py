"""The exam load generator: simulated examinees speaking PROTOCOL.md over HTTP and websockets.

Run by exams.py as a child process (`exams.py --client CONFIG`). Once the parent sends `go`
on stdin (the exam, the start, the shared deadline), each examinee starts its attempt with
`POST /api/v1/exams/{id}/attempts` at its own moment within the spread, joins it over the
websocket, answers every question of its paper one after the other (each once its
`exam.saved` is back; evenly spread until a few seconds before the deadline, or one every
answer interval), and stays connected until the server's `exam.result` arrives. A fraction also re-answers one question just around the end of the
grace, racing the sweeper. Every acknowledged answer is kept, to be compared with what
PostgreSQL holds once the attempt is graded; results go to a JSON file, latencies to raw
arrays of doubles beside it (pairs: wall-clock time of the reply, latency).
"""

import asyncio
import random
import sys
import time
from array import array
from collections import Counter
from typing import Any

import aiohttp
import msgspec
import processes
from aiohttp import WSMsgType

from engine.sessions import protocol

# Answers spread over the time left are done this long before the deadline.
ANSWER_MARGIN_S = 5.0
# Late answers are sent this long around deadline + grace (ms): before it they must be taken.
LATE_FROM_MS, LATE_TO_MS = -600, 200


class ClientConfig(msgspec.Struct, kw_only=True):
    base_url: str
    learners: list[tuple[int, str]]  # (learner id, bearer token)
    first_index: int  # this process's first learner in the whole population
    uvloop: bool
    results_path: str


class Go(msgspec.Struct, kw_only=True):
    """The parent's start signal; times are wall-clock seconds."""

    exam_id: int
    go: float
    spread_s: float
    deadline: float
    grace_s: float
    answer_interval_s: float | None  # None: spread over the time left
    late_fraction: float
    horizon_s: float  # after deadline + grace, how long to wait for the result


class Examinee(msgspec.Struct, kw_only=True):
    """What one examinee saw: its attempt, the answers acknowledged, its result."""

    learner_id: int
    attempt_id: int = 0
    acked: dict[int, list[str]] = {}  # question → the last answer acknowledged
    late: str = ""  # "", "acked" or the code refusing the late answer
    result_at: float = 0.0  # wall clock when `exam.result` arrived
    score: int = -1


class ClientResults(msgspec.Struct, kw_only=True):
    examinees: list[Examinee] = []
    errors: dict[str, int] = {}
    ticks: int = 0


class Reply(msgspec.Struct):
    """Any server message, with the fields the load generator looks at."""

    type: str
    seq: int = -1
    attempt: int = 0
    question: int = 0
    score: int = -1
    code: str | None = None


class Closed(Exception):
    """The server closed the socket, or said something unexpected."""


_decode = msgspec.json.Decoder(Reply).decode
_encode = protocol.encoder.encode


class Examinees:
    def __init__(self, config: ClientConfig, go: Go) -> None:
        self.config = config
        self.go = go
        self.results = ClientResults(examinees=[], errors={})
        self.errors: Counter[str] = Counter()
        self.start_latencies = array("d")  # (wall time of the reply, latency) pairs
        self.ack_latencies = array("d")
        self.late_latencies = array("d")
        self.wall_offset = time.time() - time.monotonic()

    def monotonic(self, wall: float) -> float:
        return wall - self.wall_offset

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, connect=60)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=timeout
        ) as session:
            tasks = [
                asyncio.create_task(self.examinee(session, index, learner_id, token))
                for index, (learner_id, token) in enumerate(
                    self.config.learners, self.config.first_index
                )
            ]
            horizon = self.monotonic(self.go.deadline + self.go.grace_s) + self.go.horizon_s
            _, pending = await asyncio.wait(tasks, timeout=horizon - time.monotonic())
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for task in tasks:
            if task.cancelled():
                self.errors["no result by the horizon"] += 1
            elif task.exception() is not None:
                self.errors[f"crash: {task.exception()!r}"[:80]] += 1
        self._write_results()

    async def examinee(
        self, session: aiohttp.ClientSession, index: int, learner_id: int, token: str
    ) -> None:
        go, headers = self.go, {"Authorization": f"Bearer {token}"}
        seen = Examinee(learner_id=learner_id, acked={})
        self.results.examinees.append(seen)
        rng = random.Random(learner_id)
        # Spread evenly over the first seconds, as learners told "the exam is open" would be.
        due = self.monotonic(go.go) + go.spread_s * ((index * 0.618034) % 1.0)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        try:
            paper = await self._start(session, headers, due)
        except (aiohttp.ClientError, OSError, TimeoutError, Closed) as exc:
            self.errors[f"start: {_describe(exc)}"] += 1
            return
        seen.attempt_id = paper["id"]
        try:
            ws = await session.ws_connect(
                f"{self.config.base_url}/ws", headers=headers, max_msg_size=64 * 1024
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.errors[f"connect: {_describe(exc)}"] += 1
            return
        try:
            async with ws:
                await self._sit(ws, seen, paper, rng, index)
        except (aiohttp.ClientError, OSError, Closed) as exc:
            self.errors[f"socket: {_describe(exc)}"] += 1

    async def _start(
        self, session: aiohttp.ClientSession, headers: dict[str, str], due: float
    ) -> dict[str, Any]:
        url = f"{self.config.base_url}/api/v1/exams/{self.go.exam_id}/attempts"
        async with session.post(url, headers=headers) as response:
            body = await response.read()
            if response.status != 201:
                raise Closed(f"HTTP {response.status}")
        self.start_latencies.extend((time.time(), time.monotonic() - due))
        attempt: dict[str, Any] = msgspec.json.decode(body)["attempt"]
        return attempt

    async def _sit(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        seen: Examinee,
        paper: dict[str, Any],
        rng: random.Random,
        index: int,
    ) -> None:
        """Join, answer every question, perhaps answer late, then wait for the result."""
        attempt = seen.attempt_id
        await _send(ws, protocol.ExamJoin(attempt=attempt))
        await self._until(ws, seen, "exam.state")
        questions = paper["questions"]
        interval = self.go.answer_interval_s
        if interval is None:
            answered_by = self.monotonic(self.go.deadline) - ANSWER_MARGIN_S
            interval = max(0.0, answered_by - time.monotonic()) / len(questions)
        # A random phase: with the first answer one full interval in, every examinee's last
        # answer fell due at the same instant (`answered_by`), a burst of the whole cohort.
        next_at = time.monotonic() + interval * rng.random()
        for seq, question in enumerate(questions, 1):
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            answer = _choose(question, rng)
            reply = await self._answer(ws, seen, attempt, question["id"], answer, seq)
            if reply.type == "exam.saved":
                seen.acked[question["id"]] = answer
                self.ack_latencies.extend((time.time(), time.monotonic() - next_at))
            else:
                self.errors[f"answer refused: {reply.code}"] += 1
            next_at += interval
        if (index * 0.381966) % 1.0 < self.go.late_fraction:
            await self._answer_late(ws, seen, attempt, questions[0], rng, len(questions) + 1)
        if seen.result_at == 0.0:
            await self._until(ws, seen, "exam.result")

    async def _answer_late(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        seen: Examinee,
        attempt: int,
        question: dict[str, Any],
        rng: random.Random,
        seq: int,
    ) -> None:
        """Change an answer around the last instant answers are taken: acknowledged, it must
        be the one graded; refused, the previous one must."""
        end_of_grace = self.monotonic(self.go.deadline + self.go.grace_s)
        due = end_of_grace + rng.uniform(LATE_FROM_MS, LATE_TO_MS) / 1000
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        answer = _choose(question, rng)
        reply = await self._answer(ws, seen, attempt, question["id"], answer, seq)
        self.late_latencies.extend((time.time(), time.monotonic() - due))
        if reply.type == "exam.saved":
            seen.acked[question["id"]] = answer
            seen.late = "acked"
        else:
            seen.late = reply.code or reply.type

    async def _answer(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        seen: Examinee,
        attempt: int,
        question: int,
        answer: list[str],
        seq: int,
    ) -> Reply:
        message = protocol.ExamAnswer(attempt=attempt, question=question, answer=answer, seq=seq)
        await _send(ws, message)
        while True:
            reply = await self._receive(ws, seen)
            if (reply.type == "exam.saved" and reply.seq == seq) or reply.type == "error":
                return reply

    async def _until(self, ws: aiohttp.ClientWebSocketResponse, seen: Examinee, kind: str) -> Reply:
        while True:
            reply = await self._receive(ws, seen)
            if reply.type == kind:
                return reply
            if reply.type == "error":
                raise Closed(f"error {reply.code} waiting for {kind}")

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse, seen: Examinee) -> Reply:
        """The next message; ticks are counted and a result is noted wherever it comes."""
        while True:
            message = await ws.receive()
            if message.type is not WSMsgType.TEXT:
                raise Closed(f"closed {ws.close_code}" if ws.close_code else message.type.name)
            reply = _decode(message.data)
            if reply.type == "exam.tick":
                self.results.ticks += 1
                continue
            if reply.type == "exam.result":
                if seen.result_at:
                    self.errors["second result"] += 1
                seen.result_at, seen.score = time.time(), reply.score
            return reply

    def _write_results(self) -> None:
        self.results.errors = dict(self.errors)
        with open(self.config.results_path, "wb") as file:
            file.write(msgspec.json.encode(self.results))
        for name in ("start", "ack", "late"):
            with open(f"{self.config.results_path}.{name}", "wb") as file:
                getattr(self, f"{name}_latencies").tofile(file)


def _choose(question: dict[str, Any], rng: random.Random) -> list[str]:
    """A valid answer in the keys the paper shows: one key, or a few for 多选题."""
    keys = [option["key"] for option in question["options"]]
    if question["type"] == "multiple":
        return sorted(rng.sample(keys, rng.randint(1, len(keys))))
    return [rng.choice(keys)]


async def _send(ws: aiohttp.ClientWebSocketResponse, message: protocol.Message) -> None:
    await ws.send_frame(_encode(message), WSMsgType.TEXT)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"handshake {exc.status}"
    if isinstance(exc, Closed):
        return str(exc)
    return f"{type(exc).__name__} {getattr(exc, 'strerror', None) or ''}".strip()


def _emit(event: dict[str, object]) -> None:
    sys.stdout.write(msgspec.json.encode(event).decode() + "\n")
    sys.stdout.flush()


async def _main(config: ClientConfig) -> None:
    _emit({"event": "ready"})
    line = await asyncio.to_thread(sys.stdin.readline)
    await Examinees(config, msgspec.json.decode(line, type=Go)).run()


def main(config_path: str) -> None:
    """The client process: settle it, run the examinees, write the results."""
    processes.settle_client()
    with open(config_path, "rb") as file:
        config = msgspec.json.decode(file.read(), type=ClientConfig)
    if config.uvloop:
        import uvloop

        uvloop.run(_main(config))
    else:
        asyncio.run(_main(config))
