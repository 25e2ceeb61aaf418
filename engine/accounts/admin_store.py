"""SQL of the accounts' administration: users and organisations within a scope.

Every query takes the scope's organisation (`scope.org_id`, None for everything) and applies
it with `owned_by`: a user outside it is not found."""

from datetime import datetime

import asyncpg

from engine.accounts.types import LearnerFilters, ManagedUser, Org
from engine.admin.paging import Page, fetch_page
from engine.admin.scope import owned_by
from engine.db import Executor

MANAGED_SELECT = """
SELECT u.id, u.username, u.role, u.real_name, u.phone, u.id_type, u.id_number, u.org_id,
       o.name AS org_name, u.created_at, u.locked_at, u.must_change_password
FROM users u JOIN orgs o ON o.id = u.org_id
"""


def _managed(row: asyncpg.Record) -> ManagedUser:
    return ManagedUser(**dict(row))


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_users(
    connection: Executor, scope_org: int | None, role: str, filters: LearnerFilters, number: int
) -> Page[ManagedUser]:
    """Users of `role` in the scope matching the filters, newest first."""
    query = (
        MANAGED_SELECT
        + f"""WHERE u.role = $2 AND {owned_by("u.org_id", 1)}
              AND ($3 = '' OR u.real_name ILIKE $4 OR u.username ILIKE $4
                   OR u.id_number ILIKE $4 OR u.phone LIKE $4)
              AND ($5::bigint IS NULL OR u.org_id IN (SELECT org_subtree($5)))
              AND ($6::boolean IS NULL OR (u.locked_at IS NOT NULL) = $6)
              ORDER BY u.id DESC"""
    )
    arguments = (scope_org, role, filters.q, _like(filters.q), filters.org_id, filters.locked)
    return await fetch_page(connection, query, arguments, number=number, row=_managed)


async def managed_user(
    connection: Executor, scope_org: int | None, role: str, user_id: int, *, lock: bool = False
) -> ManagedUser | None:
    """A user of `role` in the scope (its row locked for an update with `lock`)."""
    row = await connection.fetchrow(
        MANAGED_SELECT
        + f"WHERE u.id = $2 AND u.role = $3 AND {owned_by('u.org_id', 1)}"
        + (" FOR UPDATE OF u" if lock else ""),
        scope_org,
        user_id,
        role,
    )
    return _managed(row) if row else None


async def reset_password(connection: Executor, user_id: int, password_hash: str) -> None:
    await connection.execute(
        """UPDATE users SET password_hash = $2, must_change_password = true,
                            password_changed_at = now(), updated_at = now()
           WHERE id = $1""",
        user_id,
        password_hash,
    )


async def set_locked(connection: Executor, user_id: int, locked_at: datetime | None) -> None:
    await connection.execute(
        "UPDATE users SET locked_at = $2, updated_at = now() WHERE id = $1", user_id, locked_at
    )


async def orgs_in_scope(connection: Executor, scope_org: int | None) -> list[Org]:
    """The organisations of the scope, parents before children, siblings in display order."""
    rows = await connection.fetch(
        f"""WITH RECURSIVE tree AS (
                SELECT id, name, parent_id, ARRAY[sort_order, id] AS path FROM orgs
                WHERE CASE WHEN $1::bigint IS NULL THEN parent_id IS NULL ELSE id = $1 END
                UNION ALL
                SELECT o.id, o.name, o.parent_id, t.path || ARRAY[o.sort_order, o.id]
                FROM orgs o JOIN tree t ON o.parent_id = t.id
            )
            SELECT id, name, parent_id FROM tree WHERE {owned_by("id", 1)} ORDER BY path""",
        scope_org,
    )
    return [Org(row["id"], row["name"], row["parent_id"]) for row in rows]
