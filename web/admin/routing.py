"""The administration's route table: each page and API call declared with the least role
it needs and an example input, and the gate that checks role on the server before the
handler runs (scope is then applied in the engine's SQL).

A section (`web/admin/sections/<name>.py`) exports `SECTION`; `setup_admin` finds them all,
so a section is added without editing a shared list.
"""

import functools
import hmac
import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from aiohttp import BodyPartReader, MultipartReader, web

from engine.admin.scope import RANKS, AdminRole, Scope, require, scope_of
from engine.errors import Forbidden, InvalidInput, NotAuthenticated
from web.requests import CSRF_FIELD, CSRF_TOKEN, current_user, is_api

AdminHandler = Callable[[web.Request, Scope], Awaitable[web.StreamResponse]]

SCOPE = web.RequestKey("admin_scope", Scope)
UPLOAD = web.RequestKey("admin_upload", MultipartReader)


class Upload(NamedTuple):
    """An example file of an upload route's input: its bytes, or a file read when a test
    sends it (a video need not sit in every process's memory)."""

    filename: str
    content_type: str
    source: bytes | Path

    def read(self) -> bytes:
        return self.source.read_bytes() if isinstance(self.source, Path) else self.source


@dataclass(frozen=True, kw_only=True)
class AdminRoute:
    """One administrative endpoint.

    `role` is the least role allowed (teacher < admin < super). `example` is an input the
    handler accepts: the query of a GET, the form of a page's POST, the JSON body of an API
    call; `{name}` in a value stands for the walk's object of that name (as a path
    parameter does). `upload`: a multipart form the handler streams from `request[UPLOAD]`.
    """

    method: str
    path: str
    handler: AdminHandler
    role: AdminRole
    example: Mapping[str, str | Upload] = field(default_factory=dict)
    upload: bool = False

    @property
    def mutates(self) -> bool:
        return self.method != "GET"


class NavLink(NamedTuple):
    """An entry of the side navigation, shown to `role` and above; current on the pages
    under its address and under `also` (the detail pages it leads to by another address)."""

    label: str
    url: str
    role: AdminRole
    also: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Section:
    """A part of the administration: its place in the navigation and its routes."""

    title: str
    order: int
    links: tuple[NavLink, ...]
    routes: tuple[AdminRoute, ...]


NUL_REFUSED = "填写的内容含有不能保存的控制字符"

ADMIN_NAVIGATION = web.AppKey("admin_navigation", tuple[tuple[str, tuple[NavLink, ...]], ...])


def admin_scope(request: web.Request) -> Scope:
    """The scope of the logged-in user; a redirect to the login box for pages (401 for the
    API) when anonymous, Forbidden for a learner."""
    user = current_user(request)
    if user is None:
        if is_api(request):
            raise NotAuthenticated("请先登录")
        raise web.HTTPFound(f"/login?next={quote(request.path_qs)}")
    return scope_of(user.id, user.username, user.role, user.org_id)


async def _gate(route: AdminRoute, request: web.Request) -> web.StreamResponse:
    """Check the role, then run the route's handler with the scope."""
    scope = admin_scope(request)
    require(scope, route.role)
    request[SCOPE] = scope
    if route.upload:
        request[UPLOAD] = await _open_upload(request)
    elif route.mutates and not is_api(request):
        await _refuse_nul(request)
    return await route.handler(request, scope)


async def _refuse_nul(request: web.Request) -> None:
    """A form field holding NUL, which PostgreSQL text cannot store, is refused here for every
    form (a 400 naming the field) rather than failing in the database as a 500."""
    form = await request.post()
    bad = [name for name, value in form.items() if isinstance(value, str) and "\x00" in value]
    if bad:
        raise InvalidInput(dict.fromkeys(bad, NUL_REFUSED), NUL_REFUSED)


def gated(route: AdminRoute) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of an admin route: `route` behind the gate."""
    return functools.partial(_gate, route)


def route_of(handler: object) -> AdminRoute | None:
    """The admin route an aiohttp handler serves, None for any other handler."""
    if isinstance(handler, functools.partial) and handler.func is _gate:
        route: AdminRoute = handler.args[0]
        return route
    return None


async def _open_upload(request: web.Request) -> MultipartReader:
    """The multipart form, its first field checked to be the CSRF token: the rest is left
    for the handler to stream."""
    reader = await request.multipart()
    first = await reader.next()
    token = await first.text() if isinstance(first, BodyPartReader) else None
    expected = request.get(CSRF_TOKEN, "")
    if (
        first is None
        or first.name != CSRF_FIELD
        or not (token and hmac.compare_digest(token.encode(), expected.encode()))
    ):
        raise Forbidden("页面已过期，请刷新后重试", code="csrf")
    return reader


def find_sections() -> tuple[Section, ...]:
    """Every `web/admin/sections/<name>.py`'s SECTION, in navigation order."""
    from web.admin import sections

    found = [
        importlib.import_module(f"{sections.__name__}.{module.name}").SECTION
        for module in pkgutil.iter_modules(sections.__path__)
    ]
    return tuple(sorted(found, key=lambda section: section.order))


def admin_routes(found: tuple[Section, ...]) -> list[AdminRoute]:
    return [route for section in found for route in section.routes]


def setup_admin(app: web.Application) -> None:
    """Add every section's routes, each behind the gate, and the side navigation (the links
    of sections sharing a title under one heading)."""
    found = find_sections()
    groups: dict[str, tuple[NavLink, ...]] = {}
    for section in found:
        groups[section.title] = groups.get(section.title, ()) + section.links
    app[ADMIN_NAVIGATION] = tuple(groups.items())
    for route in admin_routes(found):
        app.router.add_route(route.method, route.path, gated(route))


def navigation_for(
    request: web.Request, scope: Scope
) -> list[tuple[str, list[tuple[NavLink, bool]]]]:
    """The side navigation the scope's role may use: (section title, [(link, current)]),
    the current link being the one with the longest address (its own or `also`) that
    starts the path."""
    rank = RANKS[scope.role]
    visible = [
        (title, [link for link in links if RANKS[link.role] <= rank])
        for title, links in request.app[ADMIN_NAVIGATION]
    ]
    addresses = [
        (address, link.url)
        for _, links in visible
        for link in links
        for address in (link.url, *link.also)
    ]
    matching = [
        (address, url)
        for address, url in addresses
        if request.path == address or request.path.startswith(address + "/")
    ]
    current = max(matching, key=lambda match: len(match[0]), default=(None, None))[1]
    return [
        (title, [(link, link.url == current) for link in links])
        for title, links in visible
        if links
    ]
