"""Responses: JSON via msgspec, pages via Jinja2, and errors in either form."""

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import aiohttp_jinja2
import msgspec
from aiohttp import web
from markupsafe import Markup, escape

from engine.accounts.options import FORM_OPTIONS
from engine.appkeys import SETTINGS
from engine.clock import CHINA, china_time
from engine.commerce.money import yuan
from web.flash import clear_flash, read_flash
from web.navigation import NAVIGATION, SERVICE_NAVIGATION
from web.replies import ErrorDetail, ErrorReply
from web.requests import CART_COUNT, CSRF_TOKEN, UNREAD_COUNT, current_user, is_api

_encoder = msgspec.json.Encoder()


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(data), status=status, content_type="application/json")


def minutes_seconds(seconds: float) -> str:
    """A video time as mm:ss (minutes keep counting past the hour)."""
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def hours(value: float) -> str:
    """学时 without a needless decimal: 32, 1.5."""
    return f"{value:g}"


def highlight(text: str, query: str) -> Markup:
    """`text` escaped, with each word of a search query in it marked (any letter case)."""
    words = sorted(set(query.split()), key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    parts, last = [], 0
    for found in pattern.finditer(text):
        parts += [escape(text[last : found.start()]), Markup("<mark>%s</mark>") % found.group()]
        last = found.end()
    return Markup("").join([*parts, escape(text[last:])])


def local_time(moment: datetime | int, *, seconds: bool = False) -> str:
    """A stored (UTC) time, or epoch milliseconds, as China reads it: 2018-05-01 14:30
    (14:30:05 with `seconds`)."""
    if isinstance(moment, int):
        moment = china_time(moment)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


FILTERS: dict[str, Callable[..., str]] = {
    "mmss": minutes_seconds,
    "hours": hours,
    "yuan": yuan,
    "local_time": local_time,
    "highlight": highlight,
}


def render_page(
    request: web.Request, template: str, context: Mapping[str, Any] | None = None, status: int = 200
) -> web.Response:
    """Render a page with the context every page shares: the user and their 购物车 count,
    the CSRF token, the navigation and a message carried over a redirect."""
    user = current_user(request)
    flash = read_flash(request)
    shared = {
        "site_name": request.app[SETTINGS].site_name,
        "user": user,
        "cart_count": request.get(CART_COUNT),
        "unread_count": request.get(UNREAD_COUNT),
        "own_socket": False,  # the page speaks to /ws itself, and shows notices from it
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "nav": NAVIGATION,
        "service_nav": SERVICE_NAVIGATION,
        "options": FORM_OPTIONS,
        "flash": flash,
        "active": None,
        "error": None,
        "errors": {},
        "values": {},
        "saved": False,
        "next": None,
    }
    response = aiohttp_jinja2.render_template(
        template, request, shared | dict(context or {}), status=status
    )
    if flash is not None:
        clear_flash(response)
    return response


def render_error(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    *,
    fields: Mapping[str, str] | None = None,
) -> web.Response:
    """`{"error": {code, message, fields?}}` for the API, an error page for browsers."""
    if is_api(request):
        error = ErrorDetail(code, message, dict(fields or {}))
        return json_response(ErrorReply(error), status=status)
    context = {"status": status, "message": message, "in_admin": request.path.startswith("/admin")}
    return render_page(request, "error.html", context, status)
