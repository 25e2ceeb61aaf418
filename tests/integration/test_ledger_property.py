"""Whatever a learner does with cards and orders, the ledger and the balance agree."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import asyncpg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from engine import db
from engine.accounts.passwords import HASHER
from engine.commerce import cards, orders
from engine.commerce.balance import InsufficientBalance
from engine.commerce.cart import add, checkout
from engine.commerce.throttle import CardThrottle
from engine.commerce.types import Order
from engine.errors import Conflict
from engine.kv import Batcher, create_redis
from engine.scripts import SCRIPTS
from engine.settings import load_settings

T = TypeVar("T")
PASSWORD = "ABCDEFGH23"
# (hour tenths, price per hour) → 500, 1000, 1500, 2250 fen and a free course.
COURSES = ((10, 500), (20, 500), (30, 500), (45, 500), (10, 0))


@dataclass(frozen=True)
class Course:
    plan_id: int
    course_id: int
    price_fen: int


@dataclass
class World:
    """What every example shares: one event loop (in the machine's thread), pool, throttle."""

    loop: asyncio.AbstractEventLoop
    pool: asyncpg.Pool
    throttle: CardThrottle
    org_id: int
    courses: tuple[Course, ...]
    card_hash: str

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        async def main() -> T:
            return await work()

        return self.loop.run_until_complete(main())


async def build_catalogue(database_url: str) -> tuple[int, tuple[Course, ...]]:
    connection = await asyncpg.connect(database_url)
    try:
        org_id = await connection.fetchval(
            "INSERT INTO orgs (code, name) VALUES ('prop-org', '测试组织') RETURNING id"
        )
        courses = []
        for index, (hour_tenths, price_per_hour_fen) in enumerate(COURSES):
            plan_id = await connection.fetchval(
                """INSERT INTO plans (code, title, kind, year, elective_tenths, price_per_hour_fen,
                                      opens_at, closes_at)
                   VALUES ($1, '测试计划', 'public', 2018, 100, $2, '2000-01-01', '2100-01-01')
                   RETURNING id""",
                f"prop-plan-{index}",
                price_per_hour_fen,
            )
            course_id = await connection.fetchval(
                "INSERT INTO courses (code, title, hour_tenths) VALUES ($1, $2, $3) RETURNING id",
                f"prop-course-{index}",
                f"测试课程{index}",
                hour_tenths,
            )
            await connection.execute(
                "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2)", plan_id, course_id
            )
            courses.append(Course(plan_id, course_id, hour_tenths * price_per_hour_fen // 10))
    finally:
        await connection.close()
    return org_id, tuple(courses)


def ledger_machine(world: World) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        """One fresh learner per example; the model is what the balance and orders should be."""

        placed = Bundle("orders")
        used_cards = Bundle("used_cards")

        def __init__(self) -> None:
            super().__init__()
            self.learner_id = world.run(self._new_learner)
            self.address = f"2001:db8::{self.learner_id:x}"
            self.balance = 0
            self.status: dict[int, str] = {}
            self.amount: dict[int, int] = {}
            self.contents: dict[int, list[Course]] = {}

        async def _new_learner(self) -> int:
            learner_id: int = await world.pool.fetchval(
                """INSERT INTO users (username, password_hash, org_id, real_name, phone, id_type,
                                      id_number)
                   VALUES ($1, 'x', $2, '测试', '13812345678', 'passport', $3) RETURNING id""",
                f"prop_{uuid.uuid4().hex[:12]}",
                world.org_id,
                uuid.uuid4().hex[:18],
            )
            await world.pool.executemany(
                "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2)",
                [(learner_id, course.plan_id) for course in world.courses],
            )
            return learner_id

        def available(self) -> list[Course]:
            """Courses in no unpaid or paid order: the ones the cart accepts."""
            taken = {
                course
                for order_id, items in self.contents.items()
                if self.status[order_id] in {"unpaid", "paid"}
                for course in items
            }
            return [course for course in world.courses if course not in taken]

        @rule(target=used_cards, value=st.sampled_from([100, 1000, 3000, 5000]))
        def recharge(self, value: int) -> str:
            card_no = cards.new_card_no()
            world.run(
                lambda: world.pool.execute(
                    """WITH batch AS (INSERT INTO card_batches (name, card_count, value_fen)
                                      VALUES ('property', 1, $3) RETURNING id)
                       INSERT INTO study_cards (card_no, password_hash, value_fen, batch_id)
                       SELECT $1, $2, $3, id FROM batch""",
                    card_no,
                    world.card_hash,
                    value,
                )
            )
            after = world.run(
                lambda: cards.redeem(
                    world.pool, world.throttle, self.learner_id, card_no, PASSWORD, self.address
                )
            )
            self.balance += value
            assert after == self.balance
            return card_no

        @rule(card_no=used_cards, right=st.booleans())
        def recharge_again(self, card_no: str, right: bool) -> None:
            expected = Conflict if right else cards.CardRefused
            with pytest.raises(expected):
                world.run(
                    lambda: cards.redeem(
                        world.pool,
                        world.throttle,
                        self.learner_id,
                        card_no,
                        PASSWORD if right else "WRONG2345",
                        self.address,
                    )
                )

        @precondition(lambda self: bool(self.available()))
        @rule(target=placed, data=st.data())
        def check_out(self, data: st.DataObject) -> int:
            chosen = data.draw(
                st.lists(st.sampled_from(self.available()), min_size=1, unique=True), "courses"
            )
            now = datetime.now(UTC)

            async def place() -> Order:
                for course in chosen:
                    await add(world.pool, self.learner_id, course.plan_id, course.course_id, now)
                return await checkout(world.pool, self.learner_id, now)

            order = world.run(place)
            assert order.status == "unpaid"
            assert order.amount_fen == sum(course.price_fen for course in chosen)
            self.status[order.id] = "unpaid"
            self.amount[order.id] = order.amount_fen
            self.contents[order.id] = chosen
            return order.id

        @rule(order_id=placed)
        def pay(self, order_id: int) -> None:
            action = partial(orders.pay_with_balance, world.pool, self.learner_id, order_id)
            if self.status[order_id] != "unpaid":
                with pytest.raises(Conflict):
                    world.run(action)
            elif self.amount[order_id] > self.balance:
                with pytest.raises(InsufficientBalance):
                    world.run(action)
            else:
                assert world.run(action).status == "paid"
                self.status[order_id] = "paid"
                self.balance -= self.amount[order_id]

        @rule(order_id=placed)
        def refund(self, order_id: int) -> None:
            if self.status[order_id] != "paid":
                with pytest.raises(Conflict):
                    world.run(lambda: orders.refund(world.pool, order_id))
            else:
                assert world.run(lambda: orders.refund(world.pool, order_id)).status == "refunded"
                self.status[order_id] = "refunded"
                self.balance += self.amount[order_id]

        @rule(order_id=placed)
        def cancel(self, order_id: int) -> None:
            action = partial(orders.cancel, world.pool, self.learner_id, order_id)
            if self.status[order_id] != "unpaid":
                with pytest.raises(Conflict):
                    world.run(action)
            else:
                assert world.run(action).status == "cancelled"
                self.status[order_id] = "cancelled"

        @invariant()
        def ledger_agrees_with_balance_and_orders(self) -> None:
            balance, total, last, recharges, cards_used, rows = world.run(self._books)
            assert balance >= 0
            assert total == balance == self.balance
            assert last in {None, balance}
            assert recharges == cards_used
            assert {row["id"]: row["status"] for row in rows} == self.status
            for row in rows:
                charged = int(row["amount_fen"] > 0)
                expected = {
                    "unpaid": (0, 0),
                    "cancelled": (0, 0),
                    "paid": (charged, 0),
                    "refunded": (charged, charged),
                }[row["status"]]
                assert (row["payments"], row["refunds"]) == expected, dict(row)
                if row["status"] in {"paid", "refunded"}:
                    assert row["method"] == "balance"

        async def _books(self) -> tuple[int, int, int | None, int, int, list[asyncpg.Record]]:
            async with (
                world.pool.acquire() as connection,
                connection.transaction(isolation="repeatable_read", readonly=True),
            ):
                balance = await connection.fetchval(
                    "SELECT balance_fen FROM accounts WHERE learner_id = $1", self.learner_id
                )
                total = await connection.fetchval(
                    "SELECT coalesce(sum(amount_fen), 0) FROM ledger WHERE learner_id = $1",
                    self.learner_id,
                )
                last = await connection.fetchval(
                    """SELECT balance_after_fen FROM ledger WHERE learner_id = $1
                       ORDER BY id DESC LIMIT 1""",
                    self.learner_id,
                )
                recharges = await connection.fetchval(
                    "SELECT count(*) FROM ledger WHERE learner_id = $1 AND kind = 'recharge'",
                    self.learner_id,
                )
                cards_used = await connection.fetchval(
                    "SELECT count(*) FROM study_cards WHERE used_by = $1", self.learner_id
                )
                rows = await connection.fetch(
                    """SELECT o.id, o.status, o.amount_fen, o.method,
                              count(l.id) FILTER (WHERE l.kind = 'payment') AS payments,
                              count(l.id) FILTER (WHERE l.kind = 'refund') AS refunds
                       FROM orders o LEFT JOIN ledger l ON l.order_id = o.id
                       WHERE o.learner_id = $1 GROUP BY o.id""",
                    self.learner_id,
                )
            return int(balance or 0), int(total), last, recharges, cards_used, list(rows)

    return LedgerMachine


def run_machine(
    database_url: str, redis_url: str, org_id: int, courses: tuple[Course, ...]
) -> None:
    """In a thread of its own: a private event loop that the machine's steps run on."""
    loop = asyncio.new_event_loop()
    redis = create_redis(redis_url)
    # Limits out of the way: failures here are model steps, not an attack.
    limits = load_settings(
        {}, card_max_failures_per_account=10_000, card_max_failures_per_address=10_000
    )
    pool = loop.run_until_complete(db.create_pool(database_url, min_size=1, max_size=4))
    try:
        world = World(
            loop=loop,
            pool=pool,
            throttle=CardThrottle(Batcher(redis, SCRIPTS), limits),
            org_id=org_id,
            courses=courses,
            card_hash=HASHER.hash(PASSWORD),
        )
        run_state_machine_as_test(
            ledger_machine(world),
            settings=settings(
                max_examples=40,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        loop.run_until_complete(pool.close())
        loop.run_until_complete(redis.aclose())
        loop.close()


# Passing takes ~30 s; shrinking a failure can take minutes, and should finish.
@pytest.mark.timeout(600)
async def test_ledger_matches_balances_and_orders(database_url: str, redis_url: str) -> None:
    org_id, courses = await build_catalogue(database_url)
    await asyncio.to_thread(run_machine, database_url, redis_url, org_id, courses)
