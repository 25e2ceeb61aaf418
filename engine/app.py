"""The engine application: settings, resources in cleanup contexts, typed keys."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import structlog
from aiohttp import web
from redis.exceptions import RedisError

from engine import db
from engine.accounts.logins import LoginSessions
from engine.accounts.throttle import LoginThrottle
from engine.kv import Redis, create_redis
from engine.metrics import Metrics
from engine.settings import Settings

log = structlog.get_logger(__name__)

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
DB = web.AppKey("db", asyncpg.Pool)
REDIS = web.AppKey("redis", Redis)
LOGIN_SESSIONS = web.AppKey("login_sessions", LoginSessions)
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)

# A dependency that does not answer within this long counts as down.
HEALTH_TIMEOUT_S = 2.0


def create_app(settings: Settings) -> web.Application:
    """An application holding the engine's resources; web/ adds routes and pages to it."""
    if settings.database_url is None or settings.redis_url is None:
        raise ValueError("create_app needs DATABASE_URL and REDIS_URL")
    app = web.Application(client_max_size=1024**2)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_postgres)
    app.cleanup_ctx.append(_redis)
    app.cleanup_ctx.append(_account_services)
    return app


async def _postgres(app: web.Application) -> AsyncIterator[None]:
    url = app[SETTINGS].database_url
    assert url is not None
    pool = await db.create_pool(url)
    try:
        async with pool.acquire() as connection:
            await db.require_migrated(connection)
    except BaseException:
        await pool.close()
        raise
    app[DB] = pool
    yield
    await pool.close()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    url = app[SETTINGS].redis_url
    assert url is not None
    client = create_redis(url)
    app[REDIS] = client
    yield
    await client.aclose()


async def _account_services(app: web.Application) -> AsyncIterator[None]:
    app[LOGIN_SESSIONS] = LoginSessions(app[REDIS], app[SETTINGS])
    app[LOGIN_THROTTLE] = LoginThrottle(app[REDIS], app[SETTINGS])
    yield


async def check_health(app: web.Application) -> dict[str, str]:
    """Each dependency's state: "ok", or why it failed."""

    async def postgres() -> None:
        await app[DB].fetchval("SELECT 1")

    async def redis() -> None:
        await app[REDIS].ping()

    results: dict[str, str] = {}
    for name, probe in (("postgres", postgres), ("redis", redis)):
        try:
            await asyncio.wait_for(probe(), HEALTH_TIMEOUT_S)
            results[name] = "ok"
        except (
            OSError,
            TimeoutError,
            RedisError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
        ) as exc:
            results[name] = f"{type(exc).__name__}: {exc}"[:200]
    return results
