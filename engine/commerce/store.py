"""SQL of commerce: carts, orders, gateway payments, balances with their ledger, study cards."""

from datetime import datetime

import asyncpg

from engine.catalog.measures import hours
from engine.commerce.types import LedgerEntry, NewBatch, Order, OrderItem
from engine.db import Connection, Executor

CART = """
SELECT c.plan_id, p.title AS plan_title, c.course_id, co.title, co.hour_tenths,
       p.price_per_hour_fen
FROM cart_items c
JOIN plans p ON p.id = c.plan_id
JOIN courses co ON co.id = c.course_id
WHERE c.learner_id = $1
  AND (plan_offered(p.org_id, $1)
       OR EXISTS (SELECT 1 FROM enrolments e WHERE e.learner_id = $1 AND e.plan_id = p.id))
ORDER BY c.added_at, c.course_id
"""

# Why a course of a plan cannot go into the learner's cart, if it cannot; NULL when it can;
# no row for a plan the learner is neither offered nor has activated.
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
WHERE p.id = $2 AND (e.learner_id IS NOT NULL OR plan_offered(p.org_id, $1))
"""

ORDERS = """
SELECT o.id, o.out_trade_no, o.status, o.amount_fen, o.method, o.bank, o.created_at,
       o.paid_at, o.closed_at,
       coalesce(array_agg(ROW(i.plan_id, i.course_id, i.title, i.hour_tenths,
                              i.price_fen) ORDER BY i.course_id)
                FILTER (WHERE i.order_id IS NOT NULL), '{{}}') AS items
FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
WHERE {condition}
GROUP BY o.id ORDER BY o.created_at DESC, o.id DESC
"""

# A course bought by a refunded order stays selected only if another paid order bought it.
UNSELECT_REFUNDED = """
DELETE FROM selections s USING order_items i
WHERE i.order_id = $1 AND s.learner_id = $2 AND s.plan_id = i.plan_id
  AND s.course_id = i.course_id AND s.source = 'purchase'
  AND NOT EXISTS (SELECT 1 FROM order_items j JOIN orders o ON o.id = j.order_id
                  WHERE o.learner_id = $2 AND o.status = 'paid'
                    AND j.plan_id = i.plan_id AND j.course_id = i.course_id)
RETURNING s.plan_id
"""


ENTRIES = """
SELECT l.id, l.kind, l.amount_fen, l.balance_after_fen, l.order_id, c.card_no, l.created_at
FROM ledger l LEFT JOIN study_cards c ON c.id = l.card_id
WHERE l.learner_id = $1 AND ($2::text IS NULL OR l.kind = $2) AND ($3::bigint IS NULL OR l.id < $3)
ORDER BY l.id DESC
LIMIT $4
"""


async def lock_learner(connection: Connection, learner_id: int) -> None:
    """Serialise one learner's cart and checkout, so two tabs cannot buy a course twice."""
    await connection.execute("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", learner_id)


async def cart_rows(db: Executor, learner_id: int) -> list[asyncpg.Record]:
    """The cart in the order it was filled, with each course's hours and plan's price."""
    return await db.fetch(CART, learner_id)


async def cart_count(db: Executor, learner_id: int) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM cart_items WHERE learner_id = $1", learner_id
    )
    return count


async def cart_refusal(
    connection: Connection, learner_id: int, plan_id: int, course_id: int, now: datetime
) -> asyncpg.Record | None:
    """One row whose only column is why the course cannot go into the cart (NULL: it can);
    no row when the plan does not exist or is not the learner's (neither offered nor
    activated)."""
    return await connection.fetchrow(REFUSAL, learner_id, plan_id, course_id, now)


async def insert_cart_item(
    connection: Connection, learner_id: int, plan_id: int, course_id: int
) -> None:
    await connection.execute(
        "INSERT INTO cart_items (learner_id, plan_id, course_id) VALUES ($1, $2, $3)",
        learner_id,
        plan_id,
        course_id,
    )


async def delete_cart_item(db: Executor, learner_id: int, plan_id: int, course_id: int) -> bool:
    """Take a course out of the cart; False when it was not there."""
    removed = await db.fetchval(
        """DELETE FROM cart_items WHERE learner_id = $1 AND plan_id = $2 AND course_id = $3
           RETURNING course_id""",
        learner_id,
        plan_id,
        course_id,
    )
    return removed is not None


async def clear_cart(connection: Connection, learner_id: int) -> None:
    await connection.execute("DELETE FROM cart_items WHERE learner_id = $1", learner_id)


