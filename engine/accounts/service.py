"""Use cases of accounts: register, log in and out, edit the profile, change the password."""

from collections.abc import Mapping
from datetime import date

import asyncpg
import structlog

from engine.accounts import store
from engine.accounts.logins import LoginSessions
from engine.accounts.passwords import dummy_hash, hash_password, verify_password
from engine.accounts.throttle import LoginThrottle, PasswordThrottle, RegistrationThrottle
from engine.accounts.types import Org, Standing, User
from engine.accounts.validation import (
    parse_personal_details,
    parse_registration,
    password_error,
    username_error,
)
from engine.db import Executor
from engine.errors import Conflict, InvalidInput, NotAuthenticated, NotFound

log = structlog.get_logger(__name__)

Fields = Mapping[str, object]

USERNAME_TAKEN = "该用户名已被注册"
DOCUMENT_TAKEN = "该证件号已注册，请直接登录或找回账号"
ORG_MISSING = "所选组织机构不存在"
ACCOUNT_LOCKED = "该账号已被锁定，请联系管理员"


async def register(
    pool: asyncpg.Pool, throttle: RegistrationThrottle, data: Fields, today: date, address: str
) -> User:
    """Validate F1 + F2 and create a learner; Conflict when the username or document is taken.

    Each valid registration counts against the address: DOCUMENT_TAKEN says whether an ID
    number is registered (honest learners need to hear it), so asking is rationed.
    """
    registration = parse_registration(data, today)
    if not await store.org_exists(pool, registration.details.org_id):
        raise InvalidInput({"org_id": ORG_MISSING})
    await throttle.reserve(address)
    password_hash = await hash_password(registration.password)
    try:
        user_id = await store.insert_user(
            pool,
            username=registration.username,
            password_hash=password_hash,
            details=registration.details,
        )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "users_document_key":
            raise Conflict(DOCUMENT_TAKEN, field="id_number") from None
        raise Conflict(USERNAME_TAKEN, field="username") from None
    log.info("learner registered", user_id=user_id)
    return await get_user(pool, user_id)


async def log_in(
    pool: asyncpg.Pool,
    sessions: LoginSessions,
    throttle: LoginThrottle,
    *,
    username: str,
    password: str,
    address: str,
    previous_token: str | None = None,
) -> tuple[User, str]:
    """Check the password and start a new session; return the user and the session's token."""
    if not username or not password:
        raise InvalidInput(
            {
                field: message
                for field, message, value in (
                    ("username", "请输入用户名", username),
                    ("password", "请输入密码", password),
                )
                if not value
            }
        )
    # Reserved before the (slow) verification, so that parallel guesses cannot all pass.
    await throttle.reserve(username, address)
    # A name no account can have is never looked up (PostgreSQL refuses NUL, for one), nor logged.
    possible = username_error(username) is None
    found = await store.credentials(pool, username) if possible else None
    valid = await verify_password(found[1] if found else dummy_hash(), password)
    if found is None or not valid:
        log.info("login failed", username=username if possible else None, address=address)
        raise NotAuthenticated("用户名或密码错误", code="bad_credentials")
    # Told only to whoever knows the password: a guesser learns nothing of the lock.
    if found[2]:
        log.info("login of a locked account", user_id=found[0])
        raise NotAuthenticated(ACCOUNT_LOCKED, code="locked")
    await throttle.record_success(username, address)
    if previous_token:
        await sessions.end(previous_token)
    token = await sessions.create(found[0])
    log.info("logged in", user_id=found[0])
    return await get_user(pool, found[0]), token


async def log_out(sessions: LoginSessions, token: str) -> None:
    await sessions.end(token)


async def authenticate(pool: asyncpg.Pool, sessions: LoginSessions, token: str) -> User | None:
    """The user a session token belongs to, or None when it is not a live session (or the
    account is locked: a lock ends its sessions, and this holds should one survive)."""
    user_id = await sessions.resolve(token)
    if user_id is None:
        return None
    return await store.active_user(pool, user_id)


async def get_user(pool: asyncpg.Pool, user_id: int) -> User:
    user = await store.user_by_id(pool, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


async def update_profile(pool: asyncpg.Pool, user: User, data: Fields, today: date) -> User:
    """Apply F4: every F2 field but the identity document, which stays as registered."""
    details = parse_personal_details(
        {**data, "id_type": user.id_type, "id_number": user.id_number}, today
    )
    if details.org_id != user.org_id and not await store.org_exists(pool, details.org_id):
        raise InvalidInput({"org_id": ORG_MISSING})
    await store.update_details(pool, user.id, details)
    return await get_user(pool, user.id)


async def change_password(
    pool: asyncpg.Pool,
    sessions: LoginSessions,
    throttle: PasswordThrottle,
    user: User,
    *,
    old_password: str,
    new_password: str,
    confirm_password: str,
    current_token: str | None,
) -> None:
    """F5: needs the old password; ends every other session of the user."""
    errors: dict[str, str] = {}
    if not old_password:
        errors["old_password"] = "请输入旧密码"
    problem = password_error(new_password, user.username) if new_password else "请输入新密码"
    if problem:
        errors["new_password"] = problem
    elif new_password == old_password:
        errors["new_password"] = "新密码不能与旧密码相同"
    if new_password != confirm_password:
        errors["confirm_password"] = "两次输入的密码不一致"
    if errors:
        raise InvalidInput(errors)
    await throttle.reserve(user.id)
    if not await verify_password(await store.password_hash(pool, user.id), old_password):
        raise InvalidInput({"old_password": "旧密码不正确"})
    await throttle.record_success(user.id)
    await store.set_password_hash(pool, user.id, await hash_password(new_password))
    ended = await sessions.end_others(user.id, current_token)
    log.info("password changed", user_id=user.id, other_sessions_ended=ended)


async def list_orgs(pool: asyncpg.Pool) -> list[Org]:
    return await store.orgs(pool)


async def course_standing(db: Executor, user_id: int, course_id: int) -> Standing:
    """The user's name and role in a course: an administrator's everywhere, a teacher's
    where granted, else a learner's (whether the course was selected is progress's rule)."""
    name, role = await store.course_standing(db, user_id, course_id)
    return Standing(name=name, role=role)


async def grant_teacher(db: Executor, username: str, course_id: int) -> int:
    """Make a user the teacher of a course (the `jixu teachers grant` command); the user's id."""
    user_id = await store.grant_teacher(db, username, course_id)
    if user_id is None:
        raise NotFound(f"用户 {username} 或课程 {course_id} 不存在")
    log.info("teacher granted", user_id=user_id, course_id=course_id)
    return user_id


async def user_by_username(db: Executor, username: str) -> User:
    """The user a `jixu` command names (the username matched ignoring case)."""
    found = await store.credentials(db, username)
    user = await store.user_by_id(db, found[0]) if found else None
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return user
