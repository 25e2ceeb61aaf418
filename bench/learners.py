"""The load generator: simulated learners speaking PROTOCOL.md over aiohttp client websockets.

Run by heartbeats.py as a child process (`heartbeats.py --client CONFIG`). Each learner
connects with its bearer token, says hello, plays the chapter and pauses; once every learner
is ready the parent sends `go` on stdin with the measurement window, and each learner
resumes and beats with an increasing seq and an honest position (the position advances by
the real time elapsed since it resumed). Counts and latencies are taken inside the window;
the results go to a JSON file and the latencies to a raw array of doubles beside it.
"""

import asyncio
import sys
import time
from array import array
from collections import Counter
from typing import Literal

import aiohttp
import msgspec
import processes
from aiohttp import WSMsgType

from engine.sessions import protocol

Mode = Literal["closed", "interval", "idle"]
# After the window ends, beats still waiting this long for their ack count as errors.
ACK_GRACE_S = 5.0
# While waiting for `go`, a ready learner pings this often: the server's heartbeat (30 s,
# then 15 s for the pong) would drop a socket that nobody reads, and a long ramp is longer.
KEEPALIVE_S = 20.0
PROGRESS_EVERY_S = 5.0


class ClientConfig(msgspec.Struct, kw_only=True):
    url: str
    learners: list[tuple[int, str]]  # (learner id, bearer token)
    first_index: int  # this process's first learner in the whole population
    chapter_id: int
    mode: Mode
    interval_ms: int
    source_addresses: int  # 0: the kernel's choice; K: 127.0.0.2 … 127.0.0.(K+1)
    uvloop: bool
    flush_sample: list[int]  # learners whose accepted acks are timed for the flush lag
    connect_concurrency: int
    results_path: str


class Go(msgspec.Struct):
    """The parent's start signal: wall-clock times of the start and of the window."""

    go: float
    start: float
    end: float


class ClientResults(msgspec.Struct, kw_only=True):
    connected: int = 0
    ready_s: float = 0.0
    sent: int = 0  # beats sent inside the window
    acks: int = 0  # acks received inside the window
    accepted: int = 0  # of which credited_s > 0
    checks: int = 0  # check-ins answered inside the window
    reasons: dict[str, int] = {}
    errors: dict[str, int] = {}
    per_second: list[int] = []  # accepted acks in each second of the window
    flush_acks: list[tuple[int, float, float]] = []  # (learner, wall time of ack, hwm)


class Reply(msgspec.Struct):
    """Any server message, with the fields the load generator looks at."""

    type: str
    seq: int = -1
    position: float = 0.0
    hwm: float = 0.0
    credited_s: float = 0.0
    reason: str | None = None
    code: str | None = None
    id: str = ""  # of a check-in
    seek_to: float | None = None


class Closed(Exception):
    """The server closed the socket."""


_decode = msgspec.json.Decoder(Reply).decode
_encode = protocol.encoder.encode


