"""The 购物车 (F10, F11): electives waiting for checkout, and checkout into one unpaid order."""

from datetime import UTC, datetime

import asyncpg

from engine.catalog.measures import hours, price_fen, tenths
from engine.commerce import store
from engine.commerce.orders import get_order, new_trade_no
from engine.commerce.types import Cart, CartItem, Order
from engine.db import Connection, Executor
from engine.errors import Conflict, InvalidInput, NotFound

REFUSALS = {
    "missing": "该培训计划中没有这门课程",
    "not_activated": "请先激活该培训计划",
    "closed": "该培训计划不在开放期内",
    "compulsory": "必修课已自动选入，无需购买",
    "bought": "您已购买过这门课程",
    "in_cart": "这门课程已在购物车中",
    "in_unpaid_order": "这门课程已在未支付的订单中，请先支付或删除该订单",
}


async def get_cart(db: Executor, learner_id: int) -> Cart:
    rows = await store.cart_rows(db, learner_id)
    items = [
        CartItem(
            plan_id=row["plan_id"],
            plan_title=row["plan_title"],
            course_id=row["course_id"],
            title=row["title"],
            hours=hours(row["hour_tenths"]),
            price_fen=price_fen(row["hour_tenths"], row["price_per_hour_fen"]),
        )
        for row in rows
    ]
    return Cart(items=items, total_fen=sum(item.price_fen for item in items))


async def cart_count(db: Executor, learner_id: int) -> int:
    return await store.cart_count(db, learner_id)


async def add(
    pool: asyncpg.Pool, learner_id: int, plan_id: int, course_id: int, now: datetime
) -> Cart:
    """选课: put an elective into the cart, unless it is bought, in the cart or being paid for."""
    async with pool.acquire() as connection, connection.transaction():
        await store.lock_learner(connection, learner_id)
        await _check(connection, learner_id, plan_id, course_id, now)
        await store.insert_cart_item(connection, learner_id, plan_id, course_id)
    return await get_cart(pool, learner_id)


async def remove(pool: asyncpg.Pool, learner_id: int, plan_id: int, course_id: int) -> Cart:
    if not await store.delete_cart_item(pool, learner_id, plan_id, course_id):
        raise NotFound("购物车中没有这门课程")
    return await get_cart(pool, learner_id)


async def checkout(pool: asyncpg.Pool, learner_id: int, now: datetime) -> Order:
    """去结算: one unpaid order of everything in the cart, prices fixed as they are now."""
    async with pool.acquire() as connection, connection.transaction():
        await store.lock_learner(connection, learner_id)
        cart = await get_cart(connection, learner_id)
        if not cart.items:
            raise InvalidInput({}, "购物车是空的，请先选课")
        order_id = await store.insert_order(
            connection,
            new_trade_no(now.astimezone(UTC)),
            learner_id,
            cart.total_fen,
            [(i.plan_id, i.course_id, i.title, tenths(i.hours), i.price_fen) for i in cart.items],
        )
        await store.clear_cart(connection, learner_id)
    return await get_order(pool, learner_id, order_id)


async def _check(
    connection: Connection, learner_id: int, plan_id: int, course_id: int, now: datetime
) -> None:
    row = await store.cart_refusal(connection, learner_id, plan_id, course_id, now)
    if row is None:
        raise NotFound("培训计划不存在")
    if row[0] is not None:
        raise Conflict(REFUSALS[row[0]], code=row[0])
