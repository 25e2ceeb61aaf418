"""The exam sweeper: on every node, submits attempts whose deadline (plus grace) has passed.

Due attempts are claimed in batches with `FOR UPDATE SKIP LOCKED` and graded by one UPDATE
guarded by `status = 'in_progress'`, so however many nodes sweep, an attempt is graded once.
Between passes the sweeper sleeps until the next attempt falls due, but never longer than
`interval_s`: an attempt started meanwhile (on any node) may fall due sooner.
"""

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from engine.exams.service import Exams
from engine.exams.types import Result

log = structlog.get_logger(__name__)

Deliver = Callable[[list[Result]], Awaitable[None]]

# Attempts graded in one transaction. A batch costs ~8 round trips whatever its size, and
# its results go out when it commits; 2,000 attempts sharing a deadline are 4 batches.
BATCH = 500
# Failures that a later pass gets past, besides the stores' transient ones: a transaction
# PostgreSQL rolled back (a deadlock with a learner's own submission).
RETRYABLE = (asyncpg.TransactionRollbackError,)


class Sweeper:
    def __init__(
        self,
        exams: Exams,
        pool: asyncpg.Pool,
        clock: Callable[[], int],
        deliver: Deliver,
        *,
        interval_s: float = 1.0,
        batch: int = BATCH,
    ) -> None:
        self.exams = exams
        self.pool = pool
        self.clock = clock
        self.deliver = deliver
        self.interval_s = interval_s
        self.batch = batch
        self.submitted = 0

    async def step(self) -> None:
        """The background loop's pass: submit what is due, then sleep until the next pass
        (none after a full batch: more may be due)."""
        now_ms = self.clock()
        if await self._submit(now_ms) < self.batch:
            await asyncio.sleep(await self.next_pass_in(now_ms))

    async def run_once(self) -> int:
        """Submit the attempts due now, up to a batch; the results go to their sockets."""
        return await self._submit(self.clock())

    async def next_pass_in(self, swept_ms: int) -> float:
        """Seconds until an attempt not yet due at `swept_ms` falls due, at most `interval_s`."""
        due_ms = await self.exams.next_due(self.pool, swept_ms)
        if due_ms is None:
            return self.interval_s
        return min(self.interval_s, max(0.0, (due_ms - self.clock()) / 1000))

    async def _submit(self, now_ms: int) -> int:
        results = await self.exams.submit_due(self.pool, now_ms, self.batch)
        if results:
            self.submitted += len(results)
            log.info("exams auto-submitted", count=len(results))
            await self.deliver(results)
        return len(results)
