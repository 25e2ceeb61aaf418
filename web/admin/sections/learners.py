"""学员管理: search learners, see one, reset its password, lock and unlock it."""

from aiohttp import web

from engine.accounts import admin
from engine.accounts.types import LearnerFilters
from engine.admin.scope import Scope
from engine.appkeys import DB, LOGIN_SESSIONS
from web.admin.orgs import org_choices
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute, NavLink, Section
from web.decoding import parse_id, path_id
from web.flash import flash_redirect
from web.requests import now

FILTERS = ("q", "org_id", "locked")
LOCK_STATES = (("0", "正常"), ("1", "已锁定"))


async def learners_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, FILTERS)
    filters = LearnerFilters(
        q=values["q"],
        org_id=parse_id(values["org_id"]),
        locked={"1": True, "0": False}.get(values["locked"]),
    )
    db = request.app[DB]
    page = await admin.search_learners(db, scope, filters, requested_page(request))
    context = {
        "page": page,
        "values": values,
        "orgs": org_choices(await admin.scope_orgs(db, scope)),
        "lock_states": LOCK_STATES,
    }
    return render_admin(request, scope, "admin/learners.html", context)


async def learner_page(request: web.Request, scope: Scope) -> web.Response:
    learner = await admin.learner(request.app[DB], scope, path_id(request, "learner_id"))
    return render_admin(request, scope, "admin/learner.html", {"learner": learner})


async def reset_password(request: web.Request, scope: Scope) -> web.Response:
    """The temporary password is on this answer alone: never stored in a cookie or a log."""
    learner, password = await admin.reset_password(
        request.app[DB], request.app[LOGIN_SESSIONS], scope, path_id(request, "learner_id")
    )
    context = {"learner": learner, "temporary_password": password}
    return render_admin(request, scope, "admin/learner.html", context)


async def lock(request: web.Request, scope: Scope) -> web.StreamResponse:
    learner_id = path_id(request, "learner_id")
    await admin.lock(request.app[DB], request.app[LOGIN_SESSIONS], scope, learner_id, now(request))
    raise flash_redirect(f"/admin/learners/{learner_id}", "账号已锁定，其登录已全部退出")


async def unlock(request: web.Request, scope: Scope) -> web.StreamResponse:
    learner_id = path_id(request, "locked_learner_id")
    await admin.unlock(request.app[DB], scope, learner_id)
    raise flash_redirect(f"/admin/learners/{learner_id}", "账号已解锁")


SECTION = Section(
    title="用户",
    order=10,
    links=(NavLink("学员管理", "/admin/learners", "admin"),),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/learners",
            handler=learners_page,
            role="admin",
            example={"q": "用户", "locked": "0", "page": "1"},
        ),
        AdminRoute(
            method="GET", path="/admin/learners/{learner_id}", handler=learner_page, role="admin"
        ),
        AdminRoute(
            method="POST",
            path="/admin/learners/{learner_id}/password",
            handler=reset_password,
            role="admin",
        ),
        AdminRoute(
            method="POST", path="/admin/learners/{learner_id}/lock", handler=lock, role="admin"
        ),
        AdminRoute(
            method="POST",
            path="/admin/learners/{locked_learner_id}/unlock",
            handler=unlock,
            role="admin",
        ),
    ),
)
