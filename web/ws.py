"""GET /ws: authenticate the upgrade, then hand the socket to engine.sessions."""

from aiohttp import web

from engine.errors import Forbidden
from engine.sessions.endpoint import serve_socket
from web.middleware import origin_allowed
from web.requests import AUTH_VIA, TOKEN, require_user


async def websocket(request: web.Request) -> web.StreamResponse:
    """Cookie-authenticated sockets need an allowed Origin; bearer sockets do not."""
    user = require_user(request)
    if request[AUTH_VIA] == "cookie":
        origin = request.headers.get("Origin")
        if origin is None or not origin_allowed(request, origin):
            raise Forbidden("请求来源不被允许", code="origin")
    return await serve_socket(request, learner_id=user.id, token=request[TOKEN])
