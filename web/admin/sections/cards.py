"""学习卡管理: batches (list, create with the CSV handed out once, void, redemption history)
and single cards (find by number, void)."""

from datetime import date

import msgspec
from aiohttp import web

from engine.accounts.admin import scope_orgs
from engine.admin.scope import Scope
from engine.appkeys import DB
from engine.commerce import admin, cards
from engine.commerce.money import parse_fen
from engine.commerce.types import NewBatch
from engine.errors import Conflict, InvalidInput
from web.admin.orgs import org_choices
from web.admin.render import filter_values, render_admin, requested_page
from web.admin.routing import AdminRoute, NavLink, Section
from web.decoding import Id, path_id, read_form
from web.flash import flash_redirect
from web.pages import echo
from web.requests import today

# Hashing takes tens of milliseconds a card: a bigger batch would outlast a page's request.
MAX_CARDS_ONLINE = 2000


class BatchForm(msgspec.Struct, kw_only=True):
    name: str
    count: int
    value: str  # yuan, as typed
    valid_until: date | None = None
    org_id: Id | None = None  # None: the platform's (super only)


class VoidForm(msgspec.Struct, kw_only=True):
    reason: str


async def batches_page(request: web.Request, scope: Scope) -> web.Response:
    values = filter_values(request, ("name", "state"))
    page = await admin.batches(
        request.app[DB],
        scope,
        name=values["name"] or None,
        state=values["state"] or None,
        page=requested_page(request),
    )
    context = {"page": page, "values": values, "states": list(admin.BATCH_STATES.items())}
    return render_admin(request, scope, "admin/card_batches.html", context)


async def new_batch_page(request: web.Request, scope: Scope) -> web.Response:
    return await _batch_form(request, scope, {"count": "100"})


async def create_batch(request: web.Request, scope: Scope) -> web.StreamResponse:
    """The answer is the CSV of the new cards' numbers and passwords: nothing can show the
    passwords again (only their hashes are stored)."""
    try:
        form = await read_form(request, BatchForm)
        value_fen = parse_fen(form.value.strip())
        errors = {}
        if value_fen is None:
            errors["value"] = "面值应为金额，如 30 或 30.50"
        if form.count > MAX_CARDS_ONLINE:
            errors["count"] = (
                f"网页上每批最多生成{MAX_CARDS_ONLINE}张；更多请分批生成，或用 jixu cards generate"
            )
        if errors or value_fen is None:
            raise InvalidInput(errors)
        batch = NewBatch(
            name=form.name,
            count=form.count,
            value_fen=value_fen,
            valid_until=form.valid_until,
            org_id=form.org_id,
        )
        created = await admin.create_batch(request.app[DB], scope, batch, today(request))
    except InvalidInput as exc:
        errors = {
            ("value" if key == "value_fen" else key): text for key, text in exc.fields.items()
        }
        return await _batch_form(request, scope, await echo(request), errors, exc.message)
    filename = f"study-cards-{created.batch.id}.csv"
    return web.Response(
        text=cards.cards_csv(created.batch, created.cards),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f"attachment; filename={filename}",
            "Cache-Control": "no-store",
        },
    )


async def _batch_form(
    request: web.Request,
    scope: Scope,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    error: str | None = None,
) -> web.Response:
    context = {
        "values": values,
        "errors": errors or {},
        "error": error,
        "orgs": org_choices(await scope_orgs(request.app[DB], scope)),
    }
    return render_admin(
        request, scope, "admin/card_batch_new.html", context, status=400 if error else 200
    )


async def batch_page(request: web.Request, scope: Scope) -> web.Response:
    db, batch_id = request.app[DB], path_id(request, "batch_id")
    values = filter_values(request, ("state", "card_no"))
    batch = await admin.get_batch(db, scope, batch_id)
    page = await admin.batch_cards(
        db,
        scope,
        batch_id,
        state=values["state"] or None,
        card_no=values["card_no"] or None,
        page=requested_page(request),
    )
    context = {
        "batch": batch,
        "page": page,
        "values": values,
        "batch_states": admin.BATCH_STATES,
        "card_states": list(admin.CARD_STATES.items()),
    }
    return render_admin(request, scope, "admin/card_batch.html", context)


