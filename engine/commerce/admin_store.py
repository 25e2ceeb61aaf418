"""SQL of commerce's administration: study-card batches and cards, orders, within a scope.

Every query takes the scope's organisation (`org`, None: everything) and applies it in SQL
with `owned_by`: a batch and its cards by the batch's organisation (a platform batch, NULL,
lies in the super administrator's scope alone), an order by its learner's `users.org_id`.
What lies outside the scope is simply not found.
"""

import re
from datetime import datetime

from engine.admin.paging import Page, fetch_page
from engine.admin.scope import owned_by
from engine.commerce.types import (
    CardBatch,
    GatewayPayment,
    LedgerEntry,
    OrderLearner,
    OrderSummary,
    StudyCard,
)
from engine.db import Connection, Executor

# An order's id as typed in the order-number filter: it fits a bigint.
ORDER_ID = re.compile(r"[0-9]{1,18}")

TODAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"

BATCH_STATE = f"""CASE WHEN b.voided_at IS NOT NULL THEN 'void'
     WHEN {TODAY} > b.valid_until THEN 'expired' ELSE 'active' END"""

BATCHES = f"""
SELECT b.id, b.org_id, o.name AS org_name, b.name, b.card_count, b.value_fen, b.valid_until,
       creator.real_name AS created_by_name, b.created_at, {BATCH_STATE} AS state,
       b.voided_at, voider.real_name AS voided_by_name, b.void_reason,
       counts.used_count, counts.void_count
FROM card_batches b
LEFT JOIN orgs o ON o.id = b.org_id
LEFT JOIN users creator ON creator.id = b.created_by
LEFT JOIN users voider ON voider.id = b.voided_by
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE c.status = 'used') AS used_count,
           count(*) FILTER (WHERE c.status = 'void') AS void_count
    FROM study_cards c WHERE c.batch_id = b.id
) AS counts
WHERE {owned_by("b.org_id", 1)}
"""

CARD_STATE = f"""CASE WHEN c.status = 'used' THEN 'used'
     WHEN c.status = 'void' OR b.voided_at IS NOT NULL THEN 'void'
     WHEN {TODAY} > b.valid_until THEN 'expired' ELSE 'active' END"""

CARDS = f"""
SELECT c.id, c.batch_id, b.name AS batch_name, b.org_id, c.card_no, c.value_fen, {CARD_STATE} AS state,
       c.used_by, u.real_name AS used_by_name, u.username AS used_by_username, c.used_at,
       c.voided_at, c.void_reason
FROM study_cards c
JOIN card_batches b ON b.id = c.batch_id
LEFT JOIN users u ON u.id = c.used_by
WHERE {owned_by("b.org_id", 1)}
"""

ORDERS = f"""
SELECT o.id, o.out_trade_no, o.status, o.amount_fen, o.method, o.created_at, o.paid_at,
       o.closed_at, u.id AS learner_id, u.real_name AS learner_name, u.username,
       g.name AS org_name,
       (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) AS item_count
FROM orders o JOIN users u ON u.id = o.learner_id JOIN orgs g ON g.id = u.org_id
WHERE {owned_by("u.org_id", 1)}
"""


async def org_in_scope(db: Executor, org: int | None, org_id: int) -> bool:
    """Whether organisation `org_id` exists within the scope."""
    found = await db.fetchval(
        f"SELECT true FROM orgs o WHERE o.id = $2 AND {owned_by('o.id', 1)}", org, org_id
    )
    return bool(found)


# Batches and cards.


async def batch_page(
    db: Executor, org: int | None, *, name: str | None, state: str | None, number: int
) -> Page[CardBatch]:
    """Page `number` of the batches in scope, newest first, narrowed by name and state."""
    query = (
        BATCHES
        + f"""AND ($2::text IS NULL OR strpos(lower(b.name), lower($2)) > 0)
              AND ($3::text IS NULL OR {BATCH_STATE} = $3)
              ORDER BY b.created_at DESC, b.id DESC"""
    )
    return await fetch_page(
        db, query, [org, name, state], number=number, row=lambda row: CardBatch(**dict(row))
    )


async def batch(db: Executor, org: int | None, batch_id: int) -> CardBatch | None:
    row = await db.fetchrow(BATCHES + "AND b.id = $2", org, batch_id)
    return CardBatch(**dict(row)) if row else None


async def lock_batch(connection: Connection, org: int | None, batch_id: int) -> CardBatch | None:
    """The batch in scope, locked until commit (a redemption of its cards waits, or is seen)."""
    found = await connection.fetchval(
        f"""SELECT b.id FROM card_batches b WHERE b.id = $2 AND {owned_by("b.org_id", 1)}
            FOR UPDATE""",
        org,
        batch_id,
    )
    return await batch(connection, org, batch_id) if found else None


async def void_batch(connection: Connection, batch_id: int, by: int, reason: str) -> int:
    """Void the batch; return how many of its cards it left unused (now void with it)."""
    await connection.execute(
        """UPDATE card_batches SET voided_at = now(), voided_by = $2, void_reason = $3
           WHERE id = $1""",
        batch_id,
        by,
        reason,
    )
    unused: int = await connection.fetchval(
        "SELECT count(*) FROM study_cards WHERE batch_id = $1 AND status = 'active'", batch_id
    )
    return unused


async def card_page(
    db: Executor,
    org: int | None,
    batch_id: int,
    *,
    state: str | None,
    card_no: str | None,
    number: int,
) -> Page[StudyCard]:
    """Page `number` of the batch's cards in issue order, narrowed by state and card number
    (its beginning)."""
    query = (
        CARDS
        + f"""AND c.batch_id = $2 AND ($3::text IS NULL OR {CARD_STATE} = $3)
              AND ($4::text IS NULL OR starts_with(c.card_no, $4))
              ORDER BY c.id"""
    )
    return await fetch_page(
        db,
        query,
        [org, batch_id, state, card_no],
        number=number,
        row=lambda row: StudyCard(**dict(row)),
    )


