"""Middlewares: request id and metrics, security headers, errors, authentication, CSRF."""

import functools
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog
from aiohttp import web

from engine.accounts.service import authenticate
from engine.accounts.types import User
from engine.appkeys import DB, LOGIN_SESSIONS, METRICS, SETTINGS
from engine.commerce.cart import cart_count
from engine.errors import DomainError, Forbidden
from engine.messages.service import unread_count
from web.admin.routing import route_of
from web.render import render_error
from web.requests import (
    AUTH_VIA,
    CART_COUNT,
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_TOKEN,
    REQUEST_ID,
    SESSION_COOKIE,
    TOKEN,
    UNREAD_COUNT,
    USER,
    is_api,
    is_websocket,
    session_csrf_token,
)

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{8,64}")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HTTP_MESSAGES = {
    400: "请求格式不正确",
    404: "页面不存在",
    405: "不支持该请求方法",
    413: "提交的内容过大",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id to every log line, log the request, count it, and never leak a 500."""
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else secrets.token_hex(8)
    request[REQUEST_ID] = request_id
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        except Exception:
            log.exception("unhandled error", method=request.method, path=request.path)
            response = render_error(request, 500, "internal", "服务器内部错误，请稍后再试")
        response.headers["X-Request-ID"] = request_id
        elapsed = time.perf_counter() - started
        route = request.match_info.route.resource
        route_name = route.canonical if route is not None else "unmatched"
        request.app[METRICS].observe_request(request.method, route_name, response.status, elapsed)
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status,
            ms=round(elapsed * 1000, 1),
        )
        if isinstance(response, web.HTTPException):
            raise response
        return response
    finally:
        structlog.contextvars.unbind_contextvars("request_id")


# A year, the usual minimum for HSTS; only sent when the portal is served over https.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


@functools.cache
def security_headers_for(gateway_url: str | None, https: bool) -> dict[str, str]:
    """The headers, with a payment gateway elsewhere allowed as a form target, and HSTS when
    the portal is served over https (`JIXU_SECURE_COOKIES`).

    前往支付 is a form whose answer redirects to the gateway, and browsers apply form-action
    to that redirect too.
    """
    headers = dict(SECURITY_HEADERS)
    if gateway_url:
        parts = urlsplit(gateway_url)
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
        )
    if https:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return headers


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The security headers on every response, and `Cache-Control: no-store` on all but
    /static/: every page carries a form token or personal data, every API answer is one
    learner's, and a rule by "logged in" would miss the pages that log in and out."""
    settings = request.app[SETTINGS]
    headers = security_headers_for(settings.gateway_url, settings.secure_cookies)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        no_store(request, exc)
        exc.headers.update(headers)
        raise
    no_store(request, response)
    response.headers.update(headers)
    return response


def no_store(request: web.Request, response: web.StreamResponse) -> None:
    """Keep a dynamic answer out of every cache, unless its handler chose a policy."""
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Where an HTTP error or a DomainError becomes the response (see `error_response`)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = HTTP_MESSAGES.get(exc.status, "请求无法处理")
        return render_error(request, exc.status, exc.reason.lower().replace(" ", "_"), message)
    except DomainError as exc:
        return error_response(request, exc)


def error_response(request: web.Request, exc: DomainError) -> web.Response:
    """The one way a DomainError becomes an HTTP response."""
    response = render_error(
        request, exc.status, exc.code, exc.message, fields=getattr(exc, "fields", None)
    )
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@web.middleware
async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the bearer token or session cookie into the request's user."""
    user = await resolve_user(request)
    if user is not None:
        structlog.contextvars.bind_contextvars(user_id=user.id)
    try:
        return await handler(request)
    finally:
        structlog.contextvars.unbind_contextvars("user_id")


