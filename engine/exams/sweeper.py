"""The exam sweeper: on every node, submits attempts whose deadline (plus grace) has passed.

Each attempt is claimed with `FOR UPDATE SKIP LOCKED` and graded by an UPDATE guarded by
`status = 'in_progress'`, so however many nodes sweep, an attempt is graded once.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from engine.exams.service import Exams
from engine.exams.types import Result
from engine.progress.flusher import TRANSIENT

log = structlog.get_logger(__name__)

Deliver = Callable[[Result], Awaitable[None]]


class Sweeper:
    def __init__(
        self,
        exams: Exams,
        pool: asyncpg.Pool,
        clock: Callable[[], int],
        deliver: Deliver,
        *,
        interval_s: float = 1.0,
        batch: int = 100,
    ) -> None:
        self.exams = exams
        self.pool = pool
        self.clock = clock
        self.deliver = deliver
        self.interval_s = interval_s
        self.batch = batch
        self.stopping = asyncio.Event()
        self.submitted = 0

    async def run(self) -> None:
        """Sweep until stopped; transient outages are waited out."""
        delay = self.interval_s
        while not self.stopping.is_set():
            try:
                await self.run_once()
                delay = self.interval_s
            except TRANSIENT as exc:
                log.warning("exam sweeper waiting for its stores", error=repr(exc))
                delay = min(delay * 2, 10)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)
        log.info("exam sweeper stopped", submitted=self.submitted)

    async def run_once(self) -> int:
        """Submit the attempts due now, up to a batch; each result goes to its sockets."""
        results: list[Result] = []
        while len(results) < self.batch:
            result = await self.exams.submit_due(self.pool, self.clock())
            if result is None:
                break
            results.append(result)
            self.submitted += 1
            log.info("exam auto-submitted", attempt=result.attempt_id, score=result.score)
        for result in results:
            await self.deliver(result)
        return len(results)
