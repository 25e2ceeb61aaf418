"""Unprompted exam messages: `exam.tick` to joined sockets, `exam.result` to every socket
that joined an attempt, on whichever node holds it."""

import asyncio
from collections.abc import Callable, Sequence

import structlog

from engine.exams.service import Exams
from engine.exams.types import Result
from engine.sessions import protocol
from engine.sessions.hub import Hub

log = structlog.get_logger(__name__)

# PROTOCOL.md: a tick at least every 15 s while joined.
TICK_INTERVAL_S = 10.0
# Each pass ticks one slice of the joined attempts (by attempt id): queueing the ticks of
# 2,000 examinees in one go held the loop ~150 ms, and every answer arriving meanwhile.
TICK_SLICES = 10
# A joined attempt this long past its deadline stops ticking: its result has been pushed.
TICK_AFTER_DEADLINE_MS = 60_000


def result_message(result: Result) -> protocol.ExamResult:
    return protocol.ExamResult(
        attempt=result.attempt_id,
        score=result.score,
        passed=result.passed,
        total_score=result.total_score,
    )


async def push_results(
    hub: Hub, exams: Exams, results: Sequence[Result], *, skip: str = ""
) -> None:
    """Send each result to its attempt's joined sockets (but `skip`), on any node; each
    socket's node then stops ticking the attempt."""
    deliveries = [
        (node_id, conn_id, result_message(result))
        for result, sockets in zip(results, await exams.sockets(results), strict=True)
        for conn_id, node_id in sockets.items()
        if conn_id != skip
    ]
    await hub.send_many(deliveries)


class ExamTicker:
    """Resyncs the countdown of every socket on this node that joined an attempt."""

    def __init__(
        self, hub: Hub, clock: Callable[[], int], *, interval_s: float = TICK_INTERVAL_S
    ) -> None:
        self.hub = hub
        self.clock = clock
        self.interval_s = interval_s
        self.part = 0  # the slice the next pass ticks

    async def step(self) -> None:
        """The background loop's pass: wait a slice of the interval, then tick that slice."""
        await asyncio.sleep(self.interval_s / TICK_SLICES)
        self.tick(self.part, TICK_SLICES)
        self.part = (self.part + 1) % TICK_SLICES

    def tick(self, part: int = 0, parts: int = 1) -> int:
        """Queue one tick per joined attempt whose id is `part` modulo `parts`; returns how
        many."""
        now_ms = self.clock()
        sent = 0
        for connection in list(self.hub.connections.values()):
            if not connection.exams:  # most sockets: learners watching, not examinees
                continue
            for attempt_id, joined in list(connection.exams.items()):
                if attempt_id % parts != part:
                    continue
                if now_ms > joined.deadline_ms + TICK_AFTER_DEADLINE_MS:
                    del connection.exams[attempt_id]
                    continue
                connection.send(
                    protocol.ExamTick(
                        attempt=attempt_id,
                        remaining_ms=max(0, joined.deadline_ms - now_ms),
                        server_now_ms=now_ms,
                    )
                )
                sent += 1
        return sent