async def resolve_user(request: web.Request) -> User | None:
    """The user of the request's bearer token or session cookie, if it is a live session;
    the request keeps the user, the token and how it came (`AUTH_VIA`)."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        token, via = credentials.strip(), "bearer"
    else:
        token, via = request.cookies.get(SESSION_COOKIE, ""), "cookie"
    if not token:
        return None
    user = await authenticate(request.app[DB], request.app[LOGIN_SESSIONS], token)
    request[AUTH_VIA] = via
    if user is not None:
        request[USER] = user
        request[TOKEN] = token
    return user


# What a user whose password an administrator reset may still reach: the change itself,
# the way out, and what the pages and clients need to show it.
PASSWORD_CHANGE_PATHS = frozenset(
    {"/settings/password", "/logout", "/api/v1/me/password", "/api/v1/auth/logout"}
)
PASSWORD_CHANGE_READS = frozenset({"/api/v1/me"})


@web.middleware
async def password_change(request: web.Request, handler: Handler) -> web.StreamResponse:
    """After an administrator's reset, nothing but 修改密码 until the password is changed:
    pages send there, the API refuses with `password_change_required`."""
    user = request.get(USER)
    if (
        user is None
        or not user.must_change_password
        or request.path in PASSWORD_CHANGE_PATHS
        or (request.method == "GET" and request.path in PASSWORD_CHANGE_READS)
        or request.path.startswith("/static/")
    ):
        return await handler(request)
    if is_api(request):
        raise Forbidden("请先修改密码", code="password_change_required")
    raise web.HTTPFound("/settings/password")


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse cross-site state changes, and give every browser a CSRF token for its forms.

    Bearer calls are exempt. Any other unsafe request that names an Origin must name an
    allowed one; cookie-carrying API calls must name one; forms must echo the token: the
    login session's (`session_csrf_token`) once logged in, else the anonymous CSRF cookie.
    """
    session = request.get(TOKEN) if request.get(AUTH_VIA) == "cookie" else None
    known = request.cookies.get(CSRF_COOKIE, "")
    expected = session_csrf_token(session) if session is not None else known
    request[CSRF_TOKEN] = expected or secrets.token_urlsafe(24)
    if request.method in UNSAFE_METHODS and request.get(AUTH_VIA) != "bearer":
        origin = request.headers.get("Origin")
        if origin is not None and not origin_allowed(request, origin):
            raise Forbidden("请求来源不被允许", code="csrf")
        if is_api(request):
            if origin is None and SESSION_COOKIE in request.cookies:
                raise Forbidden("请求缺少来源信息", code="csrf")
        elif (route := route_of(request.match_info.handler)) is not None and route.upload:
            # A streamed upload is not read here: its route's gate checks the token, the
            # form's first field, before the handler reads the rest (web/admin/routing.py).
            if origin is None:
                raise Forbidden("请求缺少来源信息", code="csrf")
        else:
            form = await request.post()
            sent = form.get(CSRF_FIELD)
            if not (isinstance(sent, str) and expected and same_token(sent, expected)):
                raise Forbidden("页面已过期，请刷新后重试", code="csrf")
    response = await handler(request)
    if session is None and not known and not is_api(request):
        response.set_cookie(
            CSRF_COOKIE,
            request[CSRF_TOKEN],
            path="/",
            httponly=True,
            samesite="Lax",
            secure=request.app[SETTINGS].secure_cookies,
        )
    return response


def same_token(sent: str, expected: str) -> bool:
    """A constant-time comparison that any text may reach (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(sent.encode(), expected.encode())


@web.middleware
async def header_counts(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The 购物车 and unread message counts every page's header shows (F3, F24), for a
    learner's page requests."""
    user = request.get(USER)
    if user is not None and request.method == "GET" and not is_api(request):
        request[CART_COUNT] = await cart_count(request.app[DB], user.id)
        request[UNREAD_COUNT] = await unread_count(request.app[DB], user.id)
    return await handler(request)


def http_only(middleware: Middleware) -> Middleware:
    """`middleware`, which websocket upgrades skip.

    The skip is a plain function returning the handler's awaitable, so no frame of the
    middleware stays suspended for the socket's whole life: with every middleware skipped,
    ~2 KiB less on each of tens of thousands of sockets. The upgrade's handler
    authenticates and answers refusals itself (`web/ws.py`); headers, cookies and request
    timing mean nothing on a 101 that lasts hours.
    """

    @web.middleware
    @functools.wraps(middleware)
    def skipping_websockets(
        request: web.Request, handler: Handler
    ) -> Awaitable[web.StreamResponse]:
        if is_websocket(request):
            return handler(request)
        return middleware(request, handler)

    return skipping_websockets


def origin_allowed(request: web.Request, origin: str) -> bool:
    """Same origin as the request, or listed in JIXU_ALLOWED_ORIGINS."""
    own = f"{request.scheme}://{request.host}"
    return origin == own or origin in request.app[SETTINGS].allowed_origins


MIDDLEWARES = tuple(
    http_only(middleware)
    for middleware in (
        security_headers,
        observe,
        domain_errors,
        authentication,
        password_change,
        csrf,
        header_counts,
    )
)
