"""SQL of invoice applications (F29): one per paid order, bounded by what the order paid."""

from datetime import datetime

from engine.commerce.types import InvoiceableOrder, InvoiceApplication
from engine.db import Connection, Executor

APPLICATIONS = """
SELECT a.id, a.order_id, o.out_trade_no, o.status AS order_status, a.title, a.tax_number,
       a.amount_fen, a.created_at
FROM invoice_applications a JOIN orders o ON o.id = a.order_id
WHERE a.learner_id = $1
ORDER BY a.id DESC
"""


async def applications(db: Executor, learner_id: int) -> list[InvoiceApplication]:
    """The learner's applications, newest first, with their orders' status."""
    return [InvoiceApplication(*row) for row in await db.fetch(APPLICATIONS, learner_id)]


async def invoiceable_orders(db: Executor, learner_id: int) -> list[InvoiceableOrder]:
    """The learner's paid orders of some amount that no application names yet, newest first."""
    rows = await db.fetch(
        """SELECT o.id, o.out_trade_no, o.amount_fen, o.paid_at FROM orders o
           WHERE o.learner_id = $1 AND o.status = 'paid' AND o.amount_fen > 0
             AND NOT EXISTS (SELECT 1 FROM invoice_applications a WHERE a.order_id = o.id)
           ORDER BY o.paid_at DESC, o.id DESC""",
        learner_id,
    )
    return [InvoiceableOrder(*row) for row in rows]


async def has_application(connection: Connection, order_id: int) -> bool:
    return bool(
        await connection.fetchval(
            "SELECT true FROM invoice_applications WHERE order_id = $1", order_id
        )
    )


async def insert_application(
    connection: Connection,
    learner_id: int,
    order_id: int,
    title: str,
    tax_number: str,
    amount_fen: int,
    created_at: datetime,
) -> int:
    application_id: int = await connection.fetchval(
        """INSERT INTO invoice_applications
               (learner_id, order_id, title, tax_number, amount_fen, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        learner_id,
        order_id,
        title,
        tax_number,
        amount_fen,
        created_at,
    )
    return application_id
