"""管理员账号: the super administrator appoints the administrator of an organisation."""

from collections.abc import Mapping

from aiohttp import web

from engine.accounts import admin, teacher_admin
from engine.accounts.types import LearnerFilters
from engine.admin.scope import Scope
from engine.appkeys import DB
from engine.errors import Conflict, InvalidInput
from web.admin.orgs import org_choices
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute, NavLink, Section
from web.admin.sections.teachers import STAFF_FIELDS
from web.decoding import parse_id
from web.requests import today

FILTERS = ("q", "org_id")


async def administrators_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, FILTERS)
    filters = LearnerFilters(q=values["q"], org_id=parse_id(values["org_id"]))
    db = request.app[DB]
    page = await teacher_admin.search_administrators(db, scope, filters, requested_page(request))
    orgs = org_choices(await admin.scope_orgs(db, scope))
    context = {"page": page, "values": values, "orgs": orgs}
    return render_admin(request, scope, "admin/administrators.html", context)


async def new_administrator_page(request: web.Request, scope: Scope) -> web.Response:
    return await _form(request, scope, {"id_type": "id_card"}, {})


async def create_administrator(request: web.Request, scope: Scope) -> web.Response:
    form = await request.post()
    data = {name: str(form.get(name, "")) for name in STAFF_FIELDS}
    try:
        account, password = await teacher_admin.create_administrator(
            request.app[DB], scope, data, today(request)
        )
    except (InvalidInput, Conflict) as exc:
        return await _form(request, scope, data, exc.fields, status=exc.status)
    context = {"account": account, "temporary_password": password}
    return render_admin(request, scope, "admin/account_created.html", context)


async def _form(
    request: web.Request,
    scope: Scope,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    status: int = 200,
) -> web.Response:
    context = {
        "values": values,
        "errors": errors,
        "orgs": org_choices(await admin.scope_orgs(request.app[DB], scope)),
        "heading": "新建管理员账号",
        "list_url": "/admin/admin-accounts",
    }
    return render_admin(request, scope, "admin/account_new.html", context, status=status)


SECTION = Section(
    title="用户",
    order=13,
    links=(NavLink("管理员账号", "/admin/admin-accounts", "super"),),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/admin-accounts",
            handler=administrators_page,
            role="super",
            example={"q": "walk"},
        ),
        AdminRoute(
            method="GET",
            path="/admin/admin-accounts/new",
            handler=new_administrator_page,
            role="super",
        ),
        AdminRoute(
            method="POST",
            path="/admin/admin-accounts",
            handler=create_administrator,
            role="super",
            example={
                "username": "new_admin",
                "real_name": "赵管理",
                "phone": "13900002222",
                "id_type": "passport",
                "id_number": "E87654321",
                "org_id": "{org_id}",
            },
        ),
    ),
)
