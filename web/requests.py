"""Per-request state set by the middlewares, and helpers that read it."""

import hashlib
import hmac
from datetime import date, datetime

from aiohttp import web

from engine.accounts.types import User
from engine.appkeys import CLOCK
from engine.clock import china_time, utc_time
from engine.errors import NotAuthenticated
from engine.settings import Settings

SESSION_COOKIE = "jixu_session"
CSRF_COOKIE = "jixu_csrf"
CSRF_FIELD = "csrf_token"

USER = web.RequestKey("user", User)
TOKEN = web.RequestKey("token", str)
AUTH_VIA = web.RequestKey("auth_via", str)
REQUEST_ID = web.RequestKey("request_id", str)
CSRF_TOKEN = web.RequestKey("csrf_token", str)
CART_COUNT = web.RequestKey("cart_count", int)


def now(request: web.Request) -> datetime:
    """The application's clock as an aware UTC datetime (tests inject their own clock)."""
    return utc_time(request.app[CLOCK]())


def today(request: web.Request) -> date:
    """The application's clock as a date in China, where the portal's days begin."""
    return china_time(request.app[CLOCK]()).date()


def current_user(request: web.Request) -> User | None:
    return request.get(USER)


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def is_websocket(request: web.Request) -> bool:
    """The upgrade to /ws, whose socket then lives for hours: no page, no form, no cookie."""
    return request.path == "/ws"


def require_user(request: web.Request) -> User:
    """The logged-in user; NotAuthenticated otherwise."""
    user = request.get(USER)
    if user is None:
        raise NotAuthenticated("请先登录")
    return user


def session_csrf_token(session_token: str) -> str:
    """The forms' CSRF token for a login session: a MAC keyed by its secret session token.

    It changes with every login and cannot be planted (a cookie tossed in before login is no
    longer what forms must echo), needs no shared server secret between nodes, and reveals
    nothing of the session token.
    """
    return hmac.new(session_token.encode(), b"jixu-csrf", hashlib.sha256).hexdigest()


def set_session_cookie(response: web.StreamResponse, token: str, settings: Settings) -> None:
    """Start the browser's login session; the anonymous CSRF cookie goes with the old state."""
    response.del_cookie(CSRF_COOKIE, path="/")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_absolute_s,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=settings.secure_cookies,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    """End the browser's login session; its next form gets a new anonymous CSRF cookie."""
    response.del_cookie(SESSION_COOKIE, path="/")
    response.del_cookie(CSRF_COOKIE, path="/")
