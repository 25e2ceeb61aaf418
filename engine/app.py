"""The engine application: settings, resources and background loops in cleanup contexts."""

import asyncio
import random
import secrets
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import structlog
from aiohttp import web
from redis.exceptions import RedisError

from engine import db
from engine.accounts.logins import LoginSessions
from engine.accounts.throttle import LoginThrottle, PasswordThrottle, RegistrationThrottle
from engine.appkeys import (
    BATCHER,
    CARD_THROTTLE,
    CLOCK,
    COMMANDS,
    DB,
    EXAM_SWEEPER,
    EXAMS,
    FLUSHER,
    GATEWAY,
    HUB,
    LETTER_THROTTLE,
    LIVE_FEED,
    LIVE_PUBLISHER,
    LOGIN_SESSIONS,
    LOGIN_THROTTLE,
    LOOPS,
    METRICS,
    NODE_ID,
    NOTICE_FEED,
    PASSWORD_THROTTLE,
    PROGRESS,
    REDIS,
    REGISTRATION_THROTTLE,
    ROOMS,
    SANDBOX,
    SETTINGS,
    SOCKET_CAPS,
)
from engine.clock import Clock, system_clock
from engine.commerce.gateway import open_gateway, sandbox_enabled
from engine.commerce.sandbox import open_sandbox
from engine.commerce.throttle import CardThrottle
from engine.exams.service import Exams
from engine.exams.sweeper import RETRYABLE as SWEEPER_RETRYABLE
from engine.exams.sweeper import Sweeper
from engine.exams.types import Result
from engine.kv import Batcher, create_redis
from engine.live.service import Publisher
from engine.loops import Loops, Status
from engine.messages.letters import LetterThrottle
from engine.metrics import Metrics
from engine.progress.flusher import Flusher
from engine.progress.service import Progress
from engine.progress.types import Rules
from engine.rooms.service import Rooms
from engine.scripts import SCRIPTS
from engine.sessions.caps import RENEW_EVERY_S, SocketCaps
from engine.sessions.commands import Commands
from engine.sessions.exam_feed import ExamTicker, push_results
from engine.sessions.hub import Hub
from engine.sessions.live_feed import LiveFeed
from engine.sessions.notice_feed import NoticeFeed
from engine.sessions.rooms_feed import catch_up
from engine.settings import Settings

log = structlog.get_logger(__name__)

# A dependency that does not answer within this long counts as down.
HEALTH_TIMEOUT_S = 2.0


def create_app(settings: Settings, *, clock: Clock = system_clock) -> web.Application:
    """An application holding the engine's resources; web/ adds routes and pages to it.

    Cleanup contexts start in this order and stop in reverse, so the loops stop (with a
    final flush) while Redis and PostgreSQL are still open.
    """
    if settings.database_url is None or settings.redis_url is None:
        raise ValueError("create_app needs DATABASE_URL and REDIS_URL")
    app = web.Application(client_max_size=1024**2)
    app[SETTINGS] = settings
    app[NODE_ID] = settings.node_id or secrets.token_hex(4)
    app[CLOCK] = clock
    app[METRICS] = Metrics()
    app[LOOPS] = Loops(settings.loop_unhealthy_s, on_failure=app[METRICS].errors.labels("loop").inc)
    app.cleanup_ctx.extend(
        [
            _postgres,
            _redis,
            _services,
            _flusher,
            _hub,
            _live,
            _commands,
            _exam_loops,
            _notice_feed,
        ]
    )
    app.on_shutdown.append(_close_sockets)
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


async def _services(app: web.Application) -> AsyncIterator[None]:
    settings, redis = app[SETTINGS], app[REDIS]
    await SCRIPTS.load(redis)
    batcher = Batcher(
        redis,
        SCRIPTS,
        max_pending=settings.redis_max_pending,
        on_shed=app[METRICS].redis_calls_shed.inc,
    )
    app[BATCHER] = batcher
    app[LOGIN_SESSIONS] = LoginSessions(redis, batcher, settings, app[CLOCK])
    app[LOGIN_THROTTLE] = LoginThrottle(batcher, settings)
    app[REGISTRATION_THROTTLE] = RegistrationThrottle(batcher, settings)
    app[PASSWORD_THROTTLE] = PasswordThrottle(batcher, settings)
    app[CARD_THROTTLE] = CardThrottle(batcher, settings)
    app[LETTER_THROTTLE] = LetterThrottle(batcher)
    app[PROGRESS] = Progress(batcher, Rules.from_settings(settings), rng=random.SystemRandom())
    app[EXAMS] = Exams(redis, batcher, rng=random.SystemRandom())
    app[ROOMS] = Rooms(batcher, settings)
    gateway = await open_gateway(settings)
    app[GATEWAY] = gateway
    sandbox = None
    if gateway is not None and sandbox_enabled(settings):
        sandbox = await open_sandbox(settings, gateway, app[CLOCK])
    app[SANDBOX] = sandbox
    yield
    if sandbox is not None:
        await sandbox.close()
    await batcher.drain()


async def _flusher(app: web.Application) -> AsyncIterator[None]:
    flusher = Flusher(app[REDIS], app[BATCHER], app[DB], consumer=f"node-{app[NODE_ID]}")
    await flusher.ensure_group()
    app[FLUSHER] = flusher
    loop = app[LOOPS].start("flusher", flusher.step)
    yield
    await loop.stop()
    await flusher.finish()


