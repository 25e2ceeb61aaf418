"""Background loops, supervised: each repeats its step until stopped, retries a failed step
with backoff, and reports its state for /healthz.

A loop supplies one step, pacing included (the flusher's blocking read, the sweeper's sleep
until the next deadline): `Loops` repeats it. A step must be safe to cancel at any await:
stopping cancels it wherever it waits, and what it was doing is left to the stores'
own atomicity (a transaction, entries pending until acknowledged).
"""

import asyncio
import enum
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from engine.errors import TRANSIENT

log = structlog.get_logger(__name__)

Step = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Backoff:
    """Waits after consecutive failures: doubling from `first_s` up to `max_s`, each drawn
    from the upper half of that ceiling, so that nodes that lost a store together do not
    come back to it in step."""

    first_s: float = 0.5
    max_s: float = 10.0

    def ceiling(self, failures: int) -> float:
        """The longest wait after the `failures`-th consecutive failure."""
        # The exponent is capped: 2**1023 and beyond would not convert to a float.
        return min(self.max_s, self.first_s * 2.0 ** min(failures - 1, 64))

    def delay(self, failures: int, draw: float) -> float:
        """The wait after the `failures`-th consecutive failure, for a `draw` in [0, 1)."""
        ceiling = self.ceiling(failures)
        return ceiling / 2 + ceiling / 2 * draw


class Status(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # failing for less than the threshold: the node still serves
    FAILING = "failing"  # failing for longer: /healthz turns 503


@dataclass(frozen=True)
class LoopHealth:
    status: Status
    detail: str  # "ok", or for how long and why not


class Loop:
    """One supervised loop; `Loops.start` makes it."""

    def __init__(
        self, loops: "Loops", name: str, step: Step, retryable: tuple[type[BaseException], ...]
    ) -> None:
        self.loops = loops
        self.name = name
        self.step = step
        self.retryable = (*TRANSIENT, *retryable)
        self.failures = 0  # consecutive failed steps
        self.failing_since: float | None = None  # when the first of them failed
        self.last_error = ""
        self.stopping = False
        self.task = asyncio.create_task(self._run(), name=name)

    async def _run(self) -> None:
        while not self.stopping:
            try:
                await self.step()
            # Whatever the error, the loop keeps trying: a loop that gave up would leave the
            # node serving without it. It is not hidden: logged, and after the threshold
            # /healthz takes the node out.
            except Exception as exc:
                delay = self._failed(exc)
                if not self.stopping:
                    await asyncio.sleep(delay)
            else:
                if self.failures:
                    self._recovered()

    def _failed(self, exc: Exception) -> float:
        """Record the failure; the wait before the next step."""
        if not self.failures:
            self.failing_since = self.loops.monotonic()
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:200]
        if self.loops.on_failure is not None:
            self.loops.on_failure()
        delay = self.loops.backoff.delay(self.failures, self.loops.draw())
        if isinstance(exc, self.retryable):
            log.warning(
                "background loop waiting for its stores",
                loop=self.name,
                error=repr(exc),
                failures=self.failures,
                retry_in_s=round(delay, 2),
            )
        else:
            log.error(
                "background loop failed",
                loop=self.name,
                failures=self.failures,
                retry_in_s=round(delay, 2),
                exc_info=exc,
            )
        return delay

    def _recovered(self) -> None:
        assert self.failing_since is not None
        log.info(
            "background loop recovered",
            loop=self.name,
            failures=self.failures,
            failed_for_s=round(self.loops.monotonic() - self.failing_since, 1),
        )
        self.failures = 0
        self.failing_since = None
        self.last_error = ""

    def health(self) -> LoopHealth:
        """ok; degraded while failing for less than the threshold; failing after it."""
        if self.task.done():
            return LoopHealth(Status.FAILING, "ended")
        if self.failing_since is None:
            return LoopHealth(Status.OK, "ok")
        failing_for = self.loops.monotonic() - self.failing_since
        status = Status.FAILING if failing_for >= self.loops.unhealthy_after_s else Status.DEGRADED
        detail = f"failing for {failing_for:.0f} s (failures: {self.failures}): {self.last_error}"
        return LoopHealth(status, detail)

    async def stop(self) -> None:
        """Cancel the step or the wait in progress, and wait for the loop to end."""
        self.loops.running.pop(self.name, None)
        # The flag too: a library may swallow the cancellation (asyncio.wait_for can, before
        # Python 3.12), and the step then ends by itself, its pacing bounding how late.
        self.stopping = True
        self.task.cancel()
        await asyncio.wait({self.task})
        error = None if self.task.cancelled() else self.task.exception()
        if error is not None:
            log.error("background loop had ended", loop=self.name, exc_info=error)
        log.info("background loop stopped", loop=self.name)


class Loops:
    """The node's background loops, by name."""

    def __init__(
        self,
        unhealthy_after_s: float,
        *,
        backoff: Backoff = Backoff(),
        monotonic: Callable[[], float] = time.monotonic,
        draw: Callable[[], float] = random.random,
        on_failure: Callable[[], object] | None = None,
    ) -> None:
        self.unhealthy_after_s = unhealthy_after_s
        self.on_failure = on_failure  # told of each failed step (the metric)
        self.backoff = backoff
        self.monotonic = monotonic
        self.draw = draw
        self.running: dict[str, Loop] = {}

    def start(
        self, name: str, step: Step, *, retryable: tuple[type[BaseException], ...] = ()
    ) -> Loop:
        """Repeat `step` until stopped. Every failure is retried; the stores' transient
        errors and `retryable` are expected, any other is logged with its traceback."""
        loop = Loop(self, name, step, retryable)
        self.running[name] = loop
        return loop

    def health(self) -> dict[str, LoopHealth]:
        """Each running loop's state."""
        return {name: loop.health() for name, loop in self.running.items()}
