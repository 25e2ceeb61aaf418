"""Responses: JSON via msgspec, pages via Jinja2, and errors in either form."""

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
import msgspec
from aiohttp import web

from engine.accounts.options import FORM_OPTIONS
from engine.appkeys import SETTINGS
from web.navigation import VISIBLE_NAVIGATION
from web.requests import CSRF_TOKEN, current_user, is_api

_encoder = msgspec.json.Encoder()


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(data), status=status, content_type="application/json")


def render_page(
    request: web.Request, template: str, context: Mapping[str, Any] | None = None, status: int = 200
) -> web.Response:
    """Render a page with the context every page shares (user, CSRF token, navigation)."""
    shared = {
        "site_name": request.app[SETTINGS].site_name,
        "user": current_user(request),
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "nav": VISIBLE_NAVIGATION,
        "options": FORM_OPTIONS,
        "active": None,
        "error": None,
        "errors": {},
        "values": {},
        "saved": False,
        "next": None,
    }
    return aiohttp_jinja2.render_template(
        template, request, shared | dict(context or {}), status=status
    )


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
        error: dict[str, Any] = {"code": code, "message": message}
        if fields:
            error["fields"] = dict(fields)
        return json_response({"error": error}, status=status)
    return render_page(request, "error.html", {"status": status, "message": message}, status)
