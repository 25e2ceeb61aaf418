"""SQL of notes."""

from engine.db import Executor, row_count
from engine.notes.types import Note, NoteEntry

NOTE_COLUMNS = "id, chapter_id, position_s, body, created_at, updated_at"

# Each note with its chapter, course and the plan the learner selected the course in (the
# first, if several plans hold it).
ENTRIES = """
SELECT n.id, sel.plan_id, sel.title AS plan_title, c.id AS course_id, c.title AS course_title,
       ch.id AS chapter_id, ch.title AS chapter_title, ch.position AS chapter_position,
       n.position_s, n.body, n.updated_at
FROM notes n
JOIN chapters ch ON ch.id = n.chapter_id
JOIN courses c ON c.id = ch.course_id
LEFT JOIN LATERAL (
    SELECT s.plan_id, p.title FROM selections s JOIN plans p ON p.id = s.plan_id
    WHERE s.learner_id = n.learner_id AND s.course_id = c.id
    ORDER BY s.selected_at, s.plan_id LIMIT 1
) sel ON true
WHERE n.learner_id = $1
  AND ($2::text IS NULL OR strpos(n.body, $2) > 0 OR strpos(c.title, $2) > 0
       OR strpos(ch.title, $2) > 0)
ORDER BY sel.plan_id NULLS LAST, c.id, ch.position, n.position_s, n.id
"""


async def chapter_notes(db: Executor, learner_id: int, chapter_id: int) -> list[Note]:
    rows = await db.fetch(
        f"SELECT {NOTE_COLUMNS} FROM notes WHERE learner_id = $1 AND chapter_id = $2"
        " ORDER BY position_s, id",
        learner_id,
        chapter_id,
    )
    return [Note(**row) for row in rows]


async def entries(db: Executor, learner_id: int, search: str | None) -> list[NoteEntry]:
    return [NoteEntry(**row) for row in await db.fetch(ENTRIES, learner_id, search)]


async def insert(
    db: Executor, learner_id: int, chapter_id: int, position_s: float, body: str
) -> Note:
    row = await db.fetchrow(
        "INSERT INTO notes (learner_id, chapter_id, position_s, body) VALUES ($1, $2, $3, $4)"
        f" RETURNING {NOTE_COLUMNS}",
        learner_id,
        chapter_id,
        position_s,
        body,
    )
    assert row is not None  # INSERT … RETURNING returns the row
    return Note(**row)


async def update(db: Executor, learner_id: int, note_id: int, body: str) -> Note | None:
    row = await db.fetchrow(
        "UPDATE notes SET body = $3, updated_at = now() WHERE id = $2 AND learner_id = $1"
        f" RETURNING {NOTE_COLUMNS}",
        learner_id,
        note_id,
        body,
    )
    return Note(**row) if row is not None else None


async def delete(db: Executor, learner_id: int, note_id: int) -> bool:
    status = await db.execute(
        "DELETE FROM notes WHERE id = $2 AND learner_id = $1", learner_id, note_id
    )
    return row_count(status) == 1
