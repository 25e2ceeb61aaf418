"""Orders: checkout of the cart, the unpaid → paid | cancelled and paid → refunded moves."""

import secrets
from datetime import UTC, date, datetime, timedelta

import asyncpg
import structlog

from engine.commerce import balance, store
from engine.commerce.money import yuan
from engine.commerce.types import Order
from engine.db import Connection, Executor
from engine.errors import Conflict, InvalidInput, NotFound
from engine.messages.service import notify
from engine.progress.enrolments import restore_completed, revoke_enrolments

log = structlog.get_logger(__name__)

ORDER_STATUSES = {"unpaid": "待支付", "paid": "已支付", "cancelled": "已取消", "refunded": "已退款"}
NOT_FOUND = "订单不存在"
PAID_TITLE = "支付成功"
PAID_BY = {"balance": "余额支付", "alipay": "支付宝支付", "bank": "银行卡支付"}


def new_trade_no(now: datetime) -> str:
    """Our order number as gateways see it: time-ordered, unguessable."""
    return now.strftime("%Y%m%d%H%M%S") + secrets.token_hex(5).upper()


async def get_order(db: Executor, learner_id: int, order_id: int) -> Order:
    """The learner's order; another learner's is NotFound, exactly like a missing one."""
    orders = await store.orders(db, learner_id, order_id=order_id)
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
    if course is not None and "\x00" in course:
        return []  # PostgreSQL text holds no NUL: no title has one (and the query would fail)
    return await store.orders(
        db,
        learner_id,
        status=status,
        title=course.strip() if course else None,
        created_from=datetime.combine(since, datetime.min.time(), UTC) if since else None,
        created_before=(
            datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC) if until else None
        ),
    )


async def mark_paid(
    connection: Connection, order_id: int, *, method: str, bank: str | None = None
) -> bool:
    """Move an unpaid order to paid and select its courses; False when it was not unpaid.

    Runs inside the caller's transaction (with the payment's own writes), so the order,
    its courses and the money move together or not at all.
    """
    row = await store.lock_order(connection, order_id)
    if row is None or row["status"] != "unpaid":
        return False
    await store.set_paid(connection, order_id, method, bank)
    selected = await store.select_ordered_courses(connection, row["learner_id"], order_id)
    if selected:
        await restore_completed(connection, row["learner_id"], selected)
    paid_by = PAID_BY.get(method, "在线支付")
    await notify(
        connection,
        row["learner_id"],
        PAID_TITLE,
        f"您的订单（编号{order_id}）已支付成功，金额{yuan(row['amount_fen'])}（{paid_by}），"
        "所购课程已加入已选课程。",
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
        await store.close_order(connection, order_id, "cancelled")
    return await get_order(pool, learner_id, order_id)


REFUND_REFUSED = {
    "unpaid": "该订单尚未支付，不能退款",
    "cancelled": "该订单已取消，不能退款",
    "refunded": "该订单已退款，不能重复退款",
}


async def refund(pool: asyncpg.Pool, order_id: int) -> Order:
    """A refund without an actor: the rule itself (`refund_in`) in a transaction of its own.
    Administrators refund through `engine.commerce.admin.refund_order`, which audits it."""
    async with pool.acquire() as connection, connection.transaction():
        learner_id = await refund_in(connection, order_id)
    return await get_order(pool, learner_id, order_id)


async def refund_in(connection: Connection, order_id: int) -> int:
    """Refund a paid order to the learner's balance, through the ledger, inside the caller's
    transaction; return the learner's id.

    The courses stay selected only if another paid order also bought them. What an unselected
    course earned (hours, and the plan's 已通过 if it depended on them) is taken back in the
    same transaction; its chapter progress and exam results stay as history, counting again
    only once the course is bought again.
    """
    order = await store.lock_order(connection, order_id)
    if order is None:
        raise NotFound(NOT_FOUND)
    if order["status"] != "paid":
        raise Conflict(REFUND_REFUSED[order["status"]], code="not_paid")
    learner_id: int = order["learner_id"]
    if order["amount_fen"] > 0:
        await balance.move(connection, learner_id, order["amount_fen"], "refund", order_id=order_id)
    await store.close_order(connection, order_id, "refunded")
    plans = await store.unselect_refunded(connection, order_id, learner_id)
    if plans:
        await revoke_enrolments(connection, learner_id, plans)
    log.info("order refunded", order_id=order_id)
    return learner_id


async def _lock_order(connection: Connection, learner_id: int, order_id: int) -> asyncpg.Record:
    order = await store.lock_order(connection, order_id, learner_id)
    if order is None:
        raise NotFound(NOT_FOUND)
    return order
