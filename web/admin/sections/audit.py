"""操作日志: the audit log, filtered and paged, for the super administrator."""

from typing import Any

import msgspec
from aiohttp import web

from engine.admin import audit
from engine.admin.scope import Scope
from engine.admin.types import AuditFilters
from engine.appkeys import DB
from web.admin.audit_names import ACTIONS, KINDS, ROLES
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute, NavLink, Section
from web.decoding import parse_date

FILTERS = ("actor", "action", "kind", "object_id", "since", "until")


def readable(value: Any) -> str:
    """A before/after value as indented JSON ('' for none)."""
    if value is None:
        return ""
    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()


async def audit_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, FILTERS)
    filters = AuditFilters(
        actor=values["actor"],
        action=values["action"],
        kind=values["kind"],
        object_id=values["object_id"],
        since=parse_date(values["since"], "since"),
        until=parse_date(values["until"], "until"),
    )
    db = request.app[DB]
    page = await audit.search(db, scope, filters, requested_page(request))
    context = {
        "page": page,
        "rows": [(entry, readable(entry.before), readable(entry.after)) for entry in page.items],
        "values": values,
        "kinds": [(kind, KINDS.get(kind, kind)) for kind in await audit.kinds(db, scope)],
        "kind_names": KINDS,
        "actions": ACTIONS,
        "roles": ROLES,
    }
    return render_admin(request, scope, "admin/audit.html", context)


SECTION = Section(
    title="审计",
    order=90,
    links=(NavLink("操作日志", "/admin/audit", "super"),),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/audit",
            handler=audit_page,
            role="super",
            example={"action": "learner", "since": "2020-01-01", "until": "2100-12-31"},
        ),
    ),
)
