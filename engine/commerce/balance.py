"""Balances: every movement locks the account row and writes its ledger row, together."""

import asyncpg

from engine.commerce import store
from engine.db import Connection, Executor
from engine.errors import DomainError

INSUFFICIENT = "账户余额不足，请先充值"


class InsufficientBalance(DomainError):
    code = "insufficient_balance"


async def move(
    connection: Connection,
    learner_id: int,
    amount_fen: int,
    kind: str,
    *,
    order_id: int | None = None,
    card_id: int | None = None,
) -> int:
    """Add `amount_fen` (negative to take) and record it; return the new balance.

    Must run inside the caller's transaction, which it extends with the account row lock.
    """
    balance = await store.lock_balance(connection, learner_id)
    if balance + amount_fen < 0:
        raise InsufficientBalance(INSUFFICIENT)
    try:
        after = await store.add_to_balance(connection, learner_id, amount_fen)
    except asyncpg.CheckViolationError:
        raise InsufficientBalance(INSUFFICIENT) from None
    await store.insert_ledger_entry(
        connection, learner_id, kind, amount_fen, after, order_id=order_id, card_id=card_id
    )
    return after


async def balance_of(db: Executor, learner_id: int) -> int:
    """The learner's balance now (0 before the first recharge)."""
    return await store.balance(db, learner_id)
