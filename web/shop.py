"""Page handlers of buying: the 购物车, checkout, 我的订单, and the course preview."""

from aiohttp import web

from engine.appkeys import DB
from engine.commerce import cart, orders, payments
from engine.errors import DomainError, InvalidInput
from web.bodies import CartItemBody
from web.decoding import parse_date, path_id, read_form
from web.flash import flash_redirect
from web.pages import page_user
from web.render import render_page
from web.requests import now


async def cart_page(request: web.Request) -> web.Response:
    user = page_user(request)
    return render_page(
        request,
        "cart.html",
        {"active": "courses", "cart": await cart.get_cart(request.app[DB], user.id)},
    )


async def add_to_cart(request: web.Request) -> web.StreamResponse:
    """选课 (after its confirmation dialog): into the cart, back to the plan's electives."""
    user = page_user(request)
    item = await read_form(request, CartItemBody)
    back = f"/plans/{item.plan_id}?tab=all"
    try:
        await cart.add(request.app[DB], user.id, item.plan_id, item.course_id, now(request))
    except DomainError as exc:
        raise flash_redirect(back, exc.message, error=True) from None
    raise flash_redirect(back, "已加入购物车")


async def remove_from_cart(request: web.Request) -> web.StreamResponse:
    user = page_user(request)
    try:
        item = await read_form(request, CartItemBody)
        await cart.remove(request.app[DB], user.id, item.plan_id, item.course_id)
    except DomainError as exc:
        raise flash_redirect("/cart", exc.message, error=True) from None
    raise flash_redirect("/cart", "已从购物车删除")


async def checkout(request: web.Request) -> web.StreamResponse:
    """去结算: one unpaid order, then the choice of payment method."""
    user = page_user(request)
    try:
        order = await cart.checkout(request.app[DB], user.id, now(request))
    except DomainError as exc:
        raise flash_redirect("/cart", exc.message, error=True) from None
    raise web.HTTPFound(f"/orders/{order.id}/pay")


async def orders_page(request: web.Request) -> web.Response:
    """我的订单 (F26), filtered by order time, status and course name."""
    user = page_user(request)
    query = request.query
    values = {key: query.get(key, "") for key in ("status", "q", "from", "to")}
    errors: dict[str, str] = {}
    found: list[orders.Order] = []
    try:
        found = await orders.list_orders(
            request.app[DB],
            user.id,
            status=values["status"] or None,
            course=values["q"] or None,
            since=parse_date(values["from"], "from"),
            until=parse_date(values["to"], "to"),
        )
    except InvalidInput as exc:
        errors = exc.fields
    context = {
        "active": "orders",
        "orders": found,
        "values": values,
        "errors": errors,
        "statuses": orders.ORDER_STATUSES,
    }
    return render_page(request, "orders.html", context, status=400 if errors else 200)


async def order_page(request: web.Request) -> web.Response:
    user = page_user(request)
    order = await orders.get_order(request.app[DB], user.id, path_id(request, "order_id"))
    context = {
        "active": "orders",
        "order": order,
        "statuses": orders.ORDER_STATUSES,
        "methods": payments.METHODS,
        "banks": payments.BANKS,
    }
    return render_page(request, "order.html", context)


async def delete_order(request: web.Request) -> web.StreamResponse:
    user = page_user(request)
    order_id = path_id(request, "order_id")
    try:
        await orders.cancel(request.app[DB], user.id, order_id)
    except DomainError as exc:
        raise flash_redirect(f"/orders/{order_id}", exc.message, error=True) from None
    raise flash_redirect("/orders", "订单已删除")