async def insert_order(
    connection: Connection,
    out_trade_no: str,
    learner_id: int,
    amount_fen: int,
    items: list[tuple[int, int, str, int, int]],
) -> int:
    """An unpaid order of these (plan, course, title, hour tenths, price) items; its id."""
    order_id: int = await connection.fetchval(
        """INSERT INTO orders (out_trade_no, learner_id, amount_fen)
           VALUES ($1, $2, $3) RETURNING id""",
        out_trade_no,
        learner_id,
        amount_fen,
    )
    await connection.executemany(
        """INSERT INTO order_items (order_id, plan_id, course_id, title, hour_tenths, price_fen)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(order_id, *item) for item in items],
    )
    return order_id


async def orders(
    db: Executor,
    learner_id: int,
    *,
    order_id: int | None = None,
    status: str | None = None,
    title: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
) -> list[Order]:
    """The learner's orders, newest first, narrowed by whichever filters are given.

    `title` matches any part of an item's title, taken literally.
    """
    conditions = ["o.learner_id = $1"]
    args: list[object] = [learner_id]
    if order_id is not None:
        args.append(order_id)
        conditions.append(f"o.id = ${len(args)}")
    if status:
        args.append(status)
        conditions.append(f"o.status = ${len(args)}")
    if title is not None:
        args.append(f"%{_escape_like(title)}%")
        conditions.append(
            f"EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id AND i.title LIKE ${len(args)})"
        )
    if created_from:
        args.append(created_from)
        conditions.append(f"o.created_at >= ${len(args)}")
    if created_before:
        args.append(created_before)
        conditions.append(f"o.created_at < ${len(args)}")
    rows = await db.fetch(ORDERS.format(condition=" AND ".join(conditions)), *args)
    return [
        Order(
            **{key: value for key, value in row.items() if key != "items"},
            items=[
                OrderItem(item[0], item[1], item[2], hours(item[3]), item[4])
                for item in row["items"]
            ],
        )
        for row in rows
    ]


async def lock_order(
    connection: Connection, order_id: int, learner_id: int | None = None
) -> asyncpg.Record | None:
    """The order's learner_id, status and amount_fen, locked until commit; None when it is
    missing or, with `learner_id`, another learner's."""
    if learner_id is None:
        return await connection.fetchrow(
            "SELECT learner_id, status, amount_fen FROM orders WHERE id = $1 FOR UPDATE", order_id
        )
    return await connection.fetchrow(
        """SELECT learner_id, status, amount_fen FROM orders
           WHERE id = $1 AND learner_id = $2 FOR UPDATE""",
        order_id,
        learner_id,
    )


async def set_paid(connection: Connection, order_id: int, method: str, bank: str | None) -> None:
    await connection.execute(
        "UPDATE orders SET status = 'paid', paid_at = now(), method = $2, bank = $3 WHERE id = $1",
        order_id,
        method,
        bank,
    )


async def select_ordered_courses(
    connection: Connection, learner_id: int, order_id: int
) -> list[int]:
    """Enrol the learner in the order's plans and select its courses; the newly selected ones."""
    await connection.execute(
        """INSERT INTO enrolments (learner_id, plan_id)
           SELECT DISTINCT $1::bigint, plan_id FROM order_items WHERE order_id = $2
           ON CONFLICT DO NOTHING""",
        learner_id,
        order_id,
    )
    rows = await connection.fetch(
        """INSERT INTO selections (learner_id, plan_id, course_id, source)
           SELECT $1, plan_id, course_id, 'purchase' FROM order_items WHERE order_id = $2
           ON CONFLICT DO NOTHING RETURNING course_id""",
        learner_id,
        order_id,
    )
    return [row["course_id"] for row in rows]


async def close_order(connection: Connection, order_id: int, status: str) -> None:
    """Move the order to `status` (cancelled or refunded), closed now."""
    await connection.execute(
        "UPDATE orders SET status = $2, closed_at = now() WHERE id = $1", order_id, status
    )


async def unselect_refunded(connection: Connection, order_id: int, learner_id: int) -> list[int]:
    """Unselect the courses of a refunded order that no other paid order bought; their plans."""
    rows = await connection.fetch(UNSELECT_REFUNDED, order_id, learner_id)
    return sorted({row["plan_id"] for row in rows})


async def order_id_by_trade_no(db: Executor, out_trade_no: str) -> int | None:
    order_id: int | None = await db.fetchval(
        "SELECT id FROM orders WHERE out_trade_no = $1", out_trade_no
    )
    return order_id


async def lock_order_by_trade_no(
    connection: Connection, out_trade_no: str
) -> asyncpg.Record | None:
    """The order's id, status and amount_fen, locked until commit."""
    return await connection.fetchrow(
        "SELECT id, status, amount_fen FROM orders WHERE out_trade_no = $1 FOR UPDATE",
        out_trade_no,
    )


async def payment_order_id(connection: Connection, provider: str, external_id: str) -> int | None:
    """The order a gateway payment was recorded for, if it was."""
    order_id: int | None = await connection.fetchval(
        "SELECT order_id FROM payments WHERE provider = $1 AND external_id = $2",
        provider,
        external_id,
    )
    return order_id


async def insert_payment(
    connection: Connection,
    order_id: int,
    provider: str,
    external_id: str,
    amount_fen: int,
    payload: str,
) -> bool:
    """Record a gateway payment; False when that payment was recorded already."""
    inserted = await connection.fetchval(
        """INSERT INTO payments (order_id, provider, external_id, amount_fen, payload)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (provider, external_id) DO NOTHING RETURNING id""",
        order_id,
        provider,
        external_id,
        amount_fen,
        payload,
    )
    return inserted is not None


async def lock_balance(connection: Connection, learner_id: int) -> int:
    """The learner's balance, its account row created if missing and locked until commit."""
    await connection.execute(
        "INSERT INTO accounts (learner_id) VALUES ($1) ON CONFLICT DO NOTHING", learner_id
    )
    balance: int = await connection.fetchval(
        "SELECT balance_fen FROM accounts WHERE learner_id = $1 FOR UPDATE", learner_id
    )
    return balance


async def add_to_balance(connection: Connection, learner_id: int, amount_fen: int) -> int:
    """Add to the balance; return it. asyncpg.CheckViolationError when it would go negative."""
    after: int = await connection.fetchval(
        """UPDATE accounts SET balance_fen = balance_fen + $2, updated_at = now()
           WHERE learner_id = $1 RETURNING balance_fen""",
        learner_id,
        amount_fen,
    )
    return after


async def insert_ledger_entry(
    connection: Connection,
    learner_id: int,
    kind: str,
    amount_fen: int,
    balance_after_fen: int,
    *,
    order_id: int | None,
    card_id: int | None,
) -> None:
    await connection.execute(
        """INSERT INTO ledger (learner_id, kind, amount_fen, balance_after_fen, order_id, card_id)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        learner_id,
        kind,
        amount_fen,
        balance_after_fen,
        order_id,
        card_id,
    )


async def balance(db: Executor, learner_id: int) -> int:
    """The learner's balance; 0 without an account row."""
    value = await db.fetchval("SELECT balance_fen FROM accounts WHERE learner_id = $1", learner_id)
    return int(value or 0)


async def ledger_entries(
    db: Executor, learner_id: int, kind: str | None, before: int | None, limit: int
) -> list[LedgerEntry]:
    """The learner's ledger rows of `kind` (any when None), newest first, ids below `before`."""
    rows = await db.fetch(ENTRIES, learner_id, kind, before, limit)
    return [LedgerEntry(**dict(row)) for row in rows]


async def insert_batch(connection: Connection, batch: NewBatch, created_by: int | None) -> int:
    batch_id: int = await connection.fetchval(
        """INSERT INTO card_batches (org_id, name, card_count, value_fen, valid_until, created_by)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        batch.org_id,
        batch.name.strip(),
        batch.count,
        batch.value_fen,
        batch.valid_until,
        created_by,
    )
    return batch_id


async def insert_cards(
    connection: Connection, card_nos: list[str], hashes: list[str], value_fen: int, batch_id: int
) -> set[str]:
    """Insert active cards whose number is free; return the numbers inserted.

    A number drawn twice in one call goes to the first row in array order.
    """
    inserted = await connection.fetch(
        """INSERT INTO study_cards (card_no, password_hash, value_fen, batch_id)
           SELECT card_no, password_hash, $3, $4
           FROM unnest($1::text[], $2::text[]) AS c (card_no, password_hash)
           ON CONFLICT (card_no) DO NOTHING
           RETURNING card_no""",
        card_nos,
        hashes,
        value_fen,
        batch_id,
    )
    return {row["card_no"] for row in inserted}


# What decides whether learner $2 may redeem a card: its status, its batch's voiding, its
# batch's last valid day (China's date) and the organisation subtree its batch is for.
CARD_STATE = """
SELECT c.id, c.password_hash, c.status, c.value_fen, b.voided_at IS NOT NULL AS batch_void,
       coalesce((now() AT TIME ZONE 'Asia/Shanghai')::date > b.valid_until, false) AS expired,
       (b.org_id IS NULL OR (SELECT u.org_id FROM users u WHERE u.id = $2)
                            IN (SELECT org_subtree(b.org_id))) AS for_learner
FROM study_cards c JOIN card_batches b ON b.id = c.batch_id
"""


async def card_by_no(db: Executor, card_no: str, learner_id: int) -> asyncpg.Record | None:
    """The card's id, password_hash, status, value_fen, batch_void, expired and for_learner."""
    return await db.fetchrow(CARD_STATE + "WHERE c.card_no = $1", card_no, learner_id)


async def lock_card(connection: Connection, card_id: int, learner_id: int) -> asyncpg.Record | None:
    """As `card_by_no`, the card locked until commit and its batch shared-locked (a batch's
    voiding waits for the redemption, or the redemption sees it)."""
    return await connection.fetchrow(
        CARD_STATE + "WHERE c.id = $1 FOR UPDATE OF c FOR SHARE OF b", card_id, learner_id
    )


async def mark_card_used(connection: Connection, card_id: int, learner_id: int) -> None:
    await connection.execute(
        """UPDATE study_cards SET status = 'used', used_by = $2, used_at = now()
           WHERE id = $1""",
        card_id,
        learner_id,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
