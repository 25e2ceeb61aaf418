"""SQL of the accounts' administration: users and organisations within a scope.

Every query takes the scope's organisation (`scope.org_id`, None for everything) and applies
it with `owned_by`: a user outside it is not found."""

from datetime import datetime

import asyncpg

from engine.accounts.types import GrantedCourse, LearnerFilters, ManagedOrg, ManagedUser, Org
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


async def org_tree(connection: Executor, scope_org: int | None) -> list[ManagedOrg]:
    """The scope's organisations as a tree (parents first, siblings in display order), each
    with its depth below the scope's root and its number of users."""
    rows = await connection.fetch(
        """WITH RECURSIVE tree AS (
               SELECT id, 0 AS depth, ARRAY[sort_order, id] AS path FROM orgs
               WHERE CASE WHEN $1::bigint IS NULL THEN parent_id IS NULL ELSE id = $1 END
               UNION ALL
               SELECT o.id, t.depth + 1, t.path || ARRAY[o.sort_order, o.id]
               FROM orgs o JOIN tree t ON o.parent_id = t.id
           )
           SELECT o.id, o.code, o.name, o.parent_id, o.sort_order, t.depth,
                  (SELECT count(*) FROM users u WHERE u.org_id = o.id) AS users
           FROM tree t JOIN orgs o ON o.id = t.id ORDER BY t.path""",
        scope_org,
    )
    return [ManagedOrg(**dict(row)) for row in rows]


async def managed_org(
    connection: Executor, scope_org: int | None, org_id: int, *, lock: bool = False
) -> ManagedOrg | None:
    row = await connection.fetchrow(
        f"""SELECT id, code, name, parent_id, sort_order FROM orgs
            WHERE id = $2 AND {owned_by("id", 1)}"""
        + (" FOR UPDATE" if lock else ""),
        scope_org,
        org_id,
    )
    return ManagedOrg(**dict(row)) if row else None


async def sibling_named(
    connection: Executor, parent_id: int | None, name: str, except_id: int | None = None
) -> bool:
    """Whether an organisation under `parent_id` other than `except_id` is called `name`."""
    return bool(
        await connection.fetchval(
            """SELECT EXISTS (SELECT 1 FROM orgs WHERE parent_id IS NOT DISTINCT FROM $1
                              AND name = $2 AND id IS DISTINCT FROM $3)""",
            parent_id,
            name,
            except_id,
        )
    )


async def insert_org(connection: Executor, parent_id: int, code: str, name: str) -> int | None:
    """A new organisation last among its siblings; None when the code is taken."""
    org_id: int | None = await connection.fetchval(
        """INSERT INTO orgs (code, name, parent_id, sort_order)
           VALUES ($1, $2, $3, (SELECT coalesce(max(sort_order), 0) + 1 FROM orgs
                                WHERE parent_id = $3))
           ON CONFLICT (code) DO NOTHING RETURNING id""",
        code,
        name,
        parent_id,
    )
    return org_id


async def rename_org(connection: Executor, org_id: int, name: str) -> None:
    await connection.execute("UPDATE orgs SET name = $2 WHERE id = $1", org_id, name)


async def require_password_change(connection: Executor, user_id: int) -> None:
    await connection.execute("UPDATE users SET must_change_password = true WHERE id = $1", user_id)


async def teacher_courses(
    connection: Executor, scope_org: int | None, teacher_id: int
) -> list[GrantedCourse]:
    """The courses of the scope, each marked granted to the teacher or not, and the ones
    granted outside the scope (shown, not changeable here); granted first, then by title."""
    rows = await connection.fetch(
        f"""SELECT c.id, c.code, c.title, o.name AS org_name, t.user_id IS NOT NULL AS granted
            FROM courses c
            LEFT JOIN orgs o ON o.id = c.org_id
            LEFT JOIN course_teachers t ON t.course_id = c.id AND t.user_id = $2
            WHERE {owned_by("c.org_id", 1)}
            ORDER BY t.user_id IS NULL, c.title, c.id""",
        scope_org,
        teacher_id,
    )
    return [GrantedCourse(**dict(row)) for row in rows]


async def course_in_scope(connection: Executor, scope_org: int | None, course_id: int) -> bool:
    return bool(
        await connection.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM courses c WHERE c.id = $2 AND {owned_by('c.org_id', 1)})",
            scope_org,
            course_id,
        )
    )


async def grant_course(connection: Executor, teacher_id: int, course_id: int) -> bool:
    """Grant the course; False when it already was."""
    granted = await connection.fetchval(
        """INSERT INTO course_teachers (course_id, user_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING user_id""",
        course_id,
        teacher_id,
    )
    return granted is not None


async def revoke_course(connection: Executor, teacher_id: int, course_id: int) -> bool:
    """Revoke the course; False when it was not granted."""
    revoked = await connection.fetchval(
        "DELETE FROM course_teachers WHERE course_id = $1 AND user_id = $2 RETURNING user_id",
        course_id,
        teacher_id,
    )
    return revoked is not None


async def org_in_scope(connection: Executor, scope_org: int | None, org_id: int) -> bool:
    return bool(
        await connection.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM orgs WHERE id = $2 AND {owned_by('id', 1)})",
            scope_org,
            org_id,
        )
    )
