"""Failed-login throttling per account and per client address, kept in Redis."""

import math

from engine.accounts import keys
from engine.errors import Throttled
from engine.kv import Redis, load_script
from engine.settings import Settings


class LoginThrottle:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.window_ms = settings.login_failure_window_s * 1000
        self.limits = {
            "account": settings.login_max_failures_per_account,
            "address": settings.login_max_failures_per_address,
        }
        self._count = load_script(redis, "engine.accounts", "count_failure")

    async def check(self, username: str, address: str) -> None:
        """Raise Throttled while either the account or the address is over its limit."""
        counters = self._counters(username, address)
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
            raise Throttled(f"登录失败次数过多，请{minutes}分钟后再试", retry_after_s=retry_after_s)

    async def record_failure(self, username: str, address: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self._counters(username, address).values():
                await self._count(keys=[key], args=[self.window_ms], client=pipe)
            await pipe.execute()

    async def record_success(self, username: str) -> None:
        """A correct password clears the account's count; the address's stays."""
        await self.redis.delete(keys.account_failures_key(username))

    def _counters(self, username: str, address: str) -> dict[str, str]:
        return {
            "account": keys.account_failures_key(username),
            "address": keys.address_failures_key(address),
        }
