"""Walk factories of commerce: a study-card batch with unused cards, one of its cards (by id
and by number), and a paid order of a learner."""

from engine.commerce.cards import new_card_no
from tests.admin_world import Objects, factory, insert_user, unique


@factory("batch_id")
async def batch(objects: Objects, org_id: int) -> int:
    """An active batch of two unused cards (voidable; its history is empty)."""
    batch_id: int = await objects.connection.fetchval(
        """INSERT INTO card_batches (org_id, name, card_count, value_fen)
           VALUES ($1, $2, 2, 3000) RETURNING id""",
        org_id,
        unique("批次"),
    )
    await objects.connection.execute(
        """INSERT INTO study_cards (card_no, password_hash, value_fen, batch_id)
           SELECT card_no, 'not-a-hash', 3000, $1 FROM unnest($2::text[]) AS card_no""",
        batch_id,
        [new_card_no(), new_card_no()],
    )
    return batch_id


@factory("card_id")
async def card(objects: Objects, org_id: int) -> int:
    """An unused card (voidable) of the batch."""
    card_id: int = await objects.connection.fetchval(
        "SELECT min(id) FROM study_cards WHERE batch_id = $1", await objects.get("batch_id")
    )
    return card_id


@factory("card_no")
async def card_no(objects: Objects, org_id: int) -> str:
    number: str = await objects.connection.fetchval(
        "SELECT card_no FROM study_cards WHERE id = $1", await objects.get("card_id")
    )
    return number


@factory("order_id")
async def paid_order(objects: Objects, org_id: int) -> int:
    """A paid order (refundable) of a new learner of the organisation, for one course."""
    connection = objects.connection
    learner_id = await insert_user(connection, org_id)
    plan_id, course_id = await objects.get("plan_id"), await objects.get("course_id")
    await connection.execute(
        "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        plan_id,
        course_id,
    )
    order_id: int = await connection.fetchval(
        """INSERT INTO orders (out_trade_no, learner_id, status, amount_fen, method, paid_at)
           VALUES ($1, $2, 'paid', 1000, 'alipay', now()) RETURNING id""",
        unique("T"),
        learner_id,
    )
    await connection.execute(
        """INSERT INTO order_items (order_id, plan_id, course_id, title, hour_tenths, price_fen)
           VALUES ($1, $2, $3, '课程', 20, 1000)""",
        order_id,
        plan_id,
        course_id,
    )
    return order_id