class Learners:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.results = ClientResults(reasons={}, errors={})
        self.reasons: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.latencies = array("d")
        self.flush_sample = set(config.flush_sample)
        self.ready = 0
        self.failed = 0
        self.all_ready = asyncio.Event()
        self.started = asyncio.Event()
        self.waiting_for_ack: set[int] = set()
        self.window = (0.0, 0.0)  # monotonic start, end
        self.go_at = 0.0
        self.wall_offset = time.time() - time.monotonic()
        self.per_second: list[int] = []

    async def run(self) -> None:
        config = self.config
        sessions = self._sessions()
        gate = asyncio.Semaphore(config.connect_concurrency)
        began = time.monotonic()
        tasks = [
            asyncio.create_task(self.learner(sessions[i % len(sessions)], gate, i, *learner))
            for i, learner in enumerate(config.learners, config.first_index)
        ]
        progress = asyncio.create_task(self._report_progress())
        await self.all_ready.wait()
        progress.cancel()
        self.results.ready_s = time.monotonic() - began
        self.results.connected = self.ready
        _emit({"event": "ready", "connected": self.ready, "failed": self.failed})
        line = await asyncio.to_thread(sys.stdin.readline)
        go = msgspec.json.decode(line, type=Go)
        self.go_at = go.go - self.wall_offset
        self.window = (go.start - self.wall_offset, go.end - self.wall_offset)
        self.per_second = [0] * max(1, int(go.end - go.start + 1))
        await asyncio.sleep(max(0.0, self.go_at - time.monotonic()))
        self.started.set()
        _, pending = await asyncio.wait(tasks, timeout=self.window[1] - time.monotonic())
        if pending:
            # Idle learners hold until the window ends; beating ones finish their last beat.
            if config.mode != "idle":
                _, pending = await asyncio.wait(pending, timeout=ACK_GRACE_S)
            if self.waiting_for_ack:
                self.errors["no ack by the end"] += len(self.waiting_for_ack)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                self.errors[f"crash: {task.exception()!r}"[:80]] += 1
        await asyncio.gather(*(session.close() for session in sessions))
        self._write_results()

    def _sessions(self) -> list[aiohttp.ClientSession]:
        count = self.config.source_addresses
        addresses = [(f"127.0.0.{2 + i}", 0) for i in range(count)] if count else [None]
        timeout = aiohttp.ClientTimeout(total=None, connect=60)
        return [
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, local_addr=address), timeout=timeout
            )
            for address in addresses
        ]

    async def learner(
        self,
        session: aiohttp.ClientSession,
        gate: asyncio.Semaphore,
        index: int,
        learner_id: int,
        token: str,
    ) -> None:
        try:
            async with gate:
                ws = await session.ws_connect(
                    self.config.url,
                    headers={"Authorization": f"Bearer {token}"},
                    compress=0,
                    max_msg_size=64 * 1024,
                )
                position = await self._start(ws)
        except (aiohttp.ClientError, OSError, TimeoutError, Closed) as exc:
            self.errors[f"connect: {_describe(exc)}"] += 1
            self._count_ready(failed=True)
            return
        self._count_ready()
        try:
            await self._wait_for_go(ws)
            if self.config.mode == "idle":
                await self._hold(ws)
            else:
                await self._beat(ws, learner_id, position, index)
        except (aiohttp.ClientError, OSError, Closed) as exc:
            self.waiting_for_ack.discard(learner_id)
            # A socket lost before or during the window counts; after it, it is ours closing.
            if not self.started.is_set() or time.monotonic() < self.window[1]:
                self.errors[f"socket: {_describe(exc)}"] += 1

    async def _start(self, ws: aiohttp.ClientWebSocketResponse) -> float:
        """hello, play, then pause at once: the player is ready but not yet playing."""
        await _send(ws, protocol.Hello(tab="bench"))
        await self._expect(ws, "welcome")
        await _send(ws, protocol.Play(chapter=self.config.chapter_id))
        playing = await self._expect(ws, "playing")
        await _send(
            ws, protocol.Beat(seq=1, position=playing.position, playing=False, focused=True)
        )
        # A check-in left unanswered in an earlier run is asked again after `playing`.
        await self._ack(ws, 1)
        return playing.position

    async def _wait_for_go(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not self.started.is_set():
            try:
                await asyncio.wait_for(self.started.wait(), KEEPALIVE_S)
            except TimeoutError:
                await _send(ws, protocol.Ping())
                await self._expect(ws, "pong")

    async def _expect(self, ws: aiohttp.ClientWebSocketResponse, kind: str) -> Reply:
        reply = await _receive(ws)
        while reply.type == "attention.ok":  # of a check-in answered while starting
            reply = await _receive(ws)
        if reply.type != kind:
            raise Closed(f"expected {kind}, got {reply.type} {reply.code or ''}".strip())
        return reply

    async def _hold(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Stay connected (answering pings) until cancelled at the end of the window."""
        while True:
            reply = await _receive(ws)
            self.errors[f"unexpected {reply.type}"] += 1

    async def _beat(
        self, ws: aiohttp.ClientWebSocketResponse, learner_id: int, start: float, index: int
    ) -> None:
        closed_loop = self.config.mode == "closed"
        interval = self.config.interval_ms / 1000
        # Interval mode: learners are spread evenly over one interval, as real ones would be.
        offset = 0.0 if closed_loop else interval * ((index * 0.618034) % 1.0)
        next_at = self.go_at + offset
        window_start, window_end = self.window
        seq = 1
        resumed = 0.0
        while next_at < window_end:
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            seq += 1
            sent_at = time.monotonic()
            # Latency counts from when the beat was due: a learner held up by a slow ack
            # would otherwise hide the delay it suffered (coordinated omission).
            due = min(next_at, sent_at)
            if seq == 2:
                resumed, position = sent_at, start  # resume: play on from where it paused
            else:
                position = start + (sent_at - resumed)
            await ws.send_frame(
                _encode(protocol.Beat(seq=seq, position=position, playing=True, focused=True)),
                WSMsgType.TEXT,
            )
            in_window = window_start <= sent_at < window_end
            if in_window:
                self.results.sent += 1
            self.waiting_for_ack.add(learner_id)
            reply = await self._ack(ws, seq)
            self.waiting_for_ack.discard(learner_id)
            acked_at = time.monotonic()
            if reply is not None and reply.seek_to is not None:
                # Sent back (it played on while a check-in waited): play on from there.
                start, resumed = reply.seek_to, acked_at
            if reply is not None and window_start <= acked_at < window_end:
                self._record(learner_id, reply, due, acked_at)
            next_at = acked_at if closed_loop else max(next_at + interval, acked_at)

    async def _ack(self, ws: aiohttp.ClientWebSocketResponse, seq: int) -> Reply | None:
        while True:
            reply = await _receive(ws)
            if reply.type == "ack" and reply.seq == seq:
                return reply
            if reply.type == "attention.check":
                # An attentive learner answers at once; its `attention.ok` is read in passing.
                await _send(ws, protocol.AttentionAnswer(id=reply.id))
                if self.window[0] <= time.monotonic() < self.window[1]:
                    self.results.checks += 1
                continue
            if reply.type == "attention.ok":
                continue
            if reply.type == "error":
                self.errors[f"error: {reply.code}"] += 1
                return None
            self.errors[f"unexpected {reply.type}"] += 1

    def _record(self, learner_id: int, reply: Reply, sent_at: float, acked_at: float) -> None:
        results = self.results
        results.acks += 1
        self.latencies.append(acked_at - sent_at)
        if reply.credited_s > 0:
            results.accepted += 1
            second = int(acked_at - self.window[0])
            if second < len(self.per_second):
                self.per_second[second] += 1
            if learner_id in self.flush_sample:
                results.flush_acks.append((learner_id, acked_at + self.wall_offset, reply.hwm))
        else:
            self.reasons[reply.reason or "none"] += 1

    def _count_ready(self, *, failed: bool = False) -> None:
        if failed:
            self.failed += 1
        else:
            self.ready += 1
        if self.ready + self.failed == len(self.config.learners):
            self.all_ready.set()

    async def _report_progress(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            print(
                f"  client: {self.ready} ready, {self.failed} failed"
                f" of {len(self.config.learners)}",
                file=sys.stderr,
                flush=True,
            )

    def _write_results(self) -> None:
        results = self.results
        results.reasons = dict(self.reasons)
        results.errors = dict(self.errors)
        results.per_second = self.per_second
        with open(self.config.results_path, "wb") as file:
            file.write(msgspec.json.encode(results))
        with open(self.config.results_path + ".latency", "wb") as file:
            self.latencies.tofile(file)


async def _send(ws: aiohttp.ClientWebSocketResponse, message: protocol.Message) -> None:
    await ws.send_frame(_encode(message), WSMsgType.TEXT)


async def _receive(ws: aiohttp.ClientWebSocketResponse) -> Reply:
    message = await ws.receive()
    if message.type is WSMsgType.TEXT:
        return _decode(message.data)
    raise Closed(f"closed {ws.close_code}" if ws.close_code else message.type.name.lower())


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"handshake {exc.status}"
    if isinstance(exc, Closed):
        return str(exc)
    # "Cannot write to closing transport" (closed under us) is not "Connection reset by peer".
    detail = str(exc)[:60]
    return f"{type(exc).__name__} ({detail})" if detail else type(exc).__name__


def _emit(event: dict[str, object]) -> None:
    sys.stdout.write(msgspec.json.encode(event).decode() + "\n")
    sys.stdout.flush()


def main(config_path: str) -> None:
    """The client process: settle it, run the learners, write the results."""
    processes.settle_client()
    with open(config_path, "rb") as file:
        config = msgspec.json.decode(file.read(), type=ClientConfig)
    if config.uvloop:
        import uvloop

        uvloop.run(Learners(config).run())
    else:
        asyncio.run(Learners(config).run())
