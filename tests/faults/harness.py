"""The harness around the kills: its own stores, three engine nodes, a steady load of
learners, an exam falling due in every round, an order paid through the gateway in every
round, and the figures of each kill."""

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench import population
from bench.processes import free_port
from engine import db
from engine.clock import system_clock
from engine.commerce import cart
from engine.commerce.gateway import open_gateway
from engine.commerce.money import plain_yuan
from engine.commerce.sandbox import Checkout, Sandbox, open_sandbox
from engine.db import Executor
from engine.errors import TRANSIENT
from engine.exams import keys as exam_keys
from engine.exams.keys import GRACE_MS
from engine.kv import create_redis
from engine.progress import keys
from engine.settings import load_settings
from tests.faults import checks
from tests.faults.clients import Examinee, Player
from tests.faults.nodes import Node, engine_env
from tests.faults.stores import Postgres, Redis

NODES = 3
PLAYERS = 24
EXAMINEES_PER_ROUND = 4
ROUNDS = 5
# Every wait is bounded.
RECOVERY_TIMEOUT_S = 45
FLUSH_TIMEOUT_S = 60
POLL_S = 0.1
LOGS_ON_FAILURE = Path(__file__).resolve().parents[2] / "artifacts" / "faults-logs"


@dataclass
class Figures:
    """One kill's outcome."""

    kill: str
    victim: str
    recovered_s: float | None = None  # until every client it cut off was acknowledged again
    healthy_s: float | None = None  # until every node's /healthz said ok again
    flushed_s: float | None = None  # until PostgreSQL held all progress acknowledged before it
    graded_late_ms: int | None = None  # the latest grading after deadline + grace
    reconnects: int = 0  # sockets the players lost (and opened again)
    acked_beats: int = 0  # beats acknowledged during the round
    acked_answers: int = 0  # exam answers acknowledged during the round
    problems: list[str] = field(default_factory=list)


