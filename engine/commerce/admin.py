"""Commerce's administration: study-card batches (create, void, redemption history), single
cards (void), orders (search, detail, refund).

Every use case takes the database and the acting scope, requires an administrator (teachers manage
no money), finds objects only within the scope (`admin_store` applies it in SQL) and
writes its audit row in the transaction of its change. Audit rows never hold a card's
password or hash.
"""

from datetime import date, datetime, time, timedelta

import asyncpg
import structlog

from engine.admin import audit
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.clock import CHINA
from engine.commerce import admin_store, cards, orders
from engine.commerce.types import (
    CardBatch,
    CreatedBatch,
    NewBatch,
    Order,
    OrderDetail,
    OrderQuery,
    OrderSummary,
    StudyCard,
)
from engine.db import Executor
from engine.errors import Conflict, InvalidInput, NotFound

log = structlog.get_logger(__name__)

BATCH_STATES = {"active": "有效", "expired": "已过期", "void": "已作废"}
CARD_STATES = {"active": "未使用", "used": "已使用", "void": "已作废", "expired": "已过期"}
METHODS = {"balance": "余额支付", "alipay": "支付宝", "bank": "银行卡"}
BATCH_NOT_FOUND = "学习卡批次不存在"
CARD_NOT_FOUND = "学习卡不存在"
ORG_NOT_FOUND = "单位不存在"
MAX_REASON = 200
MAX_SEARCH = 64


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason or len(reason) > MAX_REASON or "\x00" in reason:
        raise InvalidInput({"reason": f"请填写作废原因（1–{MAX_REASON}个字）"})
    return reason


def _search_text(field: str, text: str | None) -> str | None:
    value = (text or "").strip()
    if len(value) > MAX_SEARCH or "\x00" in value:
        raise InvalidInput({field: f"最多{MAX_SEARCH}个字符"})
    return value or None


# Study-card batches and cards.


async def create_batch(
    pool: asyncpg.Pool, scope: Scope, batch: NewBatch, today: date
) -> CreatedBatch:
    """A batch of new cards for an organisation in scope (the platform's: super only);
    returns the cards' numbers and passwords, which nothing can show again."""
    require(scope, "admin")
    if batch.org_id is None and not scope.is_super:
        raise InvalidInput({"org_id": "请选择发卡单位"})
    if batch.org_id is not None and not await admin_store.org_in_scope(
        pool, scope.org_id, batch.org_id
    ):
        raise NotFound(ORG_NOT_FOUND)
    errors = cards.batch_errors(batch, today)
    if errors:
        raise InvalidInput(errors)
    passwords, hashes = await cards.hash_passwords(batch.count)
    async with pool.acquire() as connection, connection.transaction():
        batch_id, issued = await cards.issue(connection, batch, scope.user_id, passwords, hashes)
        created = await admin_store.batch(connection, scope.org_id, batch_id)
        assert created is not None
        await audit.record(
            connection,
            scope,
            "card_batch.create",
            kind="card_batch",
            object_id=batch_id,
            org_id=batch.org_id,
            after=_batch_fields(created),
        )
    return CreatedBatch(batch=created, cards=issued)


async def batches(
    db: Executor, scope: Scope, *, name: str | None, state: str | None, page: int
) -> Page[CardBatch]:
    """The batches in scope, newest first."""
    require(scope, "admin")
    if state is not None and state not in BATCH_STATES:
        raise InvalidInput({"state": "状态不正确"})
    return await admin_store.batch_page(
        db, scope.org_id, name=_search_text("name", name), state=state, number=page
    )


async def get_batch(db: Executor, scope: Scope, batch_id: int) -> CardBatch:
    require(scope, "admin")
    found = await admin_store.batch(db, scope.org_id, batch_id)
    if found is None:
        raise NotFound(BATCH_NOT_FOUND)
    return found


async def batch_cards(
    db: Executor,
    scope: Scope,
    batch_id: int,
    *,
    state: str | None,
    card_no: str | None,
    page: int,
) -> Page[StudyCard]:
    """The batch's cards in issue order (never their passwords), by state and number."""
    await get_batch(db, scope, batch_id)
    if state is not None and state not in CARD_STATES:
        raise InvalidInput({"state": "状态不正确"})
    prefix = cards.normalize_card_no(_search_text("card_no", card_no) or "")
    return await admin_store.card_page(
        db, scope.org_id, batch_id, state=state, card_no=prefix or None, number=page
    )


async def redemptions(db: Executor, scope: Scope, batch_id: int, *, page: int) -> Page[StudyCard]:
    """The batch's redemption history: which card, who redeemed it, when; latest first."""
    await get_batch(db, scope, batch_id)
    return await admin_store.redemption_page(db, scope.org_id, batch_id, number=page)


async def find_card(db: Executor, scope: Scope, card_no: str) -> StudyCard:
    """The card in scope with this number (as typed: spaces and dashes allowed)."""
    require(scope, "admin")
    number = cards.normalize_card_no(card_no)
    error = cards.card_no_error(number)
    if error is not None:
        raise InvalidInput({"card_no": error}, error)
    found = await admin_store.card(db, scope.org_id, card_no=number)
    if found is None:
        raise NotFound(CARD_NOT_FOUND)
    return found


async def get_card(db: Executor, scope: Scope, card_id: int) -> StudyCard:
    require(scope, "admin")
    found = await admin_store.card(db, scope.org_id, card_id=card_id)
    if found is None:
        raise NotFound(CARD_NOT_FOUND)
    return found


