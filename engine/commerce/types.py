"""Orders, cart items and account records as learners see them."""

from datetime import datetime

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
