"""Failure throttling in Redis: fixed-window counters, one per kind (account, address…)."""

import math
from collections.abc import Mapping

from engine.errors import Throttled
from engine.kv import Redis, load_script


class FailureThrottle:
    """Refuses while any counter is at its kind's limit; counts survive a restart (Redis).

    `message` names the action and takes the wait in minutes, e.g. "登录失败次数过多，请{minutes}分钟后再试".
    """

    def __init__(
        self, redis: Redis, *, window_s: int, limits: Mapping[str, int], message: str
    ) -> None:
        self.redis = redis
        self.window_ms = window_s * 1000
        self.limits = dict(limits)
        self.message = message
        self._count = load_script(redis, "engine", "count_failure")

    async def check(self, counters: Mapping[str, str]) -> None:
        """Raise Throttled while a counter (kind → key) is at its limit."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in counters.values():
                pipe.get(key)
                pipe.pttl(key)
            replies = await pipe.execute()
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
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in counters.values():
                await self._count(keys=[key], args=[self.window_ms], client=pipe)
            await pipe.execute()