async def void_batch(pool: asyncpg.Pool, scope: Scope, batch_id: int, reason: str) -> CardBatch:
    """Void a batch: none of its unused cards can be redeemed any more; redeemed ones stay."""
    require(scope, "admin")
    reason = _reason(reason)
    async with pool.acquire() as connection, connection.transaction():
        before = await admin_store.lock_batch(connection, scope.org_id, batch_id)
        if before is None:
            raise NotFound(BATCH_NOT_FOUND)
        if before.voided_at is not None:
            raise Conflict("该批次已作废", code="batch_void")
        unused = await admin_store.void_batch(connection, batch_id, scope.user_id, reason)
        after = await admin_store.batch(connection, scope.org_id, batch_id)
        assert after is not None
        await audit.record(
            connection,
            scope,
            "card_batch.void",
            kind="card_batch",
            object_id=batch_id,
            org_id=before.org_id,
            before=_batch_fields(before),
            after={**_batch_fields(after), "unused_cards_voided": unused},
        )
    log.info("card batch voided", batch_id=batch_id, unused=unused, by=scope.user_id)
    return after


async def void_card(pool: asyncpg.Pool, scope: Scope, card_id: int, reason: str) -> StudyCard:
    """Void one unused card of a batch in scope."""
    require(scope, "admin")
    reason = _reason(reason)
    async with pool.acquire() as connection, connection.transaction():
        before = await admin_store.lock_card(connection, scope.org_id, card_id)
        if before is None:
            raise NotFound(CARD_NOT_FOUND)
        if before.state == "used":
            raise Conflict("该学习卡已被使用，不能作废", code="card_used")
        if before.state == "void":
            raise Conflict(cards.VOID, code="card_void")
        await admin_store.void_card(connection, card_id, scope.user_id, reason)
        after = await admin_store.card(connection, scope.org_id, card_id=card_id)
        assert after is not None
        await audit.record(
            connection,
            scope,
            "card.void",
            kind="card",
            object_id=card_id,
            org_id=before.org_id,
            before=_card_fields(before),
            after=_card_fields(after),
        )
    log.info("study card voided", card_id=card_id, by=scope.user_id)
    return after


def _batch_fields(batch: CardBatch) -> dict[str, object]:
    return {
        "name": batch.name,
        "org_id": batch.org_id,
        "card_count": batch.card_count,
        "value_fen": batch.value_fen,
        "valid_until": batch.valid_until,
        "state": batch.state,
        "void_reason": batch.void_reason,
    }


def _card_fields(card: StudyCard) -> dict[str, object]:
    return {
        "card_no": card.card_no,
        "batch_id": card.batch_id,
        "state": card.state,
        "void_reason": card.void_reason,
    }


# Orders.


async def search_orders(
    db: Executor, scope: Scope, query: OrderQuery, *, page: int
) -> Page[OrderSummary]:
    """The orders of the learners in scope, newest first, narrowed by the query."""
    require(scope, "admin")
    errors: dict[str, str] = {}
    if query.status is not None and query.status not in orders.ORDER_STATUSES:
        errors["status"] = "订单状态不正确"
    if query.method is not None and query.method not in METHODS:
        errors["method"] = "支付方式不正确"
    if query.since and query.until and query.until < query.since:
        errors["until"] = "结束日期不能早于开始日期"
    if errors:
        raise InvalidInput(errors)
    return await admin_store.order_page(
        db,
        scope.org_id,
        number=_search_text("number", query.number),
        learner=_search_text("learner", query.learner),
        status=query.status,
        method=query.method,
        created_from=_china_midnight(query.since) if query.since else None,
        created_before=(_china_midnight(query.until + timedelta(days=1)) if query.until else None),
        plan_id=query.plan_id,
        page=page,
    )


async def order_plans(db: Executor, scope: Scope) -> list[tuple[int, str]]:
    """(id, title) of the plans the scope's learners ordered from: the search's plan choices."""
    require(scope, "admin")
    return await admin_store.order_plans(db, scope.org_id)


async def order_detail(db: Executor, scope: Scope, order_id: int) -> OrderDetail:
    """An order of a learner in scope: its items, the gateways' payments, its ledger rows."""
    require(scope, "admin")
    learner = await admin_store.order_learner(db, scope.org_id, order_id)
    if learner is None:
        raise NotFound(orders.NOT_FOUND)
    return OrderDetail(
        order=await orders.get_order(db, learner.id, order_id),
        learner=learner,
        payments=await admin_store.order_payments(db, order_id),
        ledger=await admin_store.order_ledger(db, order_id),
    )


async def refund_order(pool: asyncpg.Pool, scope: Scope, order_id: int) -> OrderDetail:
    """Refund a paid order of a learner in scope to their balance, as `orders.refund_in` does
    (the hours its courses earned are taken back); audited in the same transaction."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        learner = await admin_store.order_learner(connection, scope.org_id, order_id, lock=True)
        if learner is None:
            raise NotFound(orders.NOT_FOUND)
        before = await orders.get_order(connection, learner.id, order_id)
        await orders.refund_in(connection, order_id)
        after = await orders.get_order(connection, learner.id, order_id)
        await audit.record(
            connection,
            scope,
            "order.refund",
            kind="order",
            object_id=order_id,
            org_id=learner.org_id,
            before=_order_fields(before),
            after=_order_fields(after),
        )
    return await order_detail(pool, scope, order_id)


def _order_fields(order: Order) -> dict[str, object]:
    return {
        "out_trade_no": order.out_trade_no,
        "status": order.status,
        "amount_fen": order.amount_fen,
        "method": order.method,
        "closed_at": order.closed_at,
    }


def _china_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, CHINA)
