"""SQL of the moderation queues: 问答 questions 待回答, reported room messages and reported
站内信. A room's scope is its course's: the courses granted to a teacher, the courses of an
administrator's organisation subtree (`courses.org_id`); a 站内信's is its recipient's
organisation."""

import asyncpg

from engine.admin.paging import Page, fetch_page
from engine.admin.scope import Scope, owned_by
from engine.db import Executor
from engine.messages.types import ReportedLetter, ReportedRoomMessage, WaitingQuestion


def in_courses(column: str, first: int) -> str:
    """A SQL condition: the course `column` is within the scope given as parameters
    `$first` (the role), `$first+1` (the user) and `$first+2` (the organisation root); pass
    them with `course_scope(scope)`."""
    role, user, org = first, first + 1, first + 2
    return f"""(CASE WHEN ${role}::text = 'teacher'
                     THEN EXISTS (SELECT 1 FROM course_teachers t
                                  WHERE t.course_id = {column} AND t.user_id = ${user}::bigint)
                     ELSE (SELECT {owned_by("c_scope.org_id", org)}
                           FROM courses c_scope WHERE c_scope.id = {column}) END)"""


def course_scope(scope: Scope) -> tuple[str, int, int | None]:
    return scope.role, scope.user_id, scope.org_id


WAITING = f"""
SELECT m.id, r.course_id, c.title AS course_title, m.author_name AS author, m.text,
       m.created_at
FROM room_messages m JOIN rooms r ON r.name = m.room JOIN courses c ON c.id = r.course_id
WHERE m.room LIKE 'qa:%' AND m.author_role = 'learner' AND m.answer_to IS NULL
  AND m.answered_at IS NULL AND m.hidden_at IS NULL
  AND {in_courses("r.course_id", 1)}
"""


async def waiting_questions(
    db: Executor, scope: Scope, course_id: int | None, number: int
) -> Page[WaitingQuestion]:
    """Oldest first: the queue is worked from the front."""
    return await fetch_page(
        db,
        WAITING + " AND ($4::bigint IS NULL OR r.course_id = $4) ORDER BY m.id",
        [*course_scope(scope), course_id],
        number=number,
        row=lambda row: WaitingQuestion(**row),
    )


async def question_room(db: Executor, scope: Scope, question_id: int) -> str | None:
    """The 问答 room of a question within the scope (answered or not)."""
    room: str | None = await db.fetchval(
        f"""SELECT m.room FROM room_messages m JOIN rooms r ON r.name = m.room
            WHERE m.id = $4 AND m.room LIKE 'qa:%' AND {in_courses("r.course_id", 1)}""",
        *course_scope(scope),
        question_id,
    )
    return room


async def reported_room_messages(
    db: Executor, scope: Scope, course_id: int | None, number: int
) -> Page[ReportedRoomMessage]:
    """Visible room messages with open reports, the earliest reported first."""
    return await fetch_page(
        db,
        f"""SELECT m.id, m.room, r.course_id, c.title AS course_title, m.author_name AS author,
                   m.text, count(*) AS reports, array_agg(rr.reason ORDER BY rr.created_at)
                   AS reasons, min(rr.created_at) AS reported_at
            FROM room_reports rr JOIN room_messages m ON m.id = rr.message_id
            JOIN rooms r ON r.name = m.room JOIN courses c ON c.id = r.course_id
            WHERE rr.handled_at IS NULL AND m.hidden_at IS NULL
              AND {in_courses("r.course_id", 1)}
              AND ($4::bigint IS NULL OR r.course_id = $4)
            GROUP BY m.id, r.course_id, c.title
            ORDER BY min(rr.created_at), m.id""",
        [*course_scope(scope), course_id],
        number=number,
        row=lambda row: ReportedRoomMessage(**row),
    )


async def reported_room_message(
    db: Executor, scope: Scope, message_id: int
) -> asyncpg.Record | None:
    """A reported room message within the scope: room, author, text, hidden."""
    return await db.fetchrow(
        f"""SELECT m.room, m.author_name, m.text, m.hidden_at IS NOT NULL AS hidden,
                   m.hidden_reason
            FROM room_messages m JOIN rooms r ON r.name = m.room
            WHERE m.id = $4 AND {in_courses("r.course_id", 1)}
              AND EXISTS (SELECT 1 FROM room_reports rr WHERE rr.message_id = m.id)""",
        *course_scope(scope),
        message_id,
    )


async def close_room_reports(db: Executor, message_id: int, by: int, outcome: str) -> int:
    """Close the open reports of a room message; how many were open."""
    rows = await db.fetch(
        """UPDATE room_reports SET handled_at = now(), handled_by = $2, outcome = $3
           WHERE message_id = $1 AND handled_at IS NULL RETURNING reporter_id""",
        message_id,
        by,
        outcome,
    )
    return len(rows)


LETTER_REPORT = f"""
SELECT r.id, r.message_id, ru.username AS reporter, su.username AS sender, o.name AS org_name,
       m.title, m.body, r.reason, r.created_at
FROM message_reports r JOIN messages m ON m.id = r.message_id
JOIN users ru ON ru.id = m.learner_id JOIN users su ON su.id = m.sender_id
JOIN orgs o ON o.id = ru.org_id
WHERE {owned_by("ru.org_id", 1)}
"""


async def reported_letters(
    db: Executor, scope_org: int | None, number: int
) -> Page[ReportedLetter]:
    """Open reports of 站内信 whose recipient is within the scope, newest first."""
    return await fetch_page(
        db,
        LETTER_REPORT + " AND r.handled_at IS NULL AND m.hidden_at IS NULL ORDER BY r.id DESC",
        [scope_org],
        number=number,
        row=lambda row: ReportedLetter(**row),
    )


async def letter_report(
    db: Executor, scope_org: int | None, report_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    """A report within the scope, with its handling and its letter's: id, message_id,
    org_id (the recipient's), handled_at, outcome, hidden_at, hidden_reason."""
    return await db.fetchrow(
        f"""SELECT r.id, r.message_id, u.org_id, r.handled_at, r.outcome, m.hidden_at,
                   m.hidden_reason, m.title
            FROM message_reports r JOIN messages m ON m.id = r.message_id
            JOIN users u ON u.id = m.learner_id
            WHERE r.id = $2 AND {owned_by("u.org_id", 1)}"""
        + (" FOR UPDATE OF r, m" if lock else ""),
        scope_org,
        report_id,
    )


async def hide_letter(db: Executor, message_id: int, by: int, reason: str) -> None:
    """Take a 站内信 out of its recipient's inbox (read: it counts as unread no more)."""
    await db.execute(
        """UPDATE messages SET hidden_at = now(), hidden_by = $2, hidden_reason = $3,
                               read_at = coalesce(read_at, now())
           WHERE id = $1 AND hidden_at IS NULL""",
        message_id,
        by,
        reason,
    )


async def close_letter_reports(db: Executor, message_id: int, by: int, outcome: str) -> None:
    await db.execute(
        """UPDATE message_reports SET handled_at = now(), handled_by = $2, outcome = $3
           WHERE message_id = $1 AND handled_at IS NULL""",
        message_id,
        by,
        outcome,
    )


async def course_org(db: Executor, course_id: int) -> int | None:
    org_id: int | None = await db.fetchval("SELECT org_id FROM courses WHERE id = $1", course_id)
    return org_id
