"""SQL of the accounts domain."""

import asyncpg

from engine.accounts.types import Org, PersonalDetails, Role, User
from engine.db import Executor

DETAIL_COLUMNS = PersonalDetails.__struct_fields__

USER_SELECT = f"""
SELECT u.id, u.username, u.role, u.created_at, o.name AS org_name, u.must_change_password,
       {", ".join(f"u.{column}" for column in DETAIL_COLUMNS)}
FROM users u JOIN orgs o ON o.id = u.org_id
"""


def _user(row: asyncpg.Record) -> User:
    return User(**dict(row))


async def user_by_id(connection: Executor, user_id: int) -> User | None:
    row = await connection.fetchrow(USER_SELECT + "WHERE u.id = $1", user_id)
    return _user(row) if row else None


async def active_user(connection: Executor, user_id: int) -> User | None:
    """The user, unless its account is locked."""
    row = await connection.fetchrow(
        USER_SELECT + "WHERE u.id = $1 AND u.locked_at IS NULL", user_id
    )
    return _user(row) if row else None


async def credentials(connection: Executor, username: str) -> tuple[int, str, bool] | None:
    """(user id, password hash, locked) for a username, matched ignoring case."""
    row = await connection.fetchrow(
        "SELECT id, password_hash, locked_at IS NOT NULL AS locked FROM users"
        " WHERE lower(username) = lower($1)",
        username,
    )
    return (row["id"], row["password_hash"], row["locked"]) if row else None


async def password_hash(connection: Executor, user_id: int) -> str:
    hashed: str = await connection.fetchval(
        "SELECT password_hash FROM users WHERE id = $1", user_id
    )
    return hashed


async def insert_user(
    connection: Executor,
    *,
    username: str,
    password_hash: str,
    details: PersonalDetails,
    role: str = "learner",
) -> int:
    """Insert a user; asyncpg.UniqueViolationError names the index that refused it."""
    values = [getattr(details, column) for column in DETAIL_COLUMNS]
    placeholders = ", ".join(f"${index}" for index in range(4, 4 + len(values)))
    user_id: int = await connection.fetchval(
        f"""INSERT INTO users (username, password_hash, role, {", ".join(DETAIL_COLUMNS)})
            VALUES ($1, $2, $3, {placeholders}) RETURNING id""",
        username,
        password_hash,
        role,
        *values,
    )
    return user_id


async def update_details(connection: Executor, user_id: int, details: PersonalDetails) -> None:
    """Update the editable F2 fields; the identity document stays as registered."""
    editable = [column for column in DETAIL_COLUMNS if column not in ("id_type", "id_number")]
    assignments = ", ".join(f"{column} = ${index}" for index, column in enumerate(editable, 2))
    await connection.execute(
        f"UPDATE users SET {assignments}, updated_at = now() WHERE id = $1",
        user_id,
        *(getattr(details, column) for column in editable),
    )


async def set_password_hash(connection: Executor, user_id: int, new_hash: str) -> None:
    await connection.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now(),"
        " must_change_password = false WHERE id = $1",
        user_id,
        new_hash,
    )


async def org_exists(connection: Executor, org_id: int) -> bool:
    return bool(
        await connection.fetchval("SELECT EXISTS (SELECT 1 FROM orgs WHERE id = $1)", org_id)
    )


async def insert_org(
    connection: Executor, code: str, name: str, parent_code: str | None, sort_order: int
) -> bool:
    """Insert an organisation under the one of `parent_code`, unless its code exists."""
    inserted = await connection.fetchval(
        """INSERT INTO orgs (code, name, parent_id, sort_order)
           VALUES ($1, $2, (SELECT id FROM orgs WHERE code = $3), $4)
           ON CONFLICT (code) DO NOTHING RETURNING id""",
        code,
        name,
        parent_code,
        sort_order,
    )
    return inserted is not None


async def org_id(connection: Executor, code: str) -> int | None:
    found: int | None = await connection.fetchval("SELECT id FROM orgs WHERE code = $1", code)
    return found


async def orgs(connection: Executor) -> list[Org]:
    """Every organisation, parents before children, siblings in display order."""
    rows = await connection.fetch(
        """WITH RECURSIVE tree AS (
               SELECT id, name, parent_id, ARRAY[sort_order, id] AS path FROM orgs
               WHERE parent_id IS NULL
               UNION ALL
               SELECT o.id, o.name, o.parent_id, t.path || ARRAY[o.sort_order, o.id]
               FROM orgs o JOIN tree t ON o.parent_id = t.id
           )
           SELECT id, name, parent_id FROM tree ORDER BY path"""
    )
    return [Org(row["id"], row["name"], row["parent_id"]) for row in rows]


async def course_standing(connection: Executor, user_id: int, course_id: int) -> tuple[str, Role]:
    """(real name, role in the course): `admin` (the super administrator, or an
    administrator of the organisation subtree owning the course), `teacher` (granted for
    this course) or `learner`."""
    row = await connection.fetchrow(
        """SELECT u.real_name,
                  CASE WHEN u.role = 'super' THEN 'admin'
                       WHEN u.role = 'admin'
                            AND c.org_id IN (SELECT org_subtree(u.org_id)) THEN 'admin'
                       WHEN t.user_id IS NOT NULL THEN 'teacher'
                       ELSE 'learner' END
           FROM users u
           LEFT JOIN courses c ON c.id = $2
           LEFT JOIN course_teachers t ON t.user_id = u.id AND t.course_id = $2
           WHERE u.id = $1""",
        user_id,
        course_id,
    )
    if row is None:
        return "", "learner"
    role: Role = row[1]
    return row[0], role


async def grant_teacher(connection: Executor, username: str, course_id: int) -> int | None:
    """Make the user a teacher of the course (again: no change); the user's id, or None
    when no such user or course."""
    row = await connection.fetchrow(
        """INSERT INTO course_teachers (course_id, user_id)
           SELECT c.id, u.id FROM courses c, users u
           WHERE c.id = $2 AND lower(u.username) = lower($1)
           ON CONFLICT (course_id, user_id) DO UPDATE SET course_id = excluded.course_id
           RETURNING user_id""",
        username,
        course_id,
    )
    return row[0] if row else None
