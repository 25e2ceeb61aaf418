"""Responses: JSON via msgspec, pages via Jinja2, and errors in either form."""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import aiohttp_jinja2
import msgspec
from aiohttp import web

from engine.accounts.options import FORM_OPTIONS
from engine.appkeys import SETTINGS
from engine.clock import CHINA, china_time
from engine.commerce.money import yuan
from web.flash import clear_flash, read_flash
from web.navigation import VISIBLE_NAVIGATION
from web.replies import ErrorDetail, ErrorReply
from web.requests import CART_COUNT, CSRF_TOKEN, current_user, is_api

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


def local_time(moment: datetime | int) -> str:
    """A stored (UTC) time, or epoch milliseconds, as China reads it: 2018-05-01 14:30."""
    if isinstance(moment, int):
        moment = china_time(moment)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


FILTERS: dict[str, Callable[..., str]] = {
    "mmss": minutes_seconds,
    "hours": hours,
    "yuan": yuan,
    "local_time": local_time,
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
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "nav": VISIBLE_NAVIGATION,
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
    return render_page(request, "error.html", {"status": status, "message": message}, status)
