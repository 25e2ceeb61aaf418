"""SQL of the administration's sends (notices, announcements, surveys) and survey results,
the scope in every query (`owned_by`): a send's `org_id`, a learner's `users.org_id`."""

from collections.abc import Sequence

import asyncpg

from engine.admin.paging import Page, fetch_page
from engine.admin.scope import owned_by
from engine.db import Connection, Executor
from engine.messages.store import ANNOUNCE
from engine.messages.types import Dispatch

# The learners a send reaches: those chosen ($6, NULL: all) within the subtree ($7, NULL:
# every organisation), one message each, each announced live when the transaction commits.
SEND = (
    """
WITH inserted AS (
    INSERT INTO messages (learner_id, kind, title, body, survey_id, dispatch_id)
    SELECT u.id, $1, $2, $3, $4, $5 FROM users u
    WHERE u.role = 'learner' AND ($6::bigint[] IS NULL OR u.id = ANY($6::bigint[]))
      AND ($7::bigint IS NULL OR u.org_id IN (SELECT org_subtree($7)))
    RETURNING id, learner_id, kind, title, body
)"""
    + ANNOUNCE
)

DISPATCH = """
SELECT d.id, d.kind, d.title, d.body, d.survey_id, d.org_id, o.name AS org_name,
       d.sender_name AS sender, d.recipients,
       (SELECT count(*) FROM messages m WHERE m.dispatch_id = d.id AND m.read_at IS NOT NULL)
           AS read,
       d.created_at
FROM dispatches d LEFT JOIN orgs o ON o.id = d.org_id
"""


async def org_name(db: Executor, org_id: int, scope_org: int | None) -> str | None:
    """The organisation's name, if it lies within the scope."""
    name: str | None = await db.fetchval(
        f"SELECT name FROM orgs WHERE id = $1 AND {owned_by('id', 2)}", org_id, scope_org
    )
    return name


async def org_by_code(db: Executor, code: str) -> int | None:
    found: int | None = await db.fetchval("SELECT id FROM orgs WHERE code = $1", code)
    return found


async def learners_in_scope(
    db: Executor, usernames: Sequence[str], scope_org: int | None
) -> dict[str, int]:
    """The learners of the scope among these usernames: id by lower-cased username."""
    rows = await db.fetch(
        f"""SELECT lower(username) AS username, id FROM users
            WHERE lower(username) = ANY($1::text[]) AND role = 'learner'
              AND {owned_by("org_id", 2)}""",
        [name.lower() for name in usernames],
        scope_org,
    )
    return {row["username"]: row["id"] for row in rows}


async def insert_dispatch(
    connection: Connection,
    *,
    kind: str,
    title: str,
    body: str,
    survey_id: int | None,
    org_id: int | None,
    sender_id: int,
    sender_name: str,
) -> int:
    dispatch_id: int = await connection.fetchval(
        """INSERT INTO dispatches (kind, title, body, survey_id, org_id, sender_id, sender_name)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        kind,
        title,
        body,
        survey_id,
        org_id,
        sender_id,
        sender_name,
    )
    return dispatch_id


async def send(
    connection: Connection,
    dispatch_id: int,
    *,
    kind: str,
    title: str,
    body: str,
    survey_id: int | None,
    learner_ids: Sequence[int] | None,
    org_id: int | None,
) -> int:
    """Put the send's message in each recipient's inbox; how many received it."""
    count: int = await connection.fetchval(
        SEND,
        kind,
        title,
        body,
        survey_id,
        dispatch_id,
        None if learner_ids is None else list(learner_ids),
        org_id,
    )
    await connection.execute(
        "UPDATE dispatches SET recipients = $2 WHERE id = $1", dispatch_id, count
    )
    return count


async def dispatches(
    db: Executor, scope_org: int | None, kind: str | None, number: int
) -> Page[Dispatch]:
    return await fetch_page(
        db,
        DISPATCH
        + f""" WHERE {owned_by("d.org_id", 1)} AND ($2::text IS NULL OR d.kind = $2)
               ORDER BY d.id DESC""",
        [scope_org, kind],
        number=number,
        row=lambda row: Dispatch(**row),
    )


async def survey_dispatch(
    db: Executor, survey_id: int, scope_org: int | None
) -> asyncpg.Record | None:
    """The send of a survey within the scope: its id, title and recipients."""
    return await db.fetchrow(
        f"""SELECT d.id, d.title, d.recipients FROM dispatches d
            WHERE d.survey_id = $1 AND {owned_by("d.org_id", 2)}""",
        survey_id,
        scope_org,
    )


async def questions(db: Executor, survey_id: int) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT id, kind, prompt, options FROM survey_questions WHERE survey_id = $1"
        " ORDER BY position",
        survey_id,
    )


async def response_count(db: Executor, survey_id: int) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM survey_responses WHERE survey_id = $1", survey_id
    )
    return count


async def choice_counts(db: Executor, survey_id: int) -> dict[tuple[int, int], int]:
    """How many chose each option: count by (question, option index)."""
    rows = await db.fetch(
        """SELECT a.question_id, c.choice, count(*) AS chosen
           FROM survey_answers a CROSS JOIN LATERAL unnest(a.choices) AS c(choice)
           WHERE a.survey_id = $1 GROUP BY a.question_id, c.choice""",
        survey_id,
    )
    return {(row["question_id"], row["choice"]): row["chosen"] for row in rows}


async def text_answers(db: Executor, survey_id: int, per_question: int) -> list[asyncpg.Record]:
    """The latest `per_question` text answers of each question: question_id, answer."""
    return await db.fetch(
        """SELECT question_id, answer FROM (
               SELECT a.question_id, a.answer,
                      row_number() OVER (PARTITION BY a.question_id
                                         ORDER BY r.answered_at DESC, a.learner_id) AS n
               FROM survey_answers a
               JOIN survey_responses r USING (survey_id, learner_id)
               JOIN survey_questions q ON q.id = a.question_id
               WHERE a.survey_id = $1 AND q.kind = 'text') latest
           WHERE n <= $2 ORDER BY question_id, n""",
        survey_id,
        per_question,
    )


async def responses(db: Executor, survey_id: int) -> list[asyncpg.Record]:
    """Every response with who gave it: learner_id, username, real_name, org_name,
    answered_at, in the order they came."""
    return await db.fetch(
        """SELECT r.learner_id, u.username, u.real_name, o.name AS org_name, r.answered_at
           FROM survey_responses r JOIN users u ON u.id = r.learner_id
           JOIN orgs o ON o.id = u.org_id
           WHERE r.survey_id = $1 ORDER BY r.answered_at, r.learner_id""",
        survey_id,
    )


async def answers(db: Executor, survey_id: int) -> list[asyncpg.Record]:
    """Every answer: learner_id, question_id, choices, answer."""
    return await db.fetch(
        "SELECT learner_id, question_id, choices, answer FROM survey_answers WHERE survey_id = $1",
        survey_id,
    )