async def _hub(app: web.Application) -> AsyncIterator[None]:
    hub = Hub(app[REDIS], app[NODE_ID], catch_up(app[ROOMS], app[DB]))
    app[HUB] = hub
    app[METRICS].count_sockets(
        lambda: len(hub.connections),
        lambda: len({connection.learner_id for connection in hub.connections.values()}),
    )
    settings = app[SETTINGS]
    caps = SocketCaps(
        app[REDIS],
        app[CLOCK],
        app[NODE_ID],
        per_learner=settings.ws_max_per_learner,
        per_address=settings.ws_max_per_address,
    )
    app[SOCKET_CAPS] = caps

    async def renew_leases() -> None:
        await asyncio.sleep(RENEW_EVERY_S)
        await caps.renew(list(hub.connections.values()))

    loop = app[LOOPS].start("bus", hub.relay_once)
    leases = app[LOOPS].start("socket_leases", renew_leases)
    try:
        await asyncio.wait_for(hub.subscribed.wait(), HEALTH_TIMEOUT_S * 5)
        yield
    finally:
        await asyncio.gather(loop.stop(), leases.stop())
        await hub.unsubscribe()


async def _live(app: web.Application) -> AsyncIterator[None]:
    """The live operations view: this node's figures published each second, the cluster's
    sent to the sockets that subscribed here."""
    feed = LiveFeed(app[HUB])
    app[LIVE_FEED] = feed
    publisher = Publisher(
        app[METRICS], app[REDIS], app[BATCHER], app[DB], app[CLOCK], app[NODE_ID], feed.show
    )
    app[LIVE_PUBLISHER] = publisher
    loop = app[LOOPS].start("live", publisher.step)
    yield
    await loop.stop()


async def _commands(app: web.Application) -> AsyncIterator[None]:
    """The websocket command registry, given the services its handlers call."""
    app[COMMANDS] = Commands(
        progress=app[PROGRESS],
        exams=app[EXAMS],
        rooms=app[ROOMS],
        hub=app[HUB],
        live=app[LIVE_FEED],
        metrics=app[METRICS],
        db=app[DB],
        clock=app[CLOCK],
        beat_interval_ms=app[SETTINGS].beat_interval_ms,
    )
    yield


async def _exam_loops(app: web.Application) -> AsyncIterator[None]:
    """The exam sweeper (auto-submission at the deadline) and the countdown ticker."""
    hub, exams = app[HUB], app[EXAMS]

    async def deliver(results: list[Result]) -> None:
        await push_results(hub, exams, results)

    url = app[SETTINGS].database_url
    assert url is not None
    # A connection of its own: at a deadline, grading must not queue behind the requests
    # waiting for the shared pool (a rush of attempts started at the last minute).
    pool = await db.create_pool(url, min_size=1, max_size=1)
    sweeper = Sweeper(exams, pool, app[CLOCK], deliver)
    ticker = ExamTicker(hub, app[CLOCK])
    app[EXAM_SWEEPER] = sweeper
    sweeping = app[LOOPS].start("exam_sweeper", sweeper.step, retryable=SWEEPER_RETRYABLE)
    ticking = app[LOOPS].start("exam_ticker", ticker.step)
    yield
    await asyncio.gather(sweeping.stop(), ticking.stop())
    await pool.close()


async def _notice_feed(app: web.Application) -> AsyncIterator[None]:
    """Live `notice` frames for the messages stored on any node."""
    url = app[SETTINGS].database_url
    assert url is not None
    feed = NoticeFeed(app[HUB], app[DB], url)
    app[NOTICE_FEED] = feed
    loop = app[LOOPS].start("notice_feed", feed.step)
    try:
        await asyncio.wait_for(feed.listening.wait(), HEALTH_TIMEOUT_S * 5)
        yield
    finally:
        await loop.stop()
        await feed.close()


async def _close_sockets(app: web.Application) -> None:
    await app[HUB].close_all()


class Health(msgspec.Struct, frozen=True):
    checks: dict[str, str]  # each dependency's and loop's state: "ok", or why not
    failing: list[str]  # what makes the node unavailable
    degraded: list[str]  # loops failing for less than the threshold: the node still serves


async def check_health(app: web.Application) -> Health:
    """Each dependency's and loop's state."""

    async def postgres() -> None:
        await db.ping(app[DB])

    async def redis() -> None:
        await app[REDIS].ping()

    checks: dict[str, str] = {}
    failing: list[str] = []
    for name, probe in (("postgres", postgres), ("redis", redis)):
        try:
            await asyncio.wait_for(probe(), HEALTH_TIMEOUT_S)
            checks[name] = "ok"
        except (
            OSError,
            TimeoutError,
            RedisError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
        ) as exc:
            checks[name] = f"{type(exc).__name__}: {exc}"[:200]
            failing.append(name)
    degraded: list[str] = []
    for name, loop in app[LOOPS].health().items():
        checks[name] = loop.detail
        if loop.status is Status.FAILING:
            failing.append(name)
        elif loop.status is Status.DEGRADED:
            degraded.append(name)
    return Health(checks, sorted(failing), sorted(degraded))
