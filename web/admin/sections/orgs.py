"""组织机构: the tree of the scope, a new child organisation, a new name."""

from collections.abc import Mapping

import msgspec
from aiohttp import web

from engine.accounts import org_admin
from engine.admin.scope import Scope
from engine.appkeys import DB
from engine.errors import Conflict, InvalidInput
from web.admin.render import render_admin
from web.admin.routing import AdminRoute, NavLink, Section
from web.decoding import path_id, read_form
from web.flash import flash_redirect


class NewOrg(msgspec.Struct, frozen=True):
    name: str
    code: str = ""


class OrgName(msgspec.Struct, frozen=True):
    name: str


async def orgs_page(request: web.Request, scope: Scope) -> web.Response:
    tree = await org_admin.org_tree(request.app[DB], scope)
    return render_admin(request, scope, "admin/orgs.html", {"tree": tree})


async def org_page(request: web.Request, scope: Scope) -> web.Response:
    return await _org(request, scope)


async def create_child(request: web.Request, scope: Scope) -> web.StreamResponse:
    parent_id = path_id(request, "org_id")
    try:
        form = await read_form(request, NewOrg)
        created = await org_admin.create_child(
            request.app[DB], scope, parent_id, form.name, form.code
        )
    except (InvalidInput, Conflict) as exc:
        return await _org(request, scope, "child", exc.fields, status=exc.status)
    raise flash_redirect(f"/admin/orgs/{created.id}", f"已新建下级机构 {created.name}")


async def rename(request: web.Request, scope: Scope) -> web.StreamResponse:
    org_id = path_id(request, "org_id")
    try:
        form = await read_form(request, OrgName)
        await org_admin.rename(request.app[DB], scope, org_id, form.name)
    except (InvalidInput, Conflict) as exc:
        return await _org(request, scope, "rename", exc.fields, status=exc.status)
    raise flash_redirect(f"/admin/orgs/{org_id}", "机构名称已修改")


async def _org(
    request: web.Request,
    scope: Scope,
    posted: str | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """The organisation's page; the form `posted` ("rename", "child") shown again as sent,
    with its errors."""
    db = request.app[DB]
    org = await org_admin.org(db, scope, path_id(request, "org_id"))
    tree = await org_admin.org_tree(db, scope)
    sent = {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
    context = {
        "org": org,
        "children": [child for child in tree if child.parent_id == org.id],
        "rename_values": sent if posted == "rename" else {"name": org.name},
        "rename_errors": errors if posted == "rename" else {},
        "child_values": sent if posted == "child" else {},
        "child_errors": errors if posted == "child" else {},
    }
    return render_admin(request, scope, "admin/org.html", context, status=status)


SECTION = Section(
    title="用户",
    order=11,
    links=(NavLink("组织机构", "/admin/orgs", "admin"),),
    routes=(
        AdminRoute(method="GET", path="/admin/orgs", handler=orgs_page, role="admin"),
        AdminRoute(method="GET", path="/admin/orgs/{org_id}", handler=org_page, role="admin"),
        AdminRoute(
            method="POST",
            path="/admin/orgs/{org_id}/children",
            handler=create_child,
            role="admin",
            example={"name": "新建下级机构"},
        ),
        AdminRoute(
            method="POST",
            path="/admin/orgs/{org_id}/rename",
            handler=rename,
            role="admin",
            example={"name": "改名后的机构"},
        ),
    ),
)
