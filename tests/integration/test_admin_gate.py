"""The gate of admin routes, on a portal with routes of the test's own: refusals by role in
pages and the API, and streamed uploads whose CSRF token is the form's first field."""

from typing import Any

import aiohttp
import asyncpg
from aiohttp import BodyPartReader, web
from aiohttp.test_utils import TestClient

from engine.admin.scope import Scope
from engine.settings import Settings
from tests.admin_client import Browser
from tests.admin_world import World, build_world
from tests.conftest import Clock
from web.admin.routing import UPLOAD, AdminRoute, gated
from web.app import create_portal
from web.render import json_response
from web.requests import CSRF_FIELD, SESSION_COOKIE, session_csrf_token


async def sizes(request: web.Request, scope: Scope) -> web.Response:
    """Each remaining part of the upload: its name and size."""
    parts = {}
    while (part := await request[UPLOAD].next()) is not None:
        assert isinstance(part, BodyPartReader)
        parts[part.name] = len(await part.read())
    return json_response({"parts": parts, "by": scope.name})


async def whoami(request: web.Request, scope: Scope) -> web.Response:
    return json_response({"role": scope.role, "org_id": scope.org_id})


ROUTES = (
    AdminRoute(method="POST", path="/admin/test/upload", handler=sizes, role="admin", upload=True),
    AdminRoute(method="GET", path="/api/v1/admin/test/whoami", handler=whoami, role="super"),
)


async def portal(aiohttp_client: Any, settings: Settings, clock: Clock) -> TestClient:
    app = create_portal(settings, clock=clock)
    for route in ROUTES:
        app.router.add_route(route.method, route.path, gated(route))
    client: TestClient = await aiohttp_client(app)
    return client


async def world_of(database_url: str) -> World:
    connection = await asyncpg.connect(database_url)
    try:
        return await build_world(connection)
    finally:
        await connection.close()


def upload_form(token: str, *, token_first: bool = True) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if token_first:
        form.add_field(CSRF_FIELD, token)
    form.add_field("title", "第1节")
    form.add_field("video", b"\x00" * 300_000, filename="a.mp4", content_type="video/mp4")
    if not token_first:
        form.add_field(CSRF_FIELD, token)
    return form


async def test_an_upload_is_streamed_after_its_token(
    settings: Settings, database_url: str, clock: Clock, aiohttp_client: Any
) -> None:
    client = await portal(aiohttp_client, settings, clock)
    world = await world_of(database_url)
    admin = await Browser.of(client, world.users["admin_a"])
    token = session_csrf_token(admin.token)
    sent = await client.post("/admin/test/upload", data=upload_form(token), headers=admin.headers)
    assert sent.status == 200
    assert await sent.json() == {"parts": {"title": 7, "video": 300_000}, "by": "walk_admin_a"}

    for form in (upload_form("forged"), upload_form(token, token_first=False)):
        refused = await client.post("/admin/test/upload", data=form, headers=admin.headers)
        assert refused.status == 403
    no_origin = {"Cookie": f"{SESSION_COOKIE}={admin.token}"}
    refused = await client.post("/admin/test/upload", data=upload_form(token), headers=no_origin)
    assert refused.status == 403
    teacher = await Browser.of(client, world.users["teacher"])
    form = upload_form(session_csrf_token(teacher.token))
    assert (
        await client.post("/admin/test/upload", data=form, headers=teacher.headers)
    ).status == 403


async def test_the_api_answers_refusals_in_json(
    settings: Settings, database_url: str, clock: Clock, aiohttp_client: Any
) -> None:
    client = await portal(aiohttp_client, settings, clock)
    world = await world_of(database_url)
    anonymous = await client.get("/api/v1/admin/test/whoami")
    assert anonymous.status == 401
    admin = await Browser.of(client, world.users["admin_a"])
    bearer = {"Authorization": f"Bearer {admin.token}"}
    refused = await client.get("/api/v1/admin/test/whoami", headers=bearer)
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "forbidden"
    boss = await Browser.of(client, world.users["super"])
    answer = await client.get(
        "/api/v1/admin/test/whoami", headers={"Authorization": f"Bearer {boss.token}"}
    )
    assert await answer.json() == {"role": "super", "org_id": None}
    page = await client.get("/admin", allow_redirects=False)
    assert page.headers["Location"] == "/login?next=/admin"
