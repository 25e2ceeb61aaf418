"""Throttles of accounts: failed logins (per account and address), registrations per address,
wrong old passwords per user."""

from engine.accounts import keys
from engine.kv import Batcher
from engine.settings import Settings
from engine.throttle import FailureThrottle

LOGIN_THROTTLED = "登录失败次数过多，请{minutes}分钟后再试"
REGISTRATION_THROTTLED = "注册过于频繁，请{minutes}分钟后再试"
PASSWORD_THROTTLED = "旧密码错误次数过多，请{minutes}分钟后再试"


class LoginThrottle:
    """Each login is an attempt reserved before the password is verified; a failure keeps it."""

    def __init__(self, batcher: Batcher, settings: Settings) -> None:
        self.batcher = batcher
        self.throttle = FailureThrottle(
            batcher,
            settings.login_failure_window_s,
            {
                "account_address": settings.login_max_failures_per_account_address,
                "account": settings.login_max_failures_per_account,
                "address": settings.login_max_failures_per_address,
            },
            LOGIN_THROTTLED,
        )

    async def reserve(self, username: str, address: str) -> None:
        """Count an attempt against the account (from this address and from anywhere) and the
        address; Throttled, counting none, while one of them is at its limit."""
        await self.throttle.reserve(keys.login_failure_counters(username, address))

    async def record_success(self, username: str, address: str) -> None:
        """A correct password clears the account's counts and gives the address its attempt back."""
        counters = keys.login_failure_counters(username, address)
        # One DEL a key: they lie in different Redis Cluster slots.
        await self.batcher.call(
            [("DEL", counters["account_address"]), ("DEL", counters["account"])]
        )
        await self.throttle.release({"address": counters["address"]})


class RegistrationThrottle:
    """Registrations tried per address: each one that reaches the database counts."""

    def __init__(self, batcher: Batcher, settings: Settings) -> None:
        self.throttle = FailureThrottle(
            batcher,
            settings.registration_window_s,
            {"address": settings.registration_max_per_address},
            REGISTRATION_THROTTLED,
        )

    async def reserve(self, address: str) -> None:
        """Count a registration from `address`; Throttled while the address is at its limit."""
        await self.throttle.reserve({"address": keys.registrations_key(address)})


class PasswordThrottle:
    """Wrong old passwords given to change the password, per user (as many as logins allow)."""

    def __init__(self, batcher: Batcher, settings: Settings) -> None:
        self.batcher = batcher
        self.throttle = FailureThrottle(
            batcher,
            settings.login_failure_window_s,
            {"account": settings.login_max_failures_per_account_address},
            PASSWORD_THROTTLED,
        )

    async def reserve(self, user_id: int) -> None:
        """Count an attempt for the user; Throttled while the user is at the limit."""
        await self.throttle.reserve({"account": keys.password_failures_key(user_id)})

    async def record_success(self, user_id: int) -> None:
        """The right old password clears the count."""
        await self.batcher.call([("DEL", keys.password_failures_key(user_id))])
