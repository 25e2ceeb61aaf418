"""Per-request state set by the middlewares, and helpers that read it."""

import functools
import hashlib
import hmac
import ipaddress
from datetime import date, datetime

from aiohttp import web
from yarl import URL

from engine.accounts.types import User
from engine.appkeys import CLOCK, SETTINGS
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
UNREAD_COUNT = web.RequestKey("unread_count", int)


def now(request: web.Request) -> datetime:
    """The application's clock as an aware UTC datetime (tests inject their own clock)."""
    return utc_time(request.app[CLOCK]())


def today(request: web.Request) -> date:
    """The application's clock as a date in China, where the portal's days begin."""
    return china_time(request.app[CLOCK]()).date()


def current_user(request: web.Request) -> User | None:
    return request.get(USER)


def client_address(request: web.Request) -> str:
    """The client's IP address: the peer's, or, when the peer is a trusted proxy, the right-most
    X-Forwarded-For entry that is not itself one (each proxy appends the address it saw;
    entries further left are the client's word)."""
    peer = request.remote or "unknown"
    proxies = request.app[SETTINGS].trusted_proxies
    if not address_within(peer, proxies):
        return peer
    hops = [
        hop.strip()
        for line in request.headers.getall("X-Forwarded-For", ())
        for hop in line.split(",")
    ]
    for hop in reversed(hops):
        if not address_within(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # not an address: the chain is broken, the proxy is all we know
    return peer


def address_within(address: str, entries: tuple[str, ...]) -> bool:
    """Whether `address` is one of the addresses or networks (CIDR) `entries` names (an
    IPv4-mapped IPv6 address counts as its IPv4 one); not an address: False."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(entries))


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


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


def site_url(request: web.Request) -> str | None:
    """Where gateways, browsers and printed links reach the portal: JIXU_PUBLIC_URL; None
    when unknown.

    The Host header is anyone's to write (the sandbox POSTs to the notify URL, a certificate
    prints its verify link), so a request's own address is used only in development, and
    only when it names this very server on a loopback address: then no forged Host can aim
    the POST, or a printed link, anywhere else.
    """
    settings = request.app[SETTINGS]
    if settings.public_url:
        return settings.public_url.rstrip("/")
    if settings.env == "development" and _this_server_on_loopback(request):
        return f"{request.scheme}://{request.host}"
    return None


def _this_server_on_loopback(request: web.Request) -> bool:
    try:
        url = URL(f"http://{request.host}")
        host = url.host or ""
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return loopback and isinstance(sockname, tuple) and url.port == sockname[1]
