"""SQL of the generated population: what it studies, the ids it takes, and its batches."""

import contextlib
from collections.abc import Mapping, Sequence

import asyncpg

from engine.db import Connection

Columns = tuple[str, ...]


async def leaf_orgs(connection: Connection) -> list[int]:
    """The organisations without children, where learners are placed."""
    rows = await connection.fetch(
        """SELECT o.id FROM orgs o
           WHERE NOT EXISTS (SELECT 1 FROM orgs c WHERE c.parent_id = o.id) ORDER BY o.id"""
    )
    return [row["id"] for row in rows]


async def chapters(connection: Connection) -> list[asyncpg.Record]:
    return await connection.fetch(
        "SELECT id, course_id, duration_s FROM chapters ORDER BY course_id, position"
    )


async def plan_courses(connection: Connection) -> list[asyncpg.Record]:
    """Each plan's courses with their hours and price per hour, compulsory first."""
    return await connection.fetch(
        """SELECT pc.plan_id, c.id, c.title, c.hour_tenths, p.price_per_hour_fen,
                  pc.compulsory, pc.examined
           FROM plan_courses pc JOIN courses c ON c.id = pc.course_id
           JOIN plans p ON p.id = pc.plan_id
           ORDER BY pc.plan_id, pc.compulsory DESC, c.id"""
    )


async def plans(connection: Connection) -> list[asyncpg.Record]:
    return await connection.fetch(
        "SELECT id, kind, year, elective_tenths, opens_at FROM plans ORDER BY year, id"
    )


async def examined_exams(connection: Connection) -> list[asyncpg.Record]:
    """The exam a learner sits for each examined course of a plan (the plan's own before
    the course's exam of every plan)."""
    return await connection.fetch(
        """SELECT DISTINCT ON (pc.plan_id, pc.course_id) pc.plan_id, pc.course_id, x.id,
                  x.duration_s, x.total_score, x.pass_score, x.attempts_allowed,
                  x.partial_credit
           FROM plan_courses pc JOIN exams x ON x.course_id = pc.course_id
                AND (x.plan_id IS NULL OR x.plan_id = pc.plan_id)
           WHERE pc.examined
           ORDER BY pc.plan_id, pc.course_id, x.plan_id NULLS LAST, x.id"""
    )


async def last_number(connection: Connection, prefix: str) -> int:
    """The highest number of the usernames `<prefix><digits>`, 0 if none."""
    last: int | None = await connection.fetchval(
        "SELECT max(substr(username, $2)::int) FROM users WHERE username LIKE $1",
        prefix.replace("_", "\\_") + "%",
        len(prefix) + 1,
    )
    return last or 0


async def take_ids(connection: Connection, table: str, count: int) -> list[int]:
    """`count` values of the table's identity sequence."""
    rows = await connection.fetch(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
        table,
        count,
    )
    return [row[0] for row in rows]


async def write_batch(
    connection: Connection,
    tables: Mapping[str, tuple[Columns, Sequence[tuple[object, ...]]]],
    card_batch: tuple[int, str, int, int],
) -> int:
    """One batch of rows in one transaction, returning how many. `card_batch` is (id, name,
    cards, value): the batch of study cards these learners redeemed. A superuser's copy skips the foreign keys' per-row triggers (the rows refer only
    to what the batch or the catalogue holds; the tests check every reference): four times
    faster. Other roles copy with the checks."""
    written = 0
    async with connection.transaction():
        # Nothing waits on this commit's flush to disk: a crash loses at most the last
        # batches, and the next run numbers on from the learners that were kept.
        await connection.execute("SET LOCAL synchronous_commit = off")
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            async with connection.transaction():  # a savepoint: refused, nothing is lost
                await connection.execute("SET LOCAL session_replication_role = replica")
        if card_batch[2]:
            await connection.execute(
                """INSERT INTO card_batches (id, name, card_count, value_fen, created_at)
                   VALUES ($1, $2, $3, $4, now())""",
                *card_batch,
            )
        for table, (columns, records) in tables.items():
            if records:
                await connection.copy_records_to_table(table, records=records, columns=columns)
                written += len(records)
    return written


async def analyze(connection: Connection, tables: Sequence[str]) -> None:
    """Fresh planner statistics for tables that just grew: before autovacuum gets to them,
    the planner would take a hundred thousand learners for the few it last saw."""
    for table in tables:
        await connection.execute(f"ANALYZE {table}")
