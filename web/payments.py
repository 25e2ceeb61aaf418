"""Payment pages (F11–F14): 支付方式选择, the gateway's return, 支付成功."""

from typing import Any

import structlog
from aiohttp import web

from engine.appkeys import DB, GATEWAY
from engine.commerce import balance, orders, payments
from engine.commerce.money import plain_yuan
from engine.commerce.types import Order
from engine.errors import DomainError, NotFound
from web.bodies import PaymentChoice
from web.decoding import path_id, read_form, signed_params
from web.pages import echo, page_user
from web.render import render_page
from web.requests import now, site_url

log = structlog.get_logger(__name__)

# 支付处理中 reloads itself this often (seconds) until the notification has arrived.
PENDING_REFRESH_S = 3


async def start_payment(
    request: web.Request, learner_id: int, order_id: int, method: str, bank: str | None
) -> payments.PaymentStart:
    address = site_url(request)
    if address is None and method != "balance":
        log.warning("online payment off: JIXU_PUBLIC_URL is not set")
    return await payments.start(
        request.app[DB],
        learner_id,
        order_id,
        method,
        bank,
        # Without a trusted address of ours, no gateway: the learner hears it is unavailable.
        gateway=request.app[GATEWAY] if address is not None else None,
        base_url=address or "",
        now=now(request),
    )


async def receive_notification(request: web.Request) -> bool:
    """Whether the gateway's notification was accepted (a verified repeat counts as accepted)."""
    configured = request.app[GATEWAY]
    params = await signed_params(request)
    if configured is None or params is None:
        # Off, or a repeated or non-text field: nothing a gateway sends.
        log.warning(
            "payment notification refused", reason="malformed", gateway=configured is not None
        )
        return False
    return await configured.handle_notify(request.app[DB], request.match_info["provider"], params)


async def pay_page(request: web.Request) -> web.Response:
    user = page_user(request)
    order = await orders.get_order(request.app[DB], user.id, path_id(request, "order_id"))
    if order.status == "paid":
        raise web.HTTPFound(f"/orders/{order.id}/paid")
    return await _pay_form(request, user.id, order, {"method": "alipay"})


async def pay(request: web.Request) -> web.Response:
    """确认支付 / 前往支付: balance pays at once; the gateways take the learner to their page."""
    user = page_user(request)
    order_id = path_id(request, "order_id")
    choice = await read_form(request, PaymentChoice)
    try:
        started = await start_payment(request, user.id, order_id, choice.method, choice.bank)
    except NotFound:
        raise
    except DomainError as exc:
        order = await orders.get_order(request.app[DB], user.id, order_id)
        errors = getattr(exc, "fields", {})
        values = await echo(request)
        return await _pay_form(request, user.id, order, values, exc.message, errors, exc.status)
    if started.redirect is not None:
        raise web.HTTPFound(started.redirect)
    raise web.HTTPFound(f"/orders/{order_id}/paid")


async def payment_return(request: web.Request) -> web.Response:
    """The gateway sends the browser back here; only the notification changes the order."""
    user = page_user(request)
    configured = request.app[GATEWAY]
    if configured is None:
        raise NotFound("页面不存在")
    params = dict(request.query)
    order_id = await configured.verify_return(request.app[DB], params)
    order = await orders.get_order(request.app[DB], user.id, order_id)
    # A redirect, so that reloading the result page never repeats the return.
    raise web.HTTPFound(f"/orders/{order.id}/paid")


async def paid_page(request: web.Request) -> web.Response:
    """支付成功 (or 支付处理中 while the gateway's notification is on its way)."""
    user = page_user(request)
    order = await orders.get_order(request.app[DB], user.id, path_id(request, "order_id"))
    if order.status not in {"paid", "unpaid"}:
        raise web.HTTPFound(f"/orders/{order.id}")
    context = {
        "active": "orders",
        "order": order,
        "paid": order.status == "paid",
        "amount": plain_yuan(order.amount_fen),
        "method": payments.METHODS.get(order.method or "", ""),
        "bank": payments.BANKS.get(order.bank or "", ""),
        "study_url": f"/plans/{order.items[0].plan_id}" if order.items else "/plans",
        "refresh_s": PENDING_REFRESH_S,
    }
    return render_page(request, "pay_success.html", context)


async def _pay_form(
    request: web.Request,
    learner_id: int,
    order: Order,
    values: dict[str, str],
    error: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    balance_fen = await balance.balance_of(request.app[DB], learner_id)
    context: dict[str, Any] = {
        "active": "orders",
        "order": order,
        "amount": plain_yuan(order.amount_fen),
        "balance": plain_yuan(balance_fen),
        "methods": payments.METHODS,
        "banks": payments.BANKS,
        "values": values,
        "error": error,
        "errors": errors or {},
    }
    return render_page(request, "pay.html", context, status=status)
