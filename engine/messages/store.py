"""SQL of the inbox: messages of every kind, unread counts, blocks and reports.

Every insert also calls `pg_notify` for each row: PostgreSQL delivers those notifications
only when the transaction commits, so a message is pushed live exactly when it exists.
"""

from collections.abc import Sequence

import asyncpg

from engine.db import Executor, row_count
from engine.messages.types import Message

NOTICES_CHANNEL = "jixu_notices"
# How much of a body the live push carries; the page shows the rest.
PUSHED_BODY = 200

MESSAGE = """
SELECT m.id, m.kind, m.title, m.body, m.sender_id, u.username AS sender, m.survey_id,
       m.created_at, m.read_at
FROM messages m LEFT JOIN users u ON u.id = m.sender_id
"""

# The rows inserted by the statement this follows (a CTE `inserted`), each announced. The
# id keeps two equal messages apart: PostgreSQL folds identical payloads of a transaction.
ANNOUNCE = f"""
SELECT count(pg_notify('{NOTICES_CHANNEL}', json_build_object(
    'id', id, 'learner', learner_id, 'kind', kind, 'title', title,
    'body', left(body, {PUSHED_BODY}))::text))
FROM inserted
"""

INSERT_MANY = (
    """
WITH inserted AS (
    INSERT INTO messages (learner_id, kind, title, body, sender_id, survey_id)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                         $6::bigint[])
    RETURNING id, learner_id, kind, title, body
)"""
    + ANNOUNCE
)

# The same message to every learner (of one organisation, or all).
INSERT_FOR_LEARNERS = (
    """
WITH inserted AS (
    INSERT INTO messages (learner_id, kind, title, body, survey_id)
    SELECT u.id, $1, $2, $3, $4 FROM users u
    WHERE u.role = 'learner' AND ($5::bigint IS NULL OR u.org_id = $5)
    RETURNING id, learner_id, kind, title, body
)"""
    + ANNOUNCE
)


async def insert_many(
    db: Executor,
    rows: Sequence[tuple[int, str, str, str, int | None, int | None]],
) -> int:
    """Insert (learner, kind, title, body, sender, survey) rows and announce each."""
    if not rows:
        return 0
    columns = [list(column) for column in zip(*rows, strict=True)]
    count: int = await db.fetchval(INSERT_MANY, *columns)
    return count


async def insert_for_learners(
    db: Executor, kind: str, title: str, body: str, survey_id: int | None, org_id: int | None
) -> int:
    count: int = await db.fetchval(INSERT_FOR_LEARNERS, kind, title, body, survey_id, org_id)
    return count


async def inbox(db: Executor, learner_id: int, kind: str, limit: int, offset: int) -> list[Message]:
    rows = await db.fetch(
        MESSAGE + " WHERE m.learner_id = $1 AND m.kind = $2 AND m.hidden_at IS NULL"
        " ORDER BY m.id DESC LIMIT $3 OFFSET $4",
        learner_id,
        kind,
        limit,
        offset,
    )
    return [Message(**row) for row in rows]


async def message(db: Executor, learner_id: int, message_id: int) -> Message | None:
    row = await db.fetchrow(
        MESSAGE + " WHERE m.id = $2 AND m.learner_id = $1 AND m.hidden_at IS NULL",
        learner_id,
        message_id,
    )
    return Message(**row) if row is not None else None


async def mark_read(db: Executor, learner_id: int, message_id: int) -> None:
    await db.execute(
        "UPDATE messages SET read_at = now() WHERE id = $2 AND learner_id = $1 AND read_at IS NULL",
        learner_id,
        message_id,
    )


async def mark_all_read(db: Executor, learner_id: int, kind: str | None) -> int:
    status = await db.execute(
        "UPDATE messages SET read_at = now()"
        " WHERE learner_id = $1 AND read_at IS NULL AND ($2::text IS NULL OR kind = $2)",
        learner_id,
        kind,
    )
    return row_count(status)


async def unread_counts(db: Executor, learner_ids: Sequence[int]) -> dict[int, int]:
    """Each learner's unread messages (learners without any are left out)."""
    rows = await db.fetch(
        "SELECT learner_id, count(*) AS unread FROM messages"
        " WHERE learner_id = ANY($1::bigint[]) AND read_at IS NULL GROUP BY learner_id",
        list(learner_ids),
    )
    return {row["learner_id"]: row["unread"] for row in rows}


async def unread_by_kind(db: Executor, learner_id: int) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT kind, count(*) AS unread FROM messages"
        " WHERE learner_id = $1 AND read_at IS NULL GROUP BY kind",
        learner_id,
    )
    return {row["kind"]: row["unread"] for row in rows}


async def learner_by_username(db: Executor, username: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT id, org_id, role FROM users WHERE lower(username) = lower($1)", username
    )


async def org_of(db: Executor, learner_id: int) -> int | None:
    org_id: int | None = await db.fetchval("SELECT org_id FROM users WHERE id = $1", learner_id)
    return org_id


async def is_blocked(db: Executor, learner_id: int, blocked_id: int) -> bool:
    """Whether `learner_id` blocked `blocked_id`."""
    found: bool = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE learner_id = $1 AND blocked_id = $2)",
        learner_id,
        blocked_id,
    )
    return found


async def block(db: Executor, learner_id: int, blocked_id: int) -> None:
    await db.execute(
        "INSERT INTO blocks (learner_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        learner_id,
        blocked_id,
    )


async def unblock(db: Executor, learner_id: int, blocked_id: int) -> None:
    await db.execute(
        "DELETE FROM blocks WHERE learner_id = $1 AND blocked_id = $2", learner_id, blocked_id
    )


async def blocked(db: Executor, learner_id: int) -> list[asyncpg.Record]:
    """The learners one blocked: id and username."""
    return await db.fetch(
        "SELECT u.id, u.username FROM blocks b JOIN users u ON u.id = b.blocked_id"
        " WHERE b.learner_id = $1 ORDER BY b.created_at",
        learner_id,
    )


async def insert_report(db: Executor, reporter_id: int, message_id: int, reason: str) -> bool:
    """False when the learner had reported this message already."""
    status = await db.execute(
        "INSERT INTO message_reports (message_id, reporter_id, reason) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        message_id,
        reporter_id,
        reason,
    )
    return row_count(status) == 1