async def redemption_page(
    db: Executor, org: int | None, batch_id: int, *, number: int
) -> Page[StudyCard]:
    """Page `number` of the batch's redeemed cards, latest redemption first."""
    query = CARDS + "AND c.batch_id = $2 AND c.status = 'used' ORDER BY c.used_at DESC, c.id DESC"
    return await fetch_page(
        db, query, [org, batch_id], number=number, row=lambda row: StudyCard(**dict(row))
    )


async def card(
    db: Executor, org: int | None, *, card_id: int | None = None, card_no: str | None = None
) -> StudyCard | None:
    """The card in scope with this id or this number."""
    row = await db.fetchrow(
        CARDS + "AND ($2::bigint IS NULL OR c.id = $2) AND ($3::text IS NULL OR c.card_no = $3)",
        org,
        card_id,
        card_no,
    )
    return StudyCard(**dict(row)) if row else None


async def lock_card(connection: Connection, org: int | None, card_id: int) -> StudyCard | None:
    """The card in scope, locked until commit (so is a redemption of it)."""
    found = await connection.fetchval(
        f"""SELECT c.id FROM study_cards c JOIN card_batches b ON b.id = c.batch_id
            WHERE c.id = $2 AND {owned_by("b.org_id", 1)} FOR UPDATE OF c""",
        org,
        card_id,
    )
    return await card(connection, org, card_id=card_id) if found else None


async def void_card(connection: Connection, card_id: int, by: int, reason: str) -> None:
    await connection.execute(
        """UPDATE study_cards SET status = 'void', voided_at = now(), voided_by = $2,
                                  void_reason = $3
           WHERE id = $1 AND status = 'active'""",
        card_id,
        by,
        reason,
    )


# Orders.


async def order_page(
    db: Executor,
    org: int | None,
    *,
    number: str | None,
    learner: str | None,
    status: str | None,
    method: str | None,
    created_from: datetime | None,
    created_before: datetime | None,
    plan_id: int | None,
    page: int,
) -> Page[OrderSummary]:
    """Page `page` of the orders of the scope's learners, newest first, narrowed by whichever
    filters are given: `number` is an order's trade number or id, `learner` any part of a
    name or username, or a whole ID number."""
    query = (
        ORDERS
        + """AND ($2::text IS NULL OR o.out_trade_no = upper($2) OR o.id = $9)
             AND ($3::text IS NULL OR strpos(u.real_name, $3) > 0
                  OR strpos(lower(u.username), lower($3)) > 0
                  OR u.id_number = upper($3))
             AND ($4::text IS NULL OR o.status = $4)
             AND ($5::text IS NULL OR o.method = $5)
             AND ($6::timestamptz IS NULL OR o.created_at >= $6)
             AND ($7::timestamptz IS NULL OR o.created_at < $7)
             AND ($8::bigint IS NULL OR EXISTS (SELECT 1 FROM order_items i
                                                WHERE i.order_id = o.id AND i.plan_id = $8))
             ORDER BY o.created_at DESC, o.id DESC"""
    )
    arguments = [
        org,
        number,
        learner,
        status,
        method,
        created_from,
        created_before,
        plan_id,
        int(number) if number is not None and ORDER_ID.fullmatch(number) else None,
    ]
    return await fetch_page(
        db, query, arguments, number=page, row=lambda row: OrderSummary(**dict(row))
    )


async def order_plans(db: Executor, org: int | None) -> list[tuple[int, str]]:
    """(id, title) of the plans the scope's learners have ordered from: the search's choices."""
    rows = await db.fetch(
        f"""SELECT p.id, p.title FROM plans p
            WHERE EXISTS (SELECT 1 FROM order_items i JOIN orders o ON o.id = i.order_id
                          JOIN users u ON u.id = o.learner_id
                          WHERE i.plan_id = p.id AND {owned_by("u.org_id", 1)})
            ORDER BY p.year DESC, p.id DESC""",
        org,
    )
    return [(row["id"], row["title"]) for row in rows]


async def order_learner(
    db: Executor, org: int | None, order_id: int, *, lock: bool = False
) -> OrderLearner | None:
    """The learner of an order in scope; with `lock`, the order row locked until commit."""
    row = await db.fetchrow(
        f"""SELECT u.id, u.real_name AS name, u.username, u.id_number, u.phone, u.org_id,
                   g.name AS org_name
            FROM orders o JOIN users u ON u.id = o.learner_id JOIN orgs g ON g.id = u.org_id
            WHERE o.id = $2 AND {owned_by("u.org_id", 1)}"""
        + (" FOR UPDATE OF o" if lock else ""),
        org,
        order_id,
    )
    return OrderLearner(**dict(row)) if row else None


async def order_payments(db: Executor, order_id: int) -> list[GatewayPayment]:
    rows = await db.fetch(
        """SELECT provider, external_id, amount_fen, notified_at FROM payments
           WHERE order_id = $1 ORDER BY id""",
        order_id,
    )
    return [GatewayPayment(**dict(row)) for row in rows]


async def order_ledger(db: Executor, order_id: int) -> list[LedgerEntry]:
    """The balance movements of an order (its payment, its refund), oldest first."""
    rows = await db.fetch(
        """SELECT l.id, l.kind, l.amount_fen, l.balance_after_fen, l.order_id,
                  NULL::text AS card_no, l.created_at
           FROM ledger l WHERE l.order_id = $1 ORDER BY l.id""",
        order_id,
    )
    return [LedgerEntry(**dict(row)) for row in rows]
