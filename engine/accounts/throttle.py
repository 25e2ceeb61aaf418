"""Failed-login throttling per account and per client address."""

from engine.accounts import keys
from engine.kv import Batcher
from engine.settings import Settings
from engine.throttle import FailureThrottle, Limits

LOGIN_THROTTLED = "登录失败次数过多，请{minutes}分钟后再试"


class LoginThrottle:
    def __init__(self, batcher: Batcher, settings: Settings) -> None:
        self.batcher = batcher
        self.throttle = FailureThrottle(
            batcher,
            Limits(
                settings.login_failure_window_s,
                settings.login_max_failures_per_account,
                settings.login_max_failures_per_address,
            ),
            LOGIN_THROTTLED,
        )

    async def check(self, username: str, address: str) -> None:
        """Raise Throttled while either the account or the address is over its limit."""
        await self.throttle.check(keys.login_failure_counters(username, address))

    async def record_failure(self, username: str, address: str) -> None:
        await self.throttle.record_failure(keys.login_failure_counters(username, address))

    async def record_success(self, username: str) -> None:
        """A correct password clears the account's count; the address's stays."""
        await self.batcher.call([("DEL", keys.account_failures_key(username))])
