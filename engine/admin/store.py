"""SQL of the audit log's reading (its one write is engine/admin/audit.py's `record`)."""

import asyncpg
import msgspec

from engine.admin.paging import Page, fetch_page
from engine.admin.types import AuditEntry, AuditFilters
from engine.db import Executor


def _entry(row: asyncpg.Record) -> AuditEntry:
    fields = dict(row)
    for side in ("before", "after"):
        fields[side] = None if fields[side] is None else msgspec.json.decode(fields[side])
    return AuditEntry(**fields)


async def search(connection: Executor, filters: AuditFilters, number: int) -> Page[AuditEntry]:
    """Rows matching every given filter, newest first; days are China's."""
    query = """
        SELECT id, at, actor_id, actor_name, actor_role, org_id, action, object_kind, object_id,
               before::text AS before, after::text AS after
        FROM audit_log
        WHERE ($1 = '' OR actor_name ILIKE '%' || $1 || '%')
          AND ($2 = '' OR action = $2 OR action LIKE $2 || '.%')
          AND ($3 = '' OR object_kind = $3)
          AND ($4 = '' OR object_id = $4)
          AND ($5::date IS NULL OR at >= $5::date::timestamp AT TIME ZONE 'Asia/Shanghai')
          AND ($6::date IS NULL OR at < ($6::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')
        ORDER BY at DESC, id DESC"""
    arguments = (
        filters.actor,
        filters.action,
        filters.kind,
        filters.object_id,
        filters.since,
        filters.until,
    )
    return await fetch_page(connection, query, arguments, number=number, row=_entry)


async def kinds(connection: Executor) -> list[str]:
    """The object kinds the log holds (the filter's choices)."""
    rows = await connection.fetch("SELECT DISTINCT object_kind FROM audit_log ORDER BY 1")
    return [row[0] for row in rows]
