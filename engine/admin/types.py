"""The audit log's rows and the filters of its page."""

from datetime import date, datetime
from typing import Any

import msgspec


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    org_id: int | None
    action: str
    object_kind: str
    object_id: str
    before: Any
    after: Any


class AuditFilters(msgspec.Struct, frozen=True, kw_only=True):
    """`actor`: any part of the actor's name; `action`: an action (`plan.create`) or a kind
    (`plan`); `kind` and `object_id` exact; `since`/`until` China's days, both included."""

    actor: str = ""
    action: str = ""
    kind: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None
