"""SQL of the rooms: messages numbered per room, 问答's answers, moderation."""

from datetime import datetime

import asyncpg

from engine.db import Executor
from engine.rooms.types import Seat, StoredMessage

MESSAGE_COLUMNS = """
m.id, m.room, m.seq, m.author_id, m.author_name, m.author_role,
CASE WHEN m.hidden_at IS NULL THEN m.text ELSE '' END,
(extract(epoch FROM m.created_at) * 1000)::bigint, m.client_id, m.answer_to,
m.answered_at IS NOT NULL, m.hidden_at IS NOT NULL
"""

# The room's counter and the message in one statement: the room's row stays locked until
# the statement commits, so the next send of the room numbers after this one is stored.
INSERT_MESSAGE = f"""
WITH counter AS (
    INSERT INTO rooms AS r (name, course_id, last_seq) VALUES ($1, $2, 1)
    ON CONFLICT (name) DO UPDATE SET last_seq = r.last_seq + 1
    RETURNING last_seq
), m AS (
    INSERT INTO room_messages (room, seq, author_id, author_name, author_role, text, client_id,
                               created_at, answer_to)
    SELECT $1, last_seq, $3, $4, $5, $6, $7, $8, $9 FROM counter
    RETURNING *
)
SELECT {MESSAGE_COLUMNS} FROM m
"""


def _message(row: asyncpg.Record) -> StoredMessage:
    return StoredMessage(
        id=row[0],
        room=row[1],
        seq=row[2],
        author_id=row[3],
        author=row[4],
        role=row[5],
        text=row[6],
        at_ms=row[7],
        client_id=row[8],
        answer_to=row[9],
        answered=row[10],
        hidden=row[11],
    )


async def insert_message(
    connection: Executor,
    seat: Seat,
    text: str,
    client_id: str,
    at: datetime,
    answer_to: int | None = None,
) -> StoredMessage:
    row = await connection.fetchrow(
        INSERT_MESSAGE,
        seat.room.name,
        seat.room.course_id,
        seat.user_id,
        seat.name,
        seat.role,
        text,
        client_id,
        at,
        answer_to,
    )
    assert row is not None  # the insert of a row from the counter's one row
    return _message(row)


async def question_to_answer(
    connection: Executor, room: str, question_id: int
) -> tuple[int, str] | None:
    """(asker, text) of a visible, unanswered question of the room, locked until answered."""
    row = await connection.fetchrow(
        """SELECT author_id, text FROM room_messages
           WHERE id = $1 AND room = $2 AND author_role = 'learner' AND answer_to IS NULL
                 AND hidden_at IS NULL AND answered_at IS NULL
           FOR UPDATE""",
        question_id,
        room,
    )
    return (row[0], row[1]) if row else None


async def mark_answered(connection: Executor, question_id: int, at: datetime) -> None:
    await connection.execute(
        "UPDATE room_messages SET answered_at = $2 WHERE id = $1", question_id, at
    )


async def last_seq(connection: Executor, room: str) -> int:
    return await connection.fetchval("SELECT last_seq FROM rooms WHERE name = $1", room) or 0


async def messages_after(
    connection: Executor, room: str, after_seq: int, limit: int
) -> list[StoredMessage]:
    rows = await connection.fetch(
        f"""SELECT {MESSAGE_COLUMNS} FROM room_messages m
            WHERE m.room = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3""",
        room,
        after_seq,
        limit,
    )
    return [_message(row) for row in rows]


async def messages_before(
    connection: Executor, room: str, before_seq: int, limit: int
) -> list[StoredMessage]:
    """The `limit` messages just before `before_seq`, by seq."""
    rows = await connection.fetch(
        f"""SELECT * FROM (SELECT {MESSAGE_COLUMNS} FROM room_messages m
                           WHERE m.room = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3) last
            ORDER BY 3""",
        room,
        before_seq,
        limit,
    )
    return [_message(row) for row in rows]


async def pinned(connection: Executor, room: str, limit: int) -> list[StoredMessage]:
    """The latest visible answers of the room and the questions they answer, by seq."""
    rows = await connection.fetch(
        f"""WITH answers AS (
                SELECT id, answer_to FROM room_messages
                WHERE room = $1 AND answer_to IS NOT NULL AND hidden_at IS NULL
                ORDER BY seq DESC LIMIT $2)
            SELECT {MESSAGE_COLUMNS} FROM room_messages m
            WHERE m.id IN (SELECT id FROM answers UNION SELECT answer_to FROM answers)
            ORDER BY m.seq""",
        room,
        limit,
    )
    return [_message(row) for row in rows]


async def hide(
    connection: Executor, room: str, message_id: int, by: int, reason: str, at: datetime
) -> bool:
    """Hide a message of the room (once: the first moderator's reason is kept)."""
    status = await connection.execute(
        """UPDATE room_messages SET hidden_at = $5, hidden_by = $3, hidden_reason = $4
           WHERE id = $2 AND room = $1 AND hidden_at IS NULL""",
        room,
        message_id,
        by,
        reason,
        at,
    )
    return status != "UPDATE 0"


async def message_exists(connection: Executor, room: str, message_id: int) -> bool:
    return bool(
        await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM room_messages WHERE id = $1 AND room = $2)",
            message_id,
            room,
        )
    )


async def report(
    connection: Executor, message_id: int, reporter_id: int, reason: str, at: datetime
) -> None:
    """Record a learner's report (again: the first one stands)."""
    await connection.execute(
        """INSERT INTO room_reports (message_id, reporter_id, reason, created_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
        message_id,
        reporter_id,
        reason,
        at,
    )
