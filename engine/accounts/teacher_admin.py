"""The administration of staff accounts: teachers (created in an organisation of the scope,
granted and revoked the courses of the scope they teach) and administrators (appointed by
the super administrator)."""

from collections.abc import Mapping
from datetime import date
from typing import Literal

import asyncpg

from engine.accounts import admin_store, store
from engine.accounts.admin import org_in_scope, temporary_password
from engine.accounts.passwords import hash_password
from engine.accounts.types import GrantedCourse, LearnerFilters, ManagedUser
from engine.accounts.validation import parse_personal_details, username_error
from engine.admin import audit
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.db import Executor
from engine.errors import Conflict, InvalidInput, NotFound

TEACHER_MISSING = "教师账号不存在"
COURSE_MISSING = "课程不存在"
# An organisation outside the scope is not found, as any object outside it.
ORG_OUTSIDE = "所选组织机构不存在"


async def search_teachers(
    db: Executor, scope: Scope, filters: LearnerFilters, page: int
) -> Page[ManagedUser]:
    require(scope, "admin")
    return await admin_store.search_users(db, scope.org_id, "teacher", filters, page)


async def teacher(db: Executor, scope: Scope, user_id: int) -> ManagedUser:
    require(scope, "admin")
    found = await admin_store.managed_user(db, scope.org_id, "teacher", user_id)
    if found is None:
        raise NotFound(TEACHER_MISSING)
    return found


async def courses(db: Executor, scope: Scope, user_id: int) -> list[GrantedCourse]:
    """The scope's courses, those the teacher teaches marked."""
    await teacher(db, scope, user_id)
    return await admin_store.teacher_courses(db, scope.org_id, user_id)


async def create_teacher(
    pool: asyncpg.Pool, scope: Scope, data: Mapping[str, object], today: date
) -> tuple[ManagedUser, str]:
    """A teacher account in an organisation of the scope, with a temporary password
    (returned, shown once) to be changed at its first login."""
    require(scope, "admin")
    return await create_account(pool, scope, data, today, role="teacher")


async def create_administrator(
    pool: asyncpg.Pool, scope: Scope, data: Mapping[str, object], today: date
) -> tuple[ManagedUser, str]:
    """An administrator of an organisation's subtree: the super administrator's to appoint."""
    require(scope, "super")
    return await create_account(pool, scope, data, today, role="admin")


async def search_administrators(
    db: Executor, scope: Scope, filters: LearnerFilters, page: int
) -> Page[ManagedUser]:
    require(scope, "super")
    return await admin_store.search_users(db, scope.org_id, "admin", filters, page)


async def create_account(
    pool: asyncpg.Pool,
    scope: Scope,
    data: Mapping[str, object],
    today: date,
    *,
    role: Literal["teacher", "admin"],
) -> tuple[ManagedUser, str]:
    username = str(data.get("username") or "").strip()
    problem = username_error(username) if username else "请输入用户名"
    details = parse_personal_details(data, today)
    if problem:
        raise InvalidInput({"username": problem})
    async with pool.acquire() as connection, connection.transaction():
        if not await org_in_scope(connection, scope, details.org_id):
            raise NotFound(ORG_OUTSIDE)
        password = temporary_password(username)
        try:
            async with connection.transaction():
                user_id = await store.insert_user(
                    connection,
                    username=username,
                    password_hash=await hash_password(password),
                    details=details,
                    role=role,
                )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "users_document_key":
                raise Conflict("该证件号已注册", field="id_number") from None
            raise Conflict("该用户名已被注册", field="username") from None
        await admin_store.require_password_change(connection, user_id)
        created = await admin_store.managed_user(connection, scope.org_id, role, user_id)
        assert created is not None  # inserted just now, in an organisation of the scope
        kind = "teacher" if role == "teacher" else "administrator"
        await audit.record(
            connection, scope, f"{kind}.create", kind=kind, object_id=user_id,
            org_id=created.org_id, after=created,
        )  # fmt: skip
    return created, password


async def grant(pool: asyncpg.Pool, scope: Scope, user_id: int, course_id: int) -> None:
    """The teacher teaches the course (of the scope) from now on."""
    await _change_grant(pool, scope, user_id, course_id, grant=True)


async def revoke(pool: asyncpg.Pool, scope: Scope, user_id: int, course_id: int) -> None:
    await _change_grant(pool, scope, user_id, course_id, grant=False)


async def _change_grant(
    pool: asyncpg.Pool, scope: Scope, user_id: int, course_id: int, *, grant: bool
) -> None:
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        found = await _teacher(connection, scope, user_id)
        if not await admin_store.course_in_scope(connection, scope.org_id, course_id):
            raise NotFound(COURSE_MISSING)
        if grant:
            if not await admin_store.grant_course(connection, user_id, course_id):
                raise Conflict("该教师已负责此课程")
        elif not await admin_store.revoke_course(connection, user_id, course_id):
            raise Conflict("该教师未负责此课程")
        await audit.record(
            connection, scope, "teacher.grant" if grant else "teacher.revoke", kind="teacher",
            object_id=user_id, org_id=found.org_id,
            before={"course_id": course_id, "granted": not grant},
            after={"course_id": course_id, "granted": grant},
        )  # fmt: skip


async def _teacher(connection: Executor, scope: Scope, user_id: int) -> ManagedUser:
    found = await admin_store.managed_user(connection, scope.org_id, "teacher", user_id, lock=True)
    if found is None:
        raise NotFound(TEACHER_MISSING)
    return found
