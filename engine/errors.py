"""Domain errors: each carries a code, an HTTP status and a Chinese message for people;
and the failures of the stores that a later attempt may get past."""

from collections.abc import Mapping

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class DomainError(Exception):
    """A rule of the domain refused the request."""

    status = 422
    code = "refused"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Overloaded(DomainError):
    """The node has more work queued for a store than it can answer in time: refused at
    once (HTTP 503, websocket `unavailable`) rather than answered late or failed later."""

    status = 503
    code = "unavailable"
    retry_after_s = 1

    def __init__(self) -> None:
        super().__init__("服务器繁忙，请稍后再试")


# A store away or too slow: worth trying again later, not a reason to give up.
TRANSIENT = (
    OSError,
    RedisConnectionError,
    RedisTimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    Overloaded,
)


class InvalidInput(DomainError):
    """Input failed validation; `fields` maps each bad field to its message."""

    status = 400
    code = "invalid"

    def __init__(self, fields: Mapping[str, str], message: str = "请检查填写的信息") -> None:
        super().__init__(message)
        self.fields = dict(fields)


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.fields = {field: message} if field else {}


class Throttled(DomainError):
    status = 429
    code = "throttled"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
