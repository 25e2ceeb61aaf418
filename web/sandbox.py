"""The sandbox gateway's 收银台 (development and tests): pay or cancel a signed request."""

from aiohttp import web

from engine.appkeys import SANDBOX
from engine.commerce.payments import BANKS
from engine.commerce.sandbox import Sandbox
from engine.errors import NotFound
from web.decoding import signed_params
from web.render import render_page
from web.requests import CSRF_FIELD


def running_sandbox(request: web.Request) -> Sandbox:
    sandbox = request.app[SANDBOX]
    if sandbox is None:
        raise NotFound("页面不存在")
    return sandbox


async def gateway_page(request: web.Request) -> web.Response:
    """The cashier page for our signed request; its form carries the request back intact."""
    params = dict(request.query)
    checkout = running_sandbox(request).checkout(params)
    context = {
        "checkout": checkout,
        "bank": BANKS[checkout.bank] if checkout.bank else None,
        "params": sorted(params.items()),
    }
    return render_page(request, "sandbox_gateway.html", context)


async def confirm(request: web.Request) -> web.StreamResponse:
    """确认支付: the gateway notifies the merchant, then sends the browser back."""
    params = await signed_params(request) or {}
    params.pop(CSRF_FIELD, None)
    raise web.HTTPFound(await running_sandbox(request).pay(params))
