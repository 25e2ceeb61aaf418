"""Attempt throttling in Redis: fixed-window counters, one per kind (account, address…).

An attempt is reserved on every counter before the work it guards (an argon2 verification)
starts. Each counter is reserved atomically (lua/reserve_attempt.lua): of any number of
concurrent attempts, only as many as its limit allows get through it. The counters of one
attempt lie in different Redis Cluster slots, so each is a call of its own (all in one round
trip); when any refuses, those that reserved are released, and the attempt counts on none.
One that turns out not to be a failure is released too.
"""

import math
from collections.abc import Mapping

from engine.errors import Throttled
from engine.kv import Batcher
from engine.scripts import SCRIPTS

_RESERVE_ATTEMPT = SCRIPTS["reserve_attempt"]
_RELEASE_ATTEMPT = SCRIPTS["release_attempt"]


class FailureThrottle:
    """Refuses while a counter is at its limit; counts survive a restart (Redis).

    `limits` gives each kind of counter its limit within one window of `window_s`.
    `message` names the action and takes the wait in minutes, e.g. "登录失败次数过多，请{minutes}分钟后再试".
    """

    def __init__(
        self, batcher: Batcher, window_s: int, limits: Mapping[str, int], message: str
    ) -> None:
        self.batcher = batcher
        self.window_ms = window_s * 1000
        self.limits = dict(limits)
        self.message = message

    async def reserve(self, counters: Mapping[str, str]) -> None:
        """Count one attempt on every counter (kind → key), or raise Throttled counting none."""
        waits = await self.batcher.call(
            [
                _RESERVE_ATTEMPT.command((key,), self.window_ms, self.limits[kind])
                for kind, key in counters.items()
            ]
        )
        if any(waits):
            # Meanwhile a concurrent attempt may be refused by a reservation given back
            # here: a refusal too many, never a guess too many.
            await self.release(
                {
                    kind: key
                    for (kind, key), wait in zip(counters.items(), waits, strict=True)
                    if not wait
                }
            )
            retry_after_s = max(1, math.ceil(max(int(wait) for wait in waits) / 1000))
            minutes = max(1, math.ceil(retry_after_s / 60))
            raise Throttled(self.message.format(minutes=minutes), retry_after_s=retry_after_s)

    async def release(self, counters: Mapping[str, str]) -> None:
        """Give back a reserved attempt on every counter: it was no failure."""
        if counters:
            await self.batcher.call([_RELEASE_ATTEMPT.command((key,)) for key in counters.values()])
