"""The demo learner's history: one plan passed the way a learner passes it, so that `make run`
shows a full archive and a certificate to print (F23) from its first start.

The learner activates 2018年专业科目（会计审计类）, redeems a study card, buys electives worth
the plan's hours, pays with the balance and watches every chapter (stored as the flusher
stores it): each step through the use case a learner's request would run. It runs once, for
a demo learner who has activated nothing yet.
"""

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import structlog

from engine.accounts import store as accounts_store
from engine.catalog import service as catalog
from engine.catalog.demo import PLANS
from engine.commerce import cards, cart, orders
from engine.commerce.throttle import CardThrottle
from engine.kv import Batcher, create_redis
from engine.progress import store as progress_store
from engine.scripts import SCRIPTS
from engine.seed import DEMO_USERNAME
from engine.settings import Settings

log = structlog.get_logger(__name__)

PASSED_PLAN = "2018年专业科目（会计审计类）"
ADDRESS = "127.0.0.1"
assert any(spec.title == PASSED_PLAN for spec in PLANS)


@dataclass
class HistoryReport:
    plan_id: int
    courses: int
    earned_hours: float


async def seed_demo_history(
    pool: asyncpg.Pool, settings: Settings, now: datetime
) -> HistoryReport | None:
    """Pass PASSED_PLAN for the demo learner, unless they have activated any plan already."""
    found = await accounts_store.credentials(pool, DEMO_USERNAME)
    if found is None:
        return None
    learner_id = found[0]
    plans = await catalog.list_plans(pool, learner_id)
    if any(plan.state != "pending" for plan in plans):
        return None
    plan = next((plan for plan in plans if plan.title == PASSED_PLAN), None)
    if plan is None:
        return None
    await catalog.activate(pool, learner_id, plan.id)
    chosen, hours = [], 0.0
    for course in await catalog.plan_courses(pool, learner_id, plan.id):
        if hours >= plan.required_hours:
            break
        chosen.append(course)
        hours += course.hours
    await _recharge(pool, settings, learner_id, sum(course.price_fen for course in chosen))
    for course in chosen:
        await cart.add(pool, learner_id, plan.id, course.id, now)
    order = await cart.checkout(pool, learner_id, now)
    await orders.pay_with_balance(pool, learner_id, order.id)
    async with pool.acquire() as connection, connection.transaction():
        chapters = await progress_store.chapter_lengths(
            connection, [course.id for course in chosen]
        )
        await progress_store.save_progress(
            connection,
            [(learner_id, chapter, length, length, 0, True) for chapter, length in chapters],
        )
    passed = await catalog.get_plan(pool, learner_id, plan.id)
    report = HistoryReport(plan.id, len(chosen), passed.earned_hours)
    log.info("demo history seeded", state=passed.state, **vars(report))
    return report


async def _recharge(
    pool: asyncpg.Pool, settings: Settings, learner_id: int, amount_fen: int
) -> None:
    """充值 with a study card made for the purpose, through the card's own use cases."""
    [(card_no, password)] = await cards.generate(pool, 1, amount_fen, "demo-history")
    assert settings.redis_url is not None
    redis = create_redis(settings.redis_url)
    try:
        await SCRIPTS.load(redis)
        throttle = CardThrottle(Batcher(redis, SCRIPTS), settings)
        await cards.redeem(pool, throttle, learner_id, card_no, password, ADDRESS)
    finally:
        await redis.aclose()
