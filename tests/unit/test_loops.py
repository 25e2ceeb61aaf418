"""The loop supervisor with a scripted step: backoff bounds, state, stop."""

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from engine.loops import Backoff, Loops, Status


@pytest.mark.parametrize(
    ("failures", "ceiling"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 10.0), (7, 10.0), (10_000, 10.0)],
)
def test_backoff_doubles_up_to_its_maximum(failures: int, ceiling: float) -> None:
    backoff = Backoff(first_s=0.5, max_s=10.0)
    assert backoff.ceiling(failures) == ceiling
    # Jitter: the wait is drawn from the upper half of the ceiling.
    assert backoff.delay(failures, 0.0) == ceiling / 2
    assert backoff.delay(failures, 0.5) == ceiling * 3 / 4
    assert ceiling / 2 <= backoff.delay(failures, 0.999_999) < ceiling


class Script:
    """A step whose every call ends as the test says: a success or an error to raise."""

    def __init__(self) -> None:
        self.calls: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()
        self.current: asyncio.Future[None] | None = None

    async def __call__(self) -> None:
        call = asyncio.get_running_loop().create_future()
        await self.calls.put(call)
        await call

    async def end(self, error: Exception | None = None) -> None:
        """End the call in progress; return once the loop has made the next one."""
        call = self.current or await self.calls.get()
        if error is None:
            call.set_result(None)
        else:
            call.set_exception(error)
        self.current = await self.calls.get()


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_state_goes_from_ok_to_degraded_to_failing_and_back() -> None:
    clock = Monotonic()
    failed: list[None] = []
    loops = Loops(
        30.0,
        backoff=Backoff(first_s=0.0, max_s=0.0),
        monotonic=clock,
        on_failure=lambda: failed.append(None),
    )
    script = Script()
    loop = loops.start("flusher", script)
    await script.end()
    assert loops.health()["flusher"].status is Status.OK
    assert loops.health()["flusher"].detail == "ok"

    await script.end(RedisConnectionError("redis away"))
    clock.now += 29.0
    await script.end(RedisConnectionError("redis still away"))
    health = loops.health()["flusher"]
    assert health.status is Status.DEGRADED
    assert (loop.failures, loop.failing_since) == (2, 100.0)
    assert len(failed) == 2  # each failed step counted (jixu_errors_total{source="loop"})
    assert health.detail == "failing for 29 s (failures: 2): ConnectionError: redis still away"

    clock.now += 1.0
    assert loops.health()["flusher"].status is Status.FAILING
    await script.end()
    assert loops.health()["flusher"].status is Status.OK
    assert (loop.failures, loop.failing_since, loop.last_error) == (0, None, "")
    await loop.stop()
    assert loops.health() == {}


async def test_an_unexpected_error_is_retried_and_logged_with_its_traceback() -> None:
    loops = Loops(30.0, backoff=Backoff(first_s=0.0, max_s=0.0))
    script = Script()
    loop = loops.start("exam_sweeper", script, retryable=(LookupError,))
    with capture_logs() as logs:
        await script.end(RedisConnectionError("away"))
        await script.end(KeyError("declared retryable"))
        await script.end(ValueError("a bug"))
    assert [(entry["log_level"], "exc_info" in entry) for entry in logs] == [
        ("warning", False),
        ("warning", False),
        ("error", True),
    ]
    assert loop.failures == 3  # and the loop has called its step again
    await loop.stop()


async def test_stop_cancels_a_step_or_a_backoff_in_progress() -> None:
    loops = Loops(30.0, backoff=Backoff(first_s=3600.0, max_s=3600.0))
    blocked = Script()
    waiting = loops.start("bus", blocked)
    await blocked.calls.get()  # the step is running, and never ends by itself

    async def fail() -> None:
        raise RedisConnectionError("away")

    backing_off = loops.start("flusher", fail)
    await asyncio.sleep(0)
    assert backing_off.failures == 1  # now waiting an hour before its next step
    async with asyncio.timeout(1):
        await asyncio.gather(waiting.stop(), backing_off.stop())
    assert waiting.task.cancelled()
    assert backing_off.task.cancelled()
    assert loops.health() == {}


async def test_stop_ends_a_loop_whose_step_swallowed_the_cancellation() -> None:
    loops = Loops(30.0)
    started = asyncio.Event()

    async def stubborn() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # as a library racing its own timeout may

    loop = loops.start("flusher", stubborn)
    await started.wait()
    async with asyncio.timeout(1):
        await loop.stop()
    assert loop.task.done()