class Harness:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.postgres = Postgres(folder / "pg")
        self.redis = Redis(folder / "redis", free_port())
        self.nodes: list[Node] = []
        self.session: aiohttp.ClientSession
        self.pool: asyncpg.Pool
        self.sandbox: Sandbox
        self.players: list[Player] = []
        self.spare: list[tuple[int, str]] = []  # learners for exams and orders
        self.plan_id = 0
        self.course_id = 0
        self.shop_course = 0
        self.stop = asyncio.Event()
        self.load: list[asyncio.Task[None]] = []
        self.figures: list[Figures] = []
        self.ledger_rows = 0
        self.examinees: list[Examinee] = []
        self.params: dict[str, str] = {}
        self.last_kill = 0.0

    # --- setting up -----------------------------------------------------------------

    async def start(self) -> None:
        database_url = await asyncio.to_thread(self.postgres.start)
        redis_url = await asyncio.to_thread(self.redis.start)
        people = await population.populate(
            database_url, redis_url, PLAYERS + EXAMINEES_PER_ROUND * ROUNDS + ROUNDS + 1
        )
        chapter = people.chapter_id
        players, self.spare = people.learners[:PLAYERS], people.learners[PLAYERS:]
        examinees = [learner for learner, _ in self.spare[: EXAMINEES_PER_ROUND * ROUNDS]]
        self.plan_id, self.course_id = await population.examine(database_url, examinees)
        self.pool = await db.create_pool(database_url, min_size=1, max_size=4)
        self.shop_course = await self.pool.fetchval(
            """WITH c AS (INSERT INTO courses (code, title, hour_tenths)
                          VALUES ('faults-shop', '故障演练选修课', 10) RETURNING id)
               INSERT INTO plan_courses (plan_id, course_id) SELECT $1, id FROM c
               RETURNING course_id""",
            self.plan_id,
        )
        data_dir = self.folder / "data"
        data_dir.mkdir()
        settings = load_settings({}, env="test", data_dir=str(data_dir))
        gateway = await open_gateway(settings)  # generates the keys the nodes will share
        assert gateway is not None
        self.sandbox = await open_sandbox(settings, gateway, system_clock)
        logs = self.folder / "logs"
        logs.mkdir()
        env = engine_env(database_url, redis_url, data_dir)
        for index in range(NODES):
            name = f"n{index}"
            node_env = {**env, "DATABASE_URL": f"{database_url}&application_name={name}"}
            self.nodes.append(Node(name, free_port(), node_env, logs))
        self.session = aiohttp.ClientSession()
        await asyncio.gather(*(node.start() for node in self.nodes))
        await asyncio.gather(*(node.wait_ready(self.session) for node in self.nodes))
        self.players = [
            Player(learner, token, chapter, self.live_urls) for learner, token in players
        ]
        self.load = [
            asyncio.create_task(player.run(self.session, self.stop)) for player in self.players
        ]
        self.ledger_rows = await self._pay_once()

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.load, return_exceptions=True)
        for node in self.nodes:
            await node.stop()
        if hasattr(self, "session"):
            await self.session.close()
            await self.sandbox.close()
        if hasattr(self, "pool"):
            await self.pool.close()
        await asyncio.to_thread(self.redis.stop)
        await asyncio.to_thread(self.postgres.stop)

    def live_urls(self) -> list[str]:
        return [node.url for node in self.nodes if node.alive]

    # --- one round: an exam, an order, a kill ---------------------------------------

    async def round(
        self,
        figures: Figures,
        kill: Callable[[], Awaitable[None]],
        *,
        deadline_in_s: float = 5.0,
    ) -> None:
        """An exam whose deadline falls `deadline_in_s` from now and an unpaid order; then
        `kill` (which restarts what it killed, and sends the gateway's notification with
        `notify_during` as it strikes); the notification replayed to the live nodes; then
        the checks."""
        taken = len(self.figures)
        spare = self.spare[taken * EXAMINEES_PER_ROUND : (taken + 1) * EXAMINEES_PER_ROUND]
        buyer = self.spare[EXAMINEES_PER_ROUND * ROUNDS + taken][0]
        self.figures.append(figures)
        deadline_ms = system_clock() + round(deadline_in_s * 1000)
        examinees = await self._start_exam(spare, deadline_ms)
        self.examinees = examinees
        until = time.monotonic() + deadline_in_s + (GRACE_MS + checks.GRADING_SLACK_MS) / 1000 + 5
        answering = [
            asyncio.create_task(examinee.run(self.session, until)) for examinee in examinees
        ]
        order = await self._unpaid_order(buyer)
        params = self._notification(order)
        self.params = params
        before = {id(player): len(player.outages) for player in self.players}
        beats = sum(len(player.acks) for player in self.players)
        acked = self._acked()
        flushing = asyncio.create_task(self._flushed(time.monotonic(), acked, figures))
        await kill()
        killed_at = self.last_kill
        if not await self._replay(params):
            figures.problems.append(f"order {order[0]}: no node acknowledged the notification")
        figures.recovered_s, figures.healthy_s = await asyncio.gather(
            self._recovered(killed_at, before), self._healthy(killed_at)
        )
        flushed_at = await flushing
        if flushed_at is not None:
            figures.flushed_s = max(0.0, flushed_at - killed_at)
        await asyncio.wait_for(asyncio.gather(*answering), until - time.monotonic() + 10)
        async with self.pool.acquire() as connection:
            figures.problems += await checks.exam_problems(connection, examinees)
            figures.graded_late_ms = await self._graded_late(connection, examinees)
            figures.problems += await checks.payment_problems(
                connection, order[0], self.ledger_rows
            )
        figures.reconnects = sum(
            len(player.outages) - before[id(player)] for player in self.players
        )
        # And what was acknowledged since.
        await self._flushed(time.monotonic(), self._acked(), figures)
        figures.acked_beats = sum(len(player.acks) for player in self.players) - beats
        figures.acked_answers = sum(sent.acked for examinee in examinees for sent in examinee.sent)

    async def _start_exam(
        self, learners: list[tuple[int, str]], deadline_ms: int
    ) -> list[Examinee]:
        exam_id = await population.create_exam(
            self.pool_url, self.plan_id, self.course_id, deadline_ms
        )
        examinees = []
        for learner, token in learners:
            url = self.live_urls()[learner % len(self.live_urls())]
            async with self.session.post(
                f"{url}/api/v1/exams/{exam_id}/attempts",
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                body: dict[str, Any] = await response.json()
                assert response.status == 201, body
            attempt = body["attempt"]
            examinees.append(
                Examinee(
                    learner,
                    token,
                    attempt["id"],
                    attempt["deadline_ms"],
                    attempt["questions"],
                    self.live_urls,
                )
            )
        return examinees

    @property
    def pool_url(self) -> str:
        return self.postgres.server.url

    async def _unpaid_order(self, learner: int) -> tuple[int, str, int, str]:
        now = datetime.now(UTC)
        await cart.add(self.pool, learner, self.plan_id, self.shop_course, now)
        order = await cart.checkout(self.pool, learner, now)
        return order.id, order.out_trade_no, order.amount_fen, order.items[0].title

    def _notification(self, order: tuple[int, str, int, str]) -> dict[str, str]:
        _, out_trade_no, amount_fen, title = order
        checkout = Checkout(
            out_trade_no=out_trade_no,
            subject=title,
            total_amount=plain_yuan(amount_fen),
            bank=None,
            notify_url="",
            return_url="",
            quit_url=None,
            passback_params=None,
        )
        return self.sandbox.notification(checkout, self.sandbox.trade_no(out_trade_no))

    async def notify_during(self, kill: Awaitable[None], node: Node) -> None:
        """The round's notification sent to `node` as `kill` strikes (a hair later)."""

        async def late() -> None:
            await asyncio.sleep(0.005)
            self.last_kill = time.monotonic()
            await kill

        await asyncio.gather(self._notify(node, self.params), late())

    async def _notify(self, node: Node, params: dict[str, str]) -> bool:
        """POST the notification as the gateway does; whether the node said success."""
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with self.session.post(
                f"{node.url}/api/v1/payments/alipay/notify",
                data=params,
                timeout=aiohttp.ClientTimeout(total=5),
            ) as response:
                return response.status == 200 and await response.text() == "success"
        return False

    async def _replay(self, params: dict[str, str]) -> bool:
        """The gateway retries until acknowledged: to every live node, twice over."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        acknowledged = 0
        while acknowledged < 2 * NODES and time.monotonic() < deadline:
            for node in self.nodes:
                if node.alive and await self._notify(node, params):
                    acknowledged += 1
            await asyncio.sleep(POLL_S)
        return acknowledged > 0

    async def _pay_once(self) -> int:
        """A first order paid with one notification: the ledger rows one payment makes."""
        order = await self._unpaid_order(self.spare[-1][0])
        assert await self._notify(self.nodes[0], self._notification(order))
        rows = await self.pool.fetchval("SELECT count(*) FROM ledger WHERE order_id = $1", order[0])
        return int(rows)

    async def _recovered(self, killed_at: float, before: dict[int, int]) -> float | None:
        """Seconds from the kill until every player cut off since was acknowledged again
        (0 when none was cut off); None when one was not within the timeout."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        await asyncio.sleep(2)  # a cut socket is noticed within a beat and a reply timeout
        while time.monotonic() < deadline:
            cut = [
                outage for player in self.players for outage in player.outages[before[id(player)] :]
            ]
            if all(outage.back_at is not None for outage in cut):
                return max(
                    (outage.back_at - killed_at for outage in cut if outage.back_at), default=0.0
                )
            await asyncio.sleep(POLL_S)
        return None

    async def _healthy(self, killed_at: float) -> float | None:
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while time.monotonic() < deadline:
            if all(await asyncio.gather(*(node.healthy(self.session) for node in self.nodes))):
                return time.monotonic() - killed_at
            await asyncio.sleep(POLL_S)
        return None

    async def _graded_late(self, connection: Executor, examinees: list[Examinee]) -> int:
        latest: datetime = await connection.fetchval(
            "SELECT max(submitted_at) FROM exam_attempts WHERE id = ANY($1::bigint[])",
            [examinee.attempt for examinee in examinees],
        )
        return round(latest.timestamp() * 1000) - examinees[0].deadline_ms - GRACE_MS

    def _acked(self) -> dict[int, float]:
        return {player.learner_id: player.acked_hwm for player in self.players}

    async def _flushed(
        self, since: float, acked: dict[int, float], figures: Figures
    ) -> float | None:
        """When (monotonic) PostgreSQL held the `acked` high-water marks, polled from
        `since` (None, and a problem, when it did not within the timeout)."""
        deadline = since + FLUSH_TIMEOUT_S
        missing: dict[int, tuple[float, float]] = {}
        while time.monotonic() < deadline:
            try:
                async with self.pool.acquire() as connection:
                    stored = await checks.stored_hwm(connection, self.players)
            except TRANSIENT:  # PostgreSQL killed, or not back yet
                await asyncio.sleep(POLL_S)
                continue
            missing = checks.unflushed(acked, stored)
            if not missing:
                return time.monotonic()
            await asyncio.sleep(POLL_S)
        figures.problems.append(f"acknowledged progress not in PostgreSQL: {missing}")
        return None

    # --- the end --------------------------------------------------------------------

    async def final_problems(self) -> list[str]:
        """Stop the load, let every node flush, and compare everything."""
        problems = [
            f"learner {player.learner_id} was not acknowledged after the last kill"
            for player in self.players
            if not player.acks or player.acks[-1].at < self.last_kill
        ]
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.load), 10)
        redis = create_redis(self.redis.url)
        try:
            deadline = time.monotonic() + FLUSH_TIMEOUT_S
            while (await redis.xpending(keys.STREAM, keys.FLUSH_GROUP))[
                "pending"
            ] or await redis.xlen(keys.STREAM):
                if time.monotonic() > deadline:
                    return ["the flushers left entries in the stream"]
                await asyncio.sleep(POLL_S * 5)
            values = [
                await redis.hget(keys.state_key(player.learner_id, player.chapter), "hwm")
                for player in self.players
            ]
        finally:
            await redis.aclose()
        redis_hwm = {
            player.learner_id: float(value or 0)
            for player, value in zip(self.players, values, strict=True)
        }
        async with self.pool.acquire() as connection:
            return problems + await checks.progress_problems(connection, self.players, redis_hwm)

    async def pending_holder(self) -> Node:
        """Hold the players' progress rows locked until a flusher waits on them with entries
        read and not acknowledged; the node whose consumer holds the most."""
        redis = create_redis(self.redis.url)
        try:
            deadline = time.monotonic() + RECOVERY_TIMEOUT_S
            while time.monotonic() < deadline:
                consumers = await redis.xpending(keys.STREAM, keys.FLUSH_GROUP)
                if consumers["pending"]:
                    busiest = max(consumers["consumers"], key=lambda c: c["pending"])
                    return next(node for node in self.nodes if node.consumer == busiest["name"])
                await asyncio.sleep(POLL_S)
        finally:
            await redis.aclose()
        raise TimeoutError("no flusher held pending entries")

    async def pending_of(self, node: Node) -> int:
        redis = create_redis(self.redis.url)
        try:
            consumers = await redis.xpending(keys.STREAM, keys.FLUSH_GROUP)
        finally:
            await redis.aclose()
        return sum(c["pending"] for c in consumers["consumers"] if c["name"] == node.consumer)

    async def grading_node(self, lock: Executor) -> Node:
        """The node whose sweeper waits, mid-grading, on the rows `lock` holds."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while time.monotonic() < deadline:
            waiting = await lock.fetchval(
                """SELECT application_name FROM pg_stat_activity
                   WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"""
            )
            if waiting is not None:
                return next(node for node in self.nodes if node.name == waiting)
            await asyncio.sleep(POLL_S)
        raise TimeoutError("no sweeper waited mid-grading")

    async def drafts_closed(self) -> list[Any]:
        """The Redis status of each of this round's attempts."""
        redis = create_redis(self.redis.url)
        try:
            return [
                await redis.hget(
                    exam_keys.attempt_key(examinee.learner_id, examinee.attempt), "status"
                )
                for examinee in self.examinees
            ]
        finally:
            await redis.aclose()


@contextlib.asynccontextmanager
async def running(folder: Path) -> AsyncIterator[Harness]:
    harness = Harness(folder)
    try:
        await harness.start()
        yield harness
    except BaseException:
        # The nodes' logs outlive a failed run.
        if (folder / "logs").is_dir():
            shutil.copytree(folder / "logs", LOGS_ON_FAILURE, dirs_exist_ok=True)
        raise
    finally:
        await harness.close()
        shutil.rmtree(folder, ignore_errors=True)
