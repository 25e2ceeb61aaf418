"""SQL of chapters and their key points as administrators edit them; scoped through the
course that holds them (`owned_by` on the course's organisation)."""

from collections.abc import Sequence

import asyncpg

from engine.admin.scope import owned_by
from engine.catalog.admin_types import KeyPoint
from engine.db import Connection, Executor

CHAPTER = f"""
SELECT ch.id, ch.course_id, ch.position, ch.title, ch.media, ch.duration_s, c.org_id,
       (SELECT count(*) FROM chapter_progress cp WHERE cp.chapter_id = ch.id) AS learners
FROM chapters ch JOIN courses c ON c.id = ch.course_id
WHERE ch.id = $2 AND {owned_by("c.org_id", 1)}
"""


async def chapters(db: Executor, course_id: int) -> list[asyncpg.Record]:
    """A course's chapters in order, each with how many learners have progress in it."""
    return await db.fetch(
        """SELECT ch.id, ch.course_id, ch.position, ch.title, ch.media, ch.duration_s,
                  (SELECT count(*) FROM chapter_progress cp WHERE cp.chapter_id = ch.id)
                      AS learners
           FROM chapters ch WHERE ch.course_id = $1 ORDER BY ch.position""",
        course_id,
    )


async def chapter(
    db: Executor, org: int | None, chapter_id: int, *, lock: bool = False
) -> asyncpg.Record | None:
    """A chapter within scope. Locked, it keeps the flusher from adding progress to it (its
    insert takes a key-share lock on the chapter) until the transaction ends."""
    return await db.fetchrow(CHAPTER + (" FOR UPDATE OF ch" if lock else ""), org, chapter_id)


async def insert_chapter(
    connection: Connection, course_id: int, title: str, media: str, duration_s: float
) -> int:
    """A chapter at the end of its course (the caller holds the course's row lock)."""
    chapter_id: int = await connection.fetchval(
        """INSERT INTO chapters (course_id, position, title, media, duration_s)
           SELECT $1, coalesce(max(position), 0) + 1, $2, $3, $4
           FROM chapters WHERE course_id = $1
           RETURNING id""",
        course_id,
        title,
        media,
        duration_s,
    )
    return chapter_id


async def rename_chapter(connection: Connection, chapter_id: int, title: str) -> None:
    await connection.execute("UPDATE chapters SET title = $2 WHERE id = $1", chapter_id, title)


async def replace_video(
    connection: Connection, chapter_id: int, media: str, duration_s: float
) -> None:
    await connection.execute(
        "UPDATE chapters SET media = $2, duration_s = $3 WHERE id = $1",
        chapter_id,
        media,
        duration_s,
    )


async def delete_chapter(connection: Connection, chapter_id: int) -> None:
    await connection.execute("DELETE FROM chapters WHERE id = $1", chapter_id)


async def set_positions(connection: Connection, course_id: int, order: Sequence[int]) -> None:
    """Number the course's chapters 1… in `order` (every chapter of the course, once).

    Positions are unique per course: they move out of the way (negative) first."""
    await connection.execute(
        "UPDATE chapters SET position = -position WHERE course_id = $1", course_id
    )
    await connection.execute(
        """UPDATE chapters ch SET position = o.position
           FROM unnest($2::bigint[]) WITH ORDINALITY AS o (id, position)
           WHERE ch.id = o.id AND ch.course_id = $1""",
        course_id,
        list(order),
    )


async def key_points(db: Executor, chapter_id: int) -> list[KeyPoint]:
    rows = await db.fetch(
        "SELECT at_s, title FROM chapter_key_points WHERE chapter_id = $1 ORDER BY at_s",
        chapter_id,
    )
    return [KeyPoint(at_s=row["at_s"], title=row["title"]) for row in rows]


async def set_key_points(
    connection: Connection, chapter_id: int, points: Sequence[KeyPoint]
) -> None:
    await connection.execute("DELETE FROM chapter_key_points WHERE chapter_id = $1", chapter_id)
    await connection.execute(
        """INSERT INTO chapter_key_points (chapter_id, at_s, title)
           SELECT $1, * FROM unnest($2::float8[], $3::text[])""",
        chapter_id,
        [point.at_s for point in points],
        [point.title for point in points],
    )
