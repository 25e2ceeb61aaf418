"""订单管理: search the orders of the scope's learners, see one, refund it to the balance."""

from aiohttp import web

from engine.admin.scope import Scope
from engine.appkeys import DB
from engine.commerce import admin
from engine.commerce.orders import ORDER_STATUSES
from engine.commerce.types import OrderQuery
from engine.errors import Conflict, InvalidInput
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute, NavLink, Section
from web.decoding import parse_date, parse_id, path_id
from web.flash import flash_redirect

FILTERS = ("number", "learner", "status", "method", "since", "until", "plan_id")


async def orders_page(request: web.Request, scope: Scope) -> web.Response:
    db = request.app[DB]
    values = filter_values(request, FILTERS)
    plan_id = parse_id(values["plan_id"])
    if values["plan_id"] and plan_id is None:
        raise InvalidInput({"plan_id": "培训计划不正确"})
    query = OrderQuery(
        number=values["number"] or None,
        learner=values["learner"] or None,
        status=values["status"] or None,
        method=values["method"] or None,
        since=parse_date(values["since"], "since"),
        until=parse_date(values["until"], "until"),
        plan_id=plan_id,
    )
    context = {
        "page": await admin.search_orders(db, scope, query, page=requested_page(request)),
        "values": values,
        "plans": await admin.order_plans(db, scope),
        "statuses": ORDER_STATUSES,
        "methods": admin.METHODS,
    }
    return render_admin(request, scope, "admin/orders.html", context)


async def order_page(request: web.Request, scope: Scope) -> web.Response:
    detail = await admin.order_detail(request.app[DB], scope, path_id(request, "order_id"))
    context = {"detail": detail, "statuses": ORDER_STATUSES, "methods": admin.METHODS}
    return render_admin(request, scope, "admin/order.html", context)


async def refund(request: web.Request, scope: Scope) -> web.StreamResponse:
    order_id = path_id(request, "order_id")
    url = f"/admin/orders/{order_id}"
    try:
        await admin.refund_order(request.app[DB], scope, order_id)
    except Conflict as exc:
        raise flash_redirect(url, exc.message, error=True) from None
    raise flash_redirect(url, "已退款至学员的账户余额，所购课程的学时已按退款规则收回")


SECTION = Section(
    title="订单",
    order=41,
    links=(NavLink("订单管理", "/admin/orders", "admin"),),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/orders",
            handler=orders_page,
            role="admin",
            example={
                "learner": "用户",
                "status": "paid",
                "method": "balance",
                "since": "2000-01-01",
                "until": "2100-12-31",
                "page": "1",
            },
        ),
        AdminRoute(method="GET", path="/admin/orders/{order_id}", handler=order_page, role="admin"),
        AdminRoute(
            method="POST", path="/admin/orders/{order_id}/refund", handler=refund, role="admin"
        ),
    ),
)
