"""Pages of service information (F29: 发票领取和学习卡购买, the invoice application) and
帮助 (F30: the manual's questions, searchable)."""

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from engine.appkeys import DB
from engine.commerce import invoices
from engine.commerce.money import yuan
from engine.errors import InvalidInput
from engine.help import service
from web.bodies import InvoiceRequest
from web.decoding import read_form
from web.flash import flash_redirect
from web.pages import echo, page_user
from web.render import render_page
from web.requests import current_user, now


async def help_page(request: web.Request) -> web.Response:
    """帮助: both sections of §10, or the questions whose text holds every word searched."""
    query = request.query.get("q", "").strip()[: service.QUERY_MAX]
    sections = service.search(query)
    count = sum(len(section.questions) for section in sections)
    context = {"active": "help", "query": query, "sections": sections, "count": count}
    return render_page(request, "help.html", context)


async def service_page(request: web.Request) -> web.Response:
    return await _service(request)


async def apply_invoice(request: web.Request) -> web.StreamResponse:
    """发票申请: recorded, or the page again with what to correct (nothing stored)."""
    user = page_user(request)
    try:
        form = await read_form(request, InvoiceRequest)
        await invoices.apply(
            request.app[DB],
            user.id,
            order_id=form.order_id,
            title=form.title,
            tax_number=form.tax_number,
            amount=form.amount,
            now=now(request),
        )
    except InvalidInput as exc:
        return await _service(
            request, values=await echo(request), errors=exc.fields, error=exc.message, status=400
        )
    raise flash_redirect("/service#invoices", "发票申请已提交，请携带身份证到服务点领取发票")


async def _service(
    request: web.Request,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    """The service points, and for a learner the invoice form and their applications."""
    user = current_user(request)
    db = request.app[DB]
    context: dict[str, Any] = {
        "active": "service",
        "points": await service.service_points(db),
        "values": values or {},
        "errors": errors or {},
        "error": error,
        "statuses": invoices.INVOICE_STATUSES,
    }
    if user is not None:
        orders = await invoices.invoiceable_orders(db, user.id)
        context["order_choices"] = [
            (order.id, f"{order.out_trade_no}（{yuan(order.amount_fen)}）") for order in orders
        ]
        context["applications"] = await invoices.applications(db, user.id)
    return render_page(request, "service.html", context, status=status)
