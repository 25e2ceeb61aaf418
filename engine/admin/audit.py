"""The audit log: every administrative action, written in the transaction of the change it
records, so an action and its row are stored together or not at all."""

from typing import Any

import msgspec

from engine.admin import store
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.admin.types import AuditEntry, AuditFilters
from engine.db import Executor


async def record(
    connection: Executor,
    scope: Scope,
    action: str,
    *,
    kind: str,
    object_id: int | str,
    org_id: int | None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one row: `action` is `<kind>.<verb>` (`plan.create`, `card.void`), `before` and
    `after` the object's fields as msgspec can encode them (Structs, dicts, dates), None
    for what did not exist."""
    await connection.execute(
        """INSERT INTO audit_log
               (actor_id, actor_name, actor_role, org_id, action, object_kind, object_id,
                before, after)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)""",
        scope.user_id,
        scope.name,
        scope.role,
        org_id,
        action,
        kind,
        str(object_id),
        _json(before),
        _json(after),
    )


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


async def search(db: Executor, scope: Scope, filters: AuditFilters, page: int) -> Page[AuditEntry]:
    """The log, for the super administrator alone."""
    require(scope, "super")
    return await store.search(db, filters, page)


async def kinds(db: Executor, scope: Scope) -> list[str]:
    require(scope, "super")
    return await store.kinds(db)
