"""Orders, cart items and account records as learners see them."""

from datetime import date, datetime

import msgspec


class OrderItem(msgspec.Struct, frozen=True):
    plan_id: int
    course_id: int
    title: str
    hours: float
    price_fen: int


class Order(msgspec.Struct, frozen=True):
    id: int
    out_trade_no: str
    status: str  # unpaid | paid | cancelled | refunded
    amount_fen: int
    method: str | None
    bank: str | None
    created_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    items: list[OrderItem]


class CartItem(msgspec.Struct, frozen=True):
    plan_id: int
    plan_title: str
    course_id: int
    title: str
    hours: float
    price_fen: int


class Cart(msgspec.Struct, frozen=True):
    items: list[CartItem]
    total_fen: int


class LedgerEntry(msgspec.Struct, frozen=True):
    id: int
    kind: str  # recharge | payment | refund
    amount_fen: int
    balance_after_fen: int
    order_id: int | None
    card_no: str | None
    created_at: datetime


class InvoiceApplication(msgspec.Struct, frozen=True):
    """A learner's application for the invoice of one paid order, collected at a service point."""

    id: int
    order_id: int
    out_trade_no: str
    order_status: str  # the order's: paid, or refunded (the application then no longer stands)
    title: str
    tax_number: str
    amount_fen: int
    created_at: datetime


class InvoiceableOrder(msgspec.Struct, frozen=True):
    """A paid order without an application yet, and the most its invoice may say."""

    id: int
    out_trade_no: str
    amount_fen: int
    paid_at: datetime


class NewBatch(msgspec.Struct, frozen=True, kw_only=True):
    """A batch to create: `count` cards of `value_fen`, redeemable up to and including
    `valid_until` (None: no end) by the learners of `org_id`'s subtree (None: everyone)."""

    name: str
    count: int
    value_fen: int
    valid_until: date | None = None
    org_id: int | None = None


class CardBatch(msgspec.Struct, frozen=True, kw_only=True):
    """A batch as administrators see it; `state` is active, expired or void."""

    id: int
    org_id: int | None
    org_name: str | None  # None: the platform's
    name: str
    card_count: int
    value_fen: int
    valid_until: date | None
    created_by_name: str | None
    created_at: datetime
    state: str
    voided_at: datetime | None
    voided_by_name: str | None
    void_reason: str | None
    used_count: int
    void_count: int  # cards voided one by one


class StudyCard(msgspec.Struct, frozen=True, kw_only=True):
    """One card of a batch, never its password; `state` is active, used, void or expired
    (a card of a void batch is void)."""

    id: int
    batch_id: int
    batch_name: str
    org_id: int | None  # the batch's
    card_no: str
    value_fen: int
    state: str
    used_by: int | None
    used_by_name: str | None
    used_by_username: str | None
    used_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None


class CreatedBatch(msgspec.Struct, frozen=True, kw_only=True):
    """A new batch and its cards' (card_no, password): the only time the passwords exist."""

    batch: CardBatch
    cards: list[tuple[str, str]]


class OrderQuery(msgspec.Struct, frozen=True, kw_only=True):
    """An administrator's order search; every field narrows it when given. `number` is the
    order's number (its id) or its trade number; `learner` a name, username or ID number;
    the dates are China's, both included."""

    number: str | None = None
    learner: str | None = None
    status: str | None = None
    method: str | None = None
    since: date | None = None
    until: date | None = None
    plan_id: int | None = None


class OrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    """An order in an administrator's search results, with its learner."""

    id: int
    out_trade_no: str
    status: str
    amount_fen: int
    method: str | None
    created_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    learner_id: int
    learner_name: str
    username: str
    org_name: str
    item_count: int


class OrderLearner(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    username: str
    id_number: str
    phone: str
    org_id: int
    org_name: str


class GatewayPayment(msgspec.Struct, frozen=True, kw_only=True):
    """A payment notified by a gateway (支付宝, bank), as recorded."""

    provider: str
    external_id: str
    amount_fen: int
    notified_at: datetime


class OrderDetail(msgspec.Struct, frozen=True, kw_only=True):
    """An order with its learner, its items, the gateways' payments and its ledger rows."""

    order: Order
    learner: OrderLearner
    payments: list[GatewayPayment]
    ledger: list[LedgerEntry]
