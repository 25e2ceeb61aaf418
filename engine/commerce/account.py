"""我的账户 (F25): the balance, its transaction records and its recharge records."""

import asyncpg
import msgspec

from engine.commerce import store
from engine.commerce.balance import balance_of
from engine.commerce.types import LedgerEntry

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


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
        transactions = await store.ledger_entries(connection, learner_id, None, before, limit + 1)
        recharges = await store.ledger_entries(
            connection, learner_id, "recharge", before, limit + 1
        )
    return AccountView(
        balance_fen=balance_fen,
        transactions=transactions[:limit],
        recharges=recharges[:limit],
        transactions_more=len(transactions) > limit,
        recharges_more=len(recharges) > limit,
    )
