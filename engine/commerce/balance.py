"""Balances: every movement locks the account row and writes its ledger row, together."""

import asyncpg

from engine.db import Connection
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
    await connection.execute(
        "INSERT INTO accounts (learner_id) VALUES ($1) ON CONFLICT DO NOTHING", learner_id
    )
    balance = await connection.fetchval(
        "SELECT balance_fen FROM accounts WHERE learner_id = $1 FOR UPDATE", learner_id
    )
    if balance + amount_fen < 0:
        raise InsufficientBalance(INSUFFICIENT)
    try:
        after: int = await connection.fetchval(
            """UPDATE accounts SET balance_fen = balance_fen + $2, updated_at = now()
               WHERE learner_id = $1 RETURNING balance_fen""",
            learner_id,
            amount_fen,
        )
    except asyncpg.CheckViolationError:
        raise InsufficientBalance(INSUFFICIENT) from None
    await connection.execute(
        """INSERT INTO ledger (learner_id, kind, amount_fen, balance_after_fen, order_id, card_id)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        learner_id,
        kind,
        amount_fen,
        after,
        order_id,
        card_id,
    )
    return after


async def balance_of(connection: Connection | asyncpg.Pool, learner_id: int) -> int:
    value = await connection.fetchval(
        "SELECT balance_fen FROM accounts WHERE learner_id = $1", learner_id
    )
    return int(value or 0)
