"""Orders: checkout of the cart, the unpaid → paid | cancelled and paid → refunded moves."""

import secrets
from datetime import UTC, date, datetime, timedelta

import asyncpg
import structlog

from engine.commerce import balance
from engine.commerce.types import Order, OrderItem
from engine.db import Connection, Executor
from engine.errors import Conflict, InvalidInput, NotFound

log = structlog.get_logger(__name__)

ORDER_STATUSES = {"unpaid": "待支付", "paid": "已支付", "cancelled": "已取消", "refunded": "已退款"}
NOT_FOUND = "订单不存在"


def new_trade_no(now: datetime) -> str:
    """Our order number as gateways see it: time-ordered, unguessable."""
    return now.strftime("%Y%m%d%H%M%S") + secrets.token_hex(5).upper()


async def get_order(db: Executor, learner_id: int, order_id: int) -> Order:
    """The learner's order; another learner's is NotFound, exactly like a missing one."""
    orders = await _orders(db, "o.learner_id = $1 AND o.id = $2", learner_id, order_id)
    if not orders:
        raise NotFound(NOT_FOUND)
    return orders[0]


async def list_orders(
    db: Executor,
    learner_id: int,
    *,
    status: str | None = None,
    course: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[Order]:
    """F26: the learner's orders, newest first, filtered by status, course name and order date."""
    if status is not None and status not in ORDER_STATUSES:
        raise InvalidInput({"status": "订单状态不正确"})
    conditions = ["o.learner_id = $1"]
    args: list[object] = [learner_id]
    if status:
        args.append(status)
        conditions.append(f"o.status = ${len(args)}")
    if course:
        args.append(f"%{_escape_like(course.strip())}%")
        conditions.append(
            f"EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.title LIKE ${len(args)})"
        )
    if since:
        args.append(datetime.combine(since, datetime.min.time(), UTC))
        conditions.append(f"o.created_at >= ${len(args)}")
    if until:
        args.append(datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC))
        conditions.append(f"o.created_at < ${len(args)}")
    return await _orders(db, " AND ".join(conditions), *args)


async def mark_paid(
    connection: Connection, order_id: int, *, method: str, bank: str | None = None
) -> bool:
    """Move an unpaid order to paid and select its courses; False when it was not unpaid.

    Runs inside the caller's transaction (with the payment's own writes), so the order,
    its courses and the money move together or not at all.
    """
    row = await connection.fetchrow(
        "SELECT learner_id, status FROM orders WHERE id = $1 FOR UPDATE", order_id
    )
    if row is None or row["status"] != "unpaid":
        return False
    await connection.execute(
        "UPDATE orders SET status = 'paid', paid_at = now(), method = $2, bank = $3 WHERE id = $1",
        order_id,
        method,
        bank,
    )
    await connection.execute(
        """INSERT INTO enrolments (learner_id, plan_id)
           SELECT DISTINCT $1::bigint, plan_id FROM order_items WHERE order_id = $2
           ON CONFLICT DO NOTHING""",
        row["learner_id"],
        order_id,
    )
    await connection.execute(
        """INSERT INTO selections (learner_id, plan_id, course_id, source)
           SELECT $1, plan_id, course_id, 'purchase' FROM order_items WHERE order_id = $2
           ON CONFLICT DO NOTHING""",
        row["learner_id"],
        order_id,
    )
    log.info("order paid", order_id=order_id, method=method, bank=bank)
    return True


async def pay_with_balance(pool: asyncpg.Pool, learner_id: int, order_id: int) -> Order:
    """F14: take the amount from the balance and mark the order paid, in one transaction."""
    async with pool.acquire() as connection, connection.transaction():
        order = await _lock_order(connection, learner_id, order_id)
        if order["status"] != "unpaid":
            raise Conflict("该订单已支付或已取消", code="not_unpaid")
        if order["amount_fen"] > 0:
            await balance.move(
                connection, learner_id, -order["amount_fen"], "payment", order_id=order_id
            )
        await mark_paid(connection, order_id, method="balance")
    return await get_order(pool, learner_id, order_id)


async def cancel(pool: asyncpg.Pool, learner_id: int, order_id: int) -> Order:
    """F26 删除: only an unpaid order can be cancelled; its courses can be chosen again."""
    async with pool.acquire() as connection, connection.transaction():
        order = await _lock_order(connection, learner_id, order_id)
        if order["status"] != "unpaid":
            raise Conflict("只能删除未支付的订单", code="not_unpaid")
        await connection.execute(
            "UPDATE orders SET status = 'cancelled', closed_at = now() WHERE id = $1", order_id
        )
    return await get_order(pool, learner_id, order_id)


async def refund(pool: asyncpg.Pool, order_id: int) -> Order:
    """An administrator's refund of a paid order to the learner's balance, through the ledger.

    The courses stay selected only if another paid order also bought them.
    """
    async with pool.acquire() as connection, connection.transaction():
        order = await connection.fetchrow(
            "SELECT learner_id, status, amount_fen FROM orders WHERE id = $1 FOR UPDATE", order_id
        )
        if order is None:
            raise NotFound(NOT_FOUND)
        if order["status"] != "paid":
            raise Conflict("只能退款已支付的订单", code="not_paid")
        learner_id = order["learner_id"]
        if order["amount_fen"] > 0:
            await balance.move(
                connection, learner_id, order["amount_fen"], "refund", order_id=order_id
            )
        await connection.execute(
            "UPDATE orders SET status = 'refunded', closed_at = now() WHERE id = $1", order_id
        )
        await connection.execute(
            """DELETE FROM selections s USING order_items i
               WHERE i.order_id = $1 AND s.learner_id = $2 AND s.plan_id = i.plan_id
                 AND s.course_id = i.course_id AND s.source = 'purchase'
                 AND NOT EXISTS (SELECT 1 FROM order_items j JOIN orders o ON o.id = j.order_id
                                 WHERE o.learner_id = $2 AND o.status = 'paid'
                                   AND j.plan_id = i.plan_id AND j.course_id = i.course_id)""",
            order_id,
            learner_id,
        )
    log.info("order refunded", order_id=order_id)
    return await get_order(pool, learner_id, order_id)


async def _lock_order(connection: Connection, learner_id: int, order_id: int) -> asyncpg.Record:
    order = await connection.fetchrow(
        "SELECT status, amount_fen FROM orders WHERE id = $1 AND learner_id = $2 FOR UPDATE",
        order_id,
        learner_id,
    )
    if order is None:
        raise NotFound(NOT_FOUND)
    return order


async def _orders(db: Executor, condition: str, *args: object) -> list[Order]:
    rows = await db.fetch(
        f"""SELECT o.id, o.out_trade_no, o.status, o.amount_fen, o.method, o.bank, o.created_at,
                   o.paid_at, o.closed_at,
                   coalesce(array_agg(ROW(i.plan_id, i.course_id, i.title, i.hour_tenths,
                                          i.price_fen) ORDER BY i.course_id)
                            FILTER (WHERE i.order_id IS NOT NULL), '{{}}') AS items
            FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
            WHERE {condition}
            GROUP BY o.id ORDER BY o.created_at DESC, o.id DESC""",
        *args,
    )
    return [
        Order(
            **{key: value for key, value in row.items() if key != "items"},
            items=[
                OrderItem(item[0], item[1], item[2], item[3] / 10, item[4]) for item in row["items"]
            ],
        )
        for row in rows
    ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