async def redemptions_page(request: web.Request, scope: Scope) -> web.Response:
    db, batch_id = request.app[DB], path_id(request, "batch_id")
    batch = await admin.get_batch(db, scope, batch_id)
    page = await admin.redemptions(db, scope, batch_id, page=requested_page(request))
    context = {"batch": batch, "page": page}
    return render_admin(request, scope, "admin/card_redemptions.html", context)


async def void_batch(request: web.Request, scope: Scope) -> web.StreamResponse:
    batch_id = path_id(request, "batch_id")
    url = f"/admin/card-batches/{batch_id}"
    try:
        form = await read_form(request, VoidForm)
        await admin.void_batch(request.app[DB], scope, batch_id, form.reason)
    except (InvalidInput, Conflict) as exc:
        raise _refused(url, exc) from None
    raise flash_redirect(url, "该批次已作废，其未使用的学习卡不能再充值")


async def find_card_page(request: web.Request, scope: Scope) -> web.StreamResponse:
    """卡号查询: a card of the scope by its number, then its own page."""
    values = filter_values(request, ("card_no",))
    if values["card_no"]:
        card = await admin.find_card(request.app[DB], scope, values["card_no"])
        raise web.HTTPFound(f"/admin/cards/{card.id}")
    return render_admin(request, scope, "admin/card_find.html", {"values": values})


async def card_page(request: web.Request, scope: Scope) -> web.Response:
    card = await admin.get_card(request.app[DB], scope, path_id(request, "card_id"))
    context = {"card": card, "card_states": admin.CARD_STATES}
    return render_admin(request, scope, "admin/card.html", context)


async def void_card(request: web.Request, scope: Scope) -> web.StreamResponse:
    card_id = path_id(request, "card_id")
    url = f"/admin/cards/{card_id}"
    try:
        form = await read_form(request, VoidForm)
        await admin.void_card(request.app[DB], scope, card_id, form.reason)
    except (InvalidInput, Conflict) as exc:
        raise _refused(url, exc) from None
    raise flash_redirect(url, "该学习卡已作废")


def _refused(url: str, exc: InvalidInput | Conflict) -> web.HTTPFound:
    """Back to the page, saying why (nothing was changed)."""
    message = "；".join(exc.fields.values()) or exc.message
    return flash_redirect(url, message, error=True)


SECTION = Section(
    title="学习卡",
    order=40,
    links=(
        NavLink("学习卡批次", "/admin/card-batches", "admin"),
        NavLink("卡号查询", "/admin/cards", "admin"),
    ),
    routes=(
        AdminRoute(
            method="GET",
            path="/admin/card-batches",
            handler=batches_page,
            role="admin",
            example={"name": "批次", "state": "active", "page": "1"},
        ),
        AdminRoute(
            method="GET", path="/admin/card-batches/new", handler=new_batch_page, role="admin"
        ),
        AdminRoute(
            method="POST",
            path="/admin/card-batches",
            handler=create_batch,
            role="admin",
            example={
                "name": "2026年第一批",
                "count": "2",
                "value": "30",
                "valid_until": "2100-12-31",
                "org_id": "{org_id}",
            },
        ),
        AdminRoute(
            method="GET",
            path="/admin/card-batches/{batch_id}",
            handler=batch_page,
            role="admin",
            example={"state": "active", "page": "1"},
        ),
        AdminRoute(
            method="GET",
            path="/admin/card-batches/{batch_id}/redemptions",
            handler=redemptions_page,
            role="admin",
        ),
        AdminRoute(
            method="POST",
            path="/admin/card-batches/{batch_id}/void",
            handler=void_batch,
            role="admin",
            example={"reason": "整批停用"},
        ),
        AdminRoute(
            method="GET",
            path="/admin/cards",
            handler=find_card_page,
            role="admin",
            example={"card_no": "{card_no}"},
        ),
        AdminRoute(method="GET", path="/admin/cards/{card_id}", handler=card_page, role="admin"),
        AdminRoute(
            method="POST",
            path="/admin/cards/{card_id}/void",
            handler=void_card,
            role="admin",
            example={"reason": "学员报告遗失"},
        ),
    ),
)
