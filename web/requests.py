"""Per-request state set by the middlewares, and helpers that read it."""

from datetime import date

from aiohttp import web

from engine.accounts.types import User
from engine.errors import InvalidInput, NotAuthenticated, NotFound
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


def set_session_cookie(response: web.StreamResponse, token: str, settings: Settings) -> None:
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
    response.del_cookie(SESSION_COOKIE, path="/")


def parse_date(value: str | None, field: str) -> date | None:
    """A 年-月-日 date from a query or form; InvalidInput naming the field otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput({field: "日期格式应为年-月-日"}) from None


def path_id(request: web.Request, name: str) -> int:
    """A numeric id from the URL path; NotFound for anything else (or too long for bigint)."""
    value = request.match_info[name]
    if not value.isdigit() or len(value) > 18:
        raise NotFound("页面不存在")
    return int(value)
