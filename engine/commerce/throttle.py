"""Study-card guessing: failed redemptions counted per learner and per address in Redis."""

import math

from engine.commerce import keys
from engine.errors import Throttled
from engine.kv import Redis, load_script
from engine.settings import Settings


class CardThrottle:
    """The failed-login throttle's pattern (and Lua script), with its own keys and limits."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.window_ms = settings.card_failure_window_s * 1000
        self.limits = {
            "account": settings.card_max_failures_per_account,
            "address": settings.card_max_failures_per_address,
        }
        self._count = load_script(redis, "engine.accounts", "count_failure")

    async def check(self, learner_id: int, address: str) -> None:
        """Raise Throttled while either the learner or the address is over its limit."""
        counters = self._counters(learner_id, address)
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
            raise Throttled(
                f"学习卡充值失败次数过多，请{minutes}分钟后再试", retry_after_s=retry_after_s
            )

    async def record_failure(self, learner_id: int, address: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self._counters(learner_id, address).values():
                await self._count(keys=[key], args=[self.window_ms], client=pipe)
            await pipe.execute()

    def _counters(self, learner_id: int, address: str) -> dict[str, str]:
        return {
            "account": keys.learner_card_failures_key(learner_id),
            "address": keys.address_card_failures_key(address),
        }
