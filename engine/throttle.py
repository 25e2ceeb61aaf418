"""Failure throttling in Redis: fixed-window counters, one per kind (account, address…)."""

import math
from collections.abc import Mapping, Sequence

import msgspec

from engine.errors import Throttled
from engine.kv import Batcher
from engine.scripts import SCRIPTS

_COUNT_FAILURE = SCRIPTS["count_failure"]


class FailureCount(msgspec.Struct, frozen=True):
    count: int
    window_left_ms: int


async def count_failure(
    batcher: Batcher, counters: Sequence[str], window_ms: int
) -> list[FailureCount]:
    """Count one failure on each counter key (lua/count_failure.lua), in one round trip."""
    replies = await batcher.call([_COUNT_FAILURE.command((key,), window_ms) for key in counters])
    return [FailureCount(int(count), int(left)) for count, left in replies]


class Limits(msgspec.Struct, frozen=True):
    """Failures allowed within one window, per account and per client address."""

    window_s: int
    per_account: int
    per_address: int


class FailureThrottle:
    """Refuses while the account's or the address's counter is at its limit; counts survive
    a restart (Redis).

    `message` names the action and takes the wait in minutes, e.g. "登录失败次数过多，请{minutes}分钟后再试".
    """

    def __init__(self, batcher: Batcher, limits: Limits, message: str) -> None:
        self.batcher = batcher
        self.window_ms = limits.window_s * 1000
        self.limits = {"account": limits.per_account, "address": limits.per_address}
        self.message = message

    async def check(self, counters: Mapping[str, str]) -> None:
        """Raise Throttled while a counter (`account`/`address` → key) is at its limit."""
        replies = await self.batcher.call(
            [command for key in counters.values() for command in (("GET", key), ("PTTL", key))]
        )
        waits = [
            ttl
            for kind, count, ttl in zip(counters, replies[::2], replies[1::2], strict=True)
            if count is not None and int(count) >= self.limits[kind]
        ]
        if waits:
            retry_after_s = max(1, math.ceil(max(waits) / 1000))
            minutes = max(1, math.ceil(retry_after_s / 60))
            raise Throttled(self.message.format(minutes=minutes), retry_after_s=retry_after_s)

    async def record_failure(self, counters: Mapping[str, str]) -> None:
        """Count one failure on every counter (kind → key)."""
        await count_failure(self.batcher, list(counters.values()), self.window_ms)
