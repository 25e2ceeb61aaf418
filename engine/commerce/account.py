"""我的账户 (F25): the balance, its transaction records and its recharge records."""

import asyncpg
import msgspec

from engine.commerce.balance import balance_of
from engine.commerce.types import LedgerEntry
from engine.db import Executor

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

ENTRIES = """
SELECT l.id, l.kind, l.amount_fen, l.balance_after_fen, l.order_id, c.card_no, l.created_at
FROM ledger l LEFT JOIN study_cards c ON c.id = l.card_id
WHERE l.learner_id = $1 AND ($2::text IS NULL OR l.kind = $2) AND ($3::bigint IS NULL OR l.id < $3)
ORDER BY l.id DESC
LIMIT $4
"""


class AccountView(msgspec.Struct, frozen=True):
    """Newest first; `*_more` says older records exist (ask again with `before` = the last id)."""

    balance_fen: int
    transactions: list[LedgerEntry]
    recharges: list[LedgerEntry]
    transactions_more: bool
    recharges_more: bool


async def account_view(
    pool: asyncpg.Pool, learner_id: int, *, before: int | None = None, limit: int = DEFAULT_LIMIT
) -> AccountView:
    """The balance now, and the ledger rows (all of them, and the recharges) older than `before`.

    Read in one snapshot, so the balance is the newest record's balance after.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        balance_fen = await balance_of(connection, learner_id)
        transactions = await ledger_entries(connection, learner_id, before=before, limit=limit + 1)
        recharges = await ledger_entries(
            connection, learner_id, kind="recharge", before=before, limit=limit + 1
        )
    return AccountView(
        balance_fen=balance_fen,
        transactions=transactions[:limit],
        recharges=recharges[:limit],
        transactions_more=len(transactions) > limit,
        recharges_more=len(recharges) > limit,
    )


async def ledger_entries(
    db: Executor,
    learner_id: int,
    *,
    kind: str | None = None,
    before: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[LedgerEntry]:
    """The learner's ledger rows of `kind` (any when None), newest first, ids below `before`."""
    rows = await db.fetch(ENTRIES, learner_id, kind, before, limit)
    return [LedgerEntry(**dict(row)) for row in rows]
