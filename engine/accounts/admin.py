"""The administration of learners (search, details) and of accounts, a learner's or a
teacher's: password reset, lock and unlock.

Each use case takes the acting scope first, checks its role, finds the learner within the
scope in SQL (outside it: NotFound) and writes its audit row in the change's transaction.
"""

import secrets
import string
from datetime import datetime
from typing import Literal

import asyncpg
import structlog

from engine.accounts import admin_store
from engine.accounts.logins import LoginSessions
from engine.accounts.passwords import hash_password
from engine.accounts.types import LearnerFilters, ManagedUser, Org
from engine.accounts.validation import password_error
from engine.admin import audit
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.db import Executor
from engine.errors import Conflict, NotFound

log = structlog.get_logger(__name__)

LEARNER_MISSING = "学员不存在"
# The accounts an administrator resets and locks: its role is the account's kind.
AccountKind = Literal["learner", "teacher"]
# Letters and digits a person reads out without confusion (no 0/O, 1/l/I).
TEMPORARY_ALPHABET = "".join(
    char for char in string.ascii_letters + string.digits if char not in "0Oo1lI"
)
TEMPORARY_LENGTH = 10


async def search_learners(
    db: Executor, scope: Scope, filters: LearnerFilters, page: int
) -> Page[ManagedUser]:
    require(scope, "admin")
    return await admin_store.search_users(db, scope.org_id, "learner", filters, page)


async def learner(db: Executor, scope: Scope, user_id: int) -> ManagedUser:
    require(scope, "admin")
    found = await admin_store.managed_user(db, scope.org_id, "learner", user_id)
    if found is None:
        raise NotFound(LEARNER_MISSING)
    return found


async def scope_orgs(db: Executor, scope: Scope) -> list[Org]:
    """The organisations the scope covers (the filters' and forms' choices)."""
    return await admin_store.orgs_in_scope(db, scope.org_id)


async def org_in_scope(db: Executor, scope: Scope, org_id: int) -> bool:
    """Whether the organisation exists within the scope (a form's choice of organisation)."""
    return await admin_store.org_in_scope(db, scope.org_id, org_id)


def temporary_password(username: str) -> str:
    """A random password the learner types once, at the login that makes them change it."""
    while True:
        candidate = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))
        if password_error(candidate, username) is None:
            return candidate


async def reset_password(
    pool: asyncpg.Pool,
    sessions: LoginSessions,
    scope: Scope,
    user_id: int,
    kind: AccountKind = "learner",
) -> tuple[ManagedUser, str]:
    """Give the account (a learner's, or a teacher's) a temporary password (returned, to be
    shown once) that must be changed at the next login; its logins end."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        before = await _locked_account(connection, scope, user_id, kind)
        password = temporary_password(before.username)
        await admin_store.reset_password(connection, user_id, await hash_password(password))
        after = await _locked_account(connection, scope, user_id, kind)
        await _audit(connection, scope, kind, "reset_password", before, after)
    ended = await sessions.end_others(user_id, None)
    log.info("password reset", user_id=user_id, by=scope.user_id, sessions_ended=ended)
    return after, password


async def lock(
    pool: asyncpg.Pool,
    sessions: LoginSessions,
    scope: Scope,
    user_id: int,
    now: datetime,
    kind: AccountKind = "learner",
) -> ManagedUser:
    """Lock the account: no login, and its logins and sockets end now."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        before = await _locked_account(connection, scope, user_id, kind)
        if before.locked_at is not None:
            raise Conflict("该账号已锁定")
        await admin_store.set_locked(connection, user_id, now)
        after = await _locked_account(connection, scope, user_id, kind)
        await _audit(connection, scope, kind, "lock", before, after)
    ended = await sessions.end_others(user_id, None)
    log.info("account locked", user_id=user_id, by=scope.user_id, sessions_ended=ended)
    return after


async def unlock(
    pool: asyncpg.Pool, scope: Scope, user_id: int, kind: AccountKind = "learner"
) -> ManagedUser:
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        before = await _locked_account(connection, scope, user_id, kind)
        if before.locked_at is None:
            raise Conflict("该账号未锁定")
        await admin_store.set_locked(connection, user_id, None)
        after = await _locked_account(connection, scope, user_id, kind)
        await _audit(connection, scope, kind, "unlock", before, after)
    log.info("account unlocked", user_id=user_id, by=scope.user_id)
    return after


async def _locked_account(
    connection: Executor, scope: Scope, user_id: int, kind: AccountKind
) -> ManagedUser:
    found = await admin_store.managed_user(connection, scope.org_id, kind, user_id, lock=True)
    if found is None:
        raise NotFound(LEARNER_MISSING if kind == "learner" else "教师账号不存在")
    return found


async def _audit(
    connection: Executor,
    scope: Scope,
    kind: AccountKind,
    verb: str,
    before: ManagedUser,
    after: ManagedUser,
) -> None:
    await audit.record(
        connection,
        scope,
        f"{kind}.{verb}",
        kind=kind,
        object_id=after.id,
        org_id=after.org_id,
        before=before,
        after=after,
    )
