"""管理首页: the sections the user may open."""

from aiohttp import web

from engine.admin.scope import Scope
from web.admin.render import render_admin
from web.admin.routing import AdminRoute, NavLink, Section

ROLE_NAMES = {"teacher": "教师", "admin": "管理员", "super": "超级管理员"}


async def home_page(request: web.Request, scope: Scope) -> web.Response:
    return render_admin(request, scope, "admin/home.html", {"role_names": ROLE_NAMES})


SECTION = Section(
    title="概览",
    order=0,
    links=(NavLink("管理首页", "/admin", "teacher"),),
    routes=(AdminRoute(method="GET", path="/admin", handler=home_page, role="teacher"),),
)
