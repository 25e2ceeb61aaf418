"""GET /ws: authenticate the upgrade, then hand the socket to engine.sessions."""

import secrets

import structlog
from aiohttp import web

from engine.appkeys import COMMANDS, HUB, LOGIN_SESSIONS, SETTINGS, SOCKET_CAPS
from engine.errors import TRANSIENT, DomainError, Forbidden
from engine.sessions.endpoint import serve_socket
from web.middleware import error_response, origin_allowed, resolve_user
from web.render import render_error
from web.requests import AUTH_VIA, TOKEN, client_address, require_user

log = structlog.get_logger(__name__)


async def websocket(request: web.Request) -> web.StreamResponse:
    """Cookie-authenticated sockets need an allowed Origin; bearer sockets do not.

    The upgrade skips the middlewares (`http_only`), so it resolves its user and answers
    its refusals here: a socket over the learner's or the address's cap is refused (429)
    before the upgrade."""
    app = request.app
    conn_id = secrets.token_hex(6)
    address = client_address(request)
    try:
        await resolve_user(request)
        user = require_user(request)
        if user.must_change_password:
            raise Forbidden("请先修改密码", code="password_change_required")
        if request[AUTH_VIA] == "cookie":
            origin = request.headers.get("Origin")
            if origin is None or not origin_allowed(request, origin):
                raise Forbidden("请求来源不被允许", code="origin")
        await app[SOCKET_CAPS].claim(conn_id, user.id, address)
    except DomainError as exc:
        return error_response(request, exc)
    except TRANSIENT as exc:
        # Clients reconnecting to stores that cannot answer: one line each, no traceback.
        log.warning("socket refused: store unavailable", error=repr(exc))
        return render_error(request, 503, "unavailable", "服务器繁忙，请稍后再试")
    return await serve_socket(
        request,
        conn_id=conn_id,
        learner_id=user.id,
        token=request[TOKEN],
        address=address,
        hub=app[HUB],
        caps=app[SOCKET_CAPS],
        commands=app[COMMANDS],
        login_sessions=app[LOGIN_SESSIONS],
        settings=app[SETTINGS],
    )
