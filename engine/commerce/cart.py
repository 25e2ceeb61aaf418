"""The 购物车 (F10, F11): electives waiting for checkout, and checkout into one unpaid order."""

from datetime import UTC, datetime

import asyncpg

from engine.commerce.orders import get_order, new_trade_no
from engine.commerce.types import Cart, CartItem, Order
from engine.db import Connection, Executor
from engine.errors import Conflict, InvalidInput, NotFound

CART = """
SELECT c.plan_id, p.title AS plan_title, c.course_id, co.title, co.hour_tenths,
       co.hour_tenths * p.price_per_hour_fen / 10 AS price_fen
FROM cart_items c
JOIN plans p ON p.id = c.plan_id
JOIN courses co ON co.id = c.course_id
WHERE c.learner_id = $1
ORDER BY c.added_at, c.course_id
"""

# Why a course of a plan cannot go into the learner's cart, if it cannot; NULL when it can.
REFUSAL = """
SELECT CASE
    WHEN pc.course_id IS NULL THEN 'missing'
    WHEN e.learner_id IS NULL THEN 'not_activated'
    WHEN NOT ($4 >= p.opens_at AND $4 < p.closes_at) THEN 'closed'
    WHEN pc.compulsory THEN 'compulsory'
    WHEN EXISTS (SELECT 1 FROM selections s WHERE s.learner_id = $1 AND s.plan_id = $2
                   AND s.course_id = $3) THEN 'bought'
    WHEN EXISTS (SELECT 1 FROM cart_items c WHERE c.learner_id = $1 AND c.plan_id = $2
                   AND c.course_id = $3) THEN 'in_cart'
    WHEN EXISTS (SELECT 1 FROM order_items i JOIN orders o ON o.id = i.order_id
                 WHERE o.learner_id = $1 AND o.status = 'unpaid' AND i.plan_id = $2
                   AND i.course_id = $3) THEN 'in_unpaid_order'
END
FROM plans p
LEFT JOIN plan_courses pc ON pc.plan_id = p.id AND pc.course_id = $3
LEFT JOIN enrolments e ON e.plan_id = p.id AND e.learner_id = $1
WHERE p.id = $2
"""

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
    rows = await db.fetch(CART, learner_id)
    items = [
        CartItem(
            plan_id=row["plan_id"],
            plan_title=row["plan_title"],
            course_id=row["course_id"],
            title=row["title"],
            hours=row["hour_tenths"] / 10,
            price_fen=row["price_fen"],
        )
        for row in rows
    ]
    return Cart(items=items, total_fen=sum(item.price_fen for item in items))


async def cart_count(db: Executor, learner_id: int) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM cart_items WHERE learner_id = $1", learner_id
    )
    return count


async def add(
    pool: asyncpg.Pool, learner_id: int, plan_id: int, course_id: int, now: datetime
) -> Cart:
    """选课: put an elective into the cart, unless it is bought, in the cart or being paid for."""
    async with pool.acquire() as connection, connection.transaction():
        await _lock_learner(connection, learner_id)
        await _check(connection, learner_id, plan_id, course_id, now)
        await connection.execute(
            "INSERT INTO cart_items (learner_id, plan_id, course_id) VALUES ($1, $2, $3)",
            learner_id,
            plan_id,
            course_id,
        )
    return await get_cart(pool, learner_id)


async def remove(pool: asyncpg.Pool, learner_id: int, plan_id: int, course_id: int) -> Cart:
    removed = await pool.fetchval(
        """DELETE FROM cart_items WHERE learner_id = $1 AND plan_id = $2 AND course_id = $3
           RETURNING course_id""",
        learner_id,
        plan_id,
        course_id,
    )
    if removed is None:
        raise NotFound("购物车中没有这门课程")
    return await get_cart(pool, learner_id)


async def checkout(pool: asyncpg.Pool, learner_id: int, now: datetime) -> Order:
    """去结算: one unpaid order of everything in the cart, prices fixed as they are now."""
    async with pool.acquire() as connection, connection.transaction():
        await _lock_learner(connection, learner_id)
        cart = await get_cart(connection, learner_id)
        if not cart.items:
            raise InvalidInput({}, "购物车是空的，请先选课")
        order_id = await connection.fetchval(
            """INSERT INTO orders (out_trade_no, learner_id, amount_fen)
               VALUES ($1, $2, $3) RETURNING id""",
            new_trade_no(now.astimezone(UTC)),
            learner_id,
            cart.total_fen,
        )
        await connection.executemany(
            """INSERT INTO order_items (order_id, plan_id, course_id, title, hour_tenths, price_fen)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            [
                (order_id, i.plan_id, i.course_id, i.title, round(i.hours * 10), i.price_fen)
                for i in cart.items
            ],
        )
        await connection.execute("DELETE FROM cart_items WHERE learner_id = $1", learner_id)
    return await get_order(pool, learner_id, order_id)


async def _check(
    connection: Connection, learner_id: int, plan_id: int, course_id: int, now: datetime
) -> None:
    row = await connection.fetchrow(REFUSAL, learner_id, plan_id, course_id, now)
    if row is None:
        raise NotFound("培训计划不存在")
    if row[0] is not None:
        raise Conflict(REFUSALS[row[0]], code=row[0])


async def _lock_learner(connection: Connection, learner_id: int) -> None:
    """Serialise one learner's cart and checkout, so two tabs cannot buy a course twice."""
    await connection.execute("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", learner_id)
