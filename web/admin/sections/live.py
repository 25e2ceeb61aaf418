"""运行监控: the live operations view, the whole cluster's figures every second (super
administrators only: they are every organisation's)."""

from aiohttp import web

from engine.admin.scope import Scope
from engine.appkeys import CLOCK, REDIS
from engine.live.service import cluster_view
from web.admin.render import render_admin
from web.admin.routing import AdminRoute, NavLink, Section
from web.learning import REASONS


async def live_page(request: web.Request, scope: Scope) -> web.Response:
    """The last second's figures painted here; static/js/live.js then follows them live."""
    figures = await cluster_view(request.app[REDIS], scope, request.app[CLOCK]())
    reasons = {reason: text for reason, text in REASONS.items() if reason is not None}
    context = {"figures": figures, "reasons": reasons, "own_socket": True}
    return render_admin(request, scope, "admin/live.html", context)


SECTION = Section(
    title="运行",
    order=85,
    links=(NavLink("运行监控", "/admin/live", "super"),),
    routes=(AdminRoute(method="GET", path="/admin/live", handler=live_page, role="super"),),
)
