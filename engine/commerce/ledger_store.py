"""SQL of the money side of commerce: balances, their ledger, and study cards.

Kept apart from store.py (carts, orders, payments) so that neither file outgrows a reading:
the rows here are the learner's money, those there the things it buys.
"""

import asyncpg

from engine.commerce.types import LedgerEntry
from engine.db import Connection, Executor

ENTRIES = """
SELECT l.id, l.kind, l.amount_fen, l.balance_after_fen, l.order_id, c.card_no, l.created_at
FROM ledger l LEFT JOIN study_cards c ON c.id = l.card_id
WHERE l.learner_id = $1 AND ($2::text IS NULL OR l.kind = $2) AND ($3::bigint IS NULL OR l.id < $3)
ORDER BY l.id DESC
LIMIT $4
"""


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


async def insert_cards(
    connection: Connection, card_nos: list[str], hashes: list[str], value_fen: int, batch: str
) -> set[str]:
    """Insert active cards whose number is free; return the numbers inserted.

    A number drawn twice in one call goes to the first row in array order.
    """
    inserted = await connection.fetch(
        """INSERT INTO study_cards (card_no, password_hash, value_fen, batch)
           SELECT card_no, password_hash, $3, $4
           FROM unnest($1::text[], $2::text[]) AS c (card_no, password_hash)
           ON CONFLICT (card_no) DO NOTHING
           RETURNING card_no""",
        card_nos,
        hashes,
        value_fen,
        batch,
    )
    return {row["card_no"] for row in inserted}


async def card_by_no(db: Executor, card_no: str) -> asyncpg.Record | None:
    """The card's id, password_hash and status."""
    return await db.fetchrow(
        "SELECT id, password_hash, status FROM study_cards WHERE card_no = $1", card_no
    )


async def lock_card(connection: Connection, card_id: int) -> asyncpg.Record | None:
    """The card's password_hash, status and value_fen, locked until commit."""
    return await connection.fetchrow(
        "SELECT password_hash, status, value_fen FROM study_cards WHERE id = $1 FOR UPDATE",
        card_id,
    )


async def mark_card_used(connection: Connection, card_id: int, learner_id: int) -> None:
    await connection.execute(
        """UPDATE study_cards SET status = 'used', used_by = $2, used_at = now()
           WHERE id = $1""",
        card_id,
        learner_id,
    )
