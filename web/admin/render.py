"""Rendering administrative pages: the shared context (scope, side navigation) and the
helpers of list pages (filters echoed into the form, page links keeping them)."""

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from engine.admin.paging import page_number
from engine.admin.scope import Scope
from web.admin.routing import navigation_for
from web.render import render_page

# A filter longer than this is nobody's search.
FILTER_MAX_LENGTH = 100


def render_admin(
    request: web.Request,
    scope: Scope,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """An admin page (a template extending `admin/base.html`), with `scope`, the side
    navigation and `page_url(n)` (this page's address at page n, its filters kept)."""

    def page_url(number: int) -> str:
        return str(request.rel_url.update_query(page=number))

    shared = {
        "scope": scope,
        "admin_nav": navigation_for(request, scope),
        "page_url": page_url,
        "active": "admin",
    }
    return render_page(request, template, shared | dict(context or {}), status=status)


def filter_values(request: web.Request, names: tuple[str, ...]) -> dict[str, str]:
    """The list filters of the query string, trimmed ('' when absent): what the filter form
    shows again and the engine's search receives."""
    return {name: request.query.get(name, "").strip()[:FILTER_MAX_LENGTH] for name in names}


def requested_page(request: web.Request) -> int:
    """The page number of a list (`?page=`), 1 when absent or not a number."""
    return page_number(request.query.get("page"))
