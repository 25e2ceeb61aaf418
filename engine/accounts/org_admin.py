"""The administration of organisations: the tree of a scope, a new child, a new name."""

import re
import secrets

import asyncpg

from engine.accounts import admin_store
from engine.accounts.types import ManagedOrg
from engine.admin import audit
from engine.admin.scope import Scope, require
from engine.db import Executor
from engine.errors import Conflict, InvalidInput, NotFound

ORG_MISSING = "组织机构不存在"
NAME_TAKEN = "同一上级下已有同名机构"
CODE_TAKEN = "机构编码已被使用"
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")
NAME_MAX_LENGTH = 100


async def org_tree(db: Executor, scope: Scope) -> list[ManagedOrg]:
    require(scope, "admin")
    return await admin_store.org_tree(db, scope.org_id)


async def org(db: Executor, scope: Scope, org_id: int) -> ManagedOrg:
    require(scope, "admin")
    found = await admin_store.managed_org(db, scope.org_id, org_id)
    if found is None:
        raise NotFound(ORG_MISSING)
    return found


async def create_child(
    pool: asyncpg.Pool, scope: Scope, parent_id: int, name: str, code: str = ""
) -> ManagedOrg:
    """A new organisation below `parent_id` (in the scope); its code generated if not given."""
    require(scope, "admin")
    name, code = _name(name), code.strip()
    if code and not CODE_PATTERN.fullmatch(code):
        raise InvalidInput({"code": "机构编码只能包含字母、数字、下划线和连字符，最长40位"})
    async with pool.acquire() as connection, connection.transaction():
        await _locked_org(connection, scope, parent_id)
        if await admin_store.sibling_named(connection, parent_id, name):
            raise Conflict(NAME_TAKEN, field="name")
        org_id = await admin_store.insert_org(
            connection, parent_id, code or f"org-{secrets.token_hex(4)}", name
        )
        if org_id is None:
            raise Conflict(CODE_TAKEN, field="code")
        created = await _locked_org(connection, scope, org_id)
        await audit.record(
            connection, scope, "org.create", kind="org", object_id=org_id, org_id=org_id,
            after=created,
        )  # fmt: skip
    return created


async def rename(pool: asyncpg.Pool, scope: Scope, org_id: int, name: str) -> ManagedOrg:
    require(scope, "admin")
    name = _name(name)
    async with pool.acquire() as connection, connection.transaction():
        before = await _locked_org(connection, scope, org_id)
        if await admin_store.sibling_named(connection, before.parent_id, name, org_id):
            raise Conflict(NAME_TAKEN, field="name")
        await admin_store.rename_org(connection, org_id, name)
        after = await _locked_org(connection, scope, org_id)
        await audit.record(
            connection, scope, "org.rename", kind="org", object_id=org_id, org_id=org_id,
            before=before, after=after,
        )  # fmt: skip
    return after


def _name(text: str) -> str:
    name = text.strip()
    if not name:
        raise InvalidInput({"name": "请输入机构名称"})
    if len(name) > NAME_MAX_LENGTH or not name.isprintable():
        raise InvalidInput({"name": f"机构名称最长{NAME_MAX_LENGTH}个字，且不能含控制字符"})
    return name


async def _locked_org(connection: Executor, scope: Scope, org_id: int) -> ManagedOrg:
    found = await admin_store.managed_org(connection, scope.org_id, org_id, lock=True)
    if found is None:
        raise NotFound(ORG_MISSING)
    return found
