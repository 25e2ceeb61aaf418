"""Page handlers: the learner's HTML pages (zh-CN)."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

import msgspec
from aiohttp import web
from yarl import URL

from engine.accounts import service
from engine.accounts.types import Org, PersonalDetails, User
from engine.appkeys import (
    CARD_THROTTLE,
    CLOCK,
    DB,
    LOGIN_SESSIONS,
    LOGIN_THROTTLE,
    PASSWORD_THROTTLE,
    REGISTRATION_THROTTLE,
    SETTINGS,
)
from engine.archive import service as archive
from engine.catalog import service as catalog
from engine.commerce import cards
from engine.commerce.account import account_view
from engine.errors import Conflict, DomainError, InvalidInput, NotAuthenticated, Throttled
from web.bodies import (
    CardRedemption,
    Credentials,
    PasswordChange,
    PersonalDetailsBody,
    RegistrationBody,
)
from web.decoding import parse_id, read_form
from web.navigation import NAVIGATION
from web.render import render_page
from web.requests import (
    TOKEN,
    clear_session_cookie,
    client_address,
    current_user,
    now,
    set_session_cookie,
    today,
)

# Fields never echoed back into a re-rendered form.
SECRET_FIELDS = frozenset(
    {"password", "password_confirm", "old_password", "new_password", "card_password"}
)
ACCOUNT_TABS = {"transactions": "交易记录", "recharges": "充值记录"}
LEDGER_KINDS = {"recharge": "充值", "payment": "支付", "refund": "退款"}


def page_user(request: web.Request) -> User:
    """The logged-in user, or a redirect to the login box that comes back here."""
    user = current_user(request)
    if user is None:
        raise web.HTTPFound(f"/login?next={quote(request.path_qs)}")
    return user


async def echo(request: web.Request) -> dict[str, str]:
    """The posted form as typed, for showing it again: secrets left out."""
    form = await request.post()
    return {
        key: value
        for key, value in form.items()
        if isinstance(value, str) and key not in SECRET_FIELDS
    }


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site as the URL library and browsers read it, else `/`.

    yarl drops tabs and newlines (`/<tab>/x` becomes `//x`), browsers read a backslash as `/`,
    and a proxy may decode `%2F` and `%5C`: so the raw text, the Location it becomes and that
    Location's decoded path must each stay a plain path.
    """
    if not target or not _plain(target):
        return "/"
    try:
        location = str(URL(target))
    except ValueError:
        return "/"
    path = location.split("?", 1)[0].split("#", 1)[0]
    if _local(location) and _local(unquote(path)) and _plain(unquote(path)):
        return location
    return "/"


def _plain(text: str) -> bool:
    return "\\" not in text and all(char.isprintable() and not char.isspace() for char in text)


def _local(location: str) -> bool:
    return location.startswith("/") and not location.startswith("//")


async def index(request: web.Request) -> web.Response:
    user = current_user(request)
    if user is None:
        return render_page(request, "login.html", {"next": "/", "values": {}})
    year = catalog.learning_year(request.app[SETTINGS].current_year, request.app[CLOCK]())
    hours = await archive.year_hours(request.app[DB], user, year, now(request))
    return render_page(
        request, "home.html", {"active": "home", "year_hours": hours, "parts": NAVIGATION}
    )


async def app_page(request: web.Request) -> web.Response:
    return render_page(request, "app.html")


async def login_page(request: web.Request) -> web.Response:
    if current_user(request) is not None:
        raise web.HTTPFound(safe_next(request.query.get("next")))
    values = {"username": request.query.get("username", "")}
    return render_page(request, "login.html", {"next": request.query.get("next"), "values": values})


async def login(request: web.Request) -> web.StreamResponse:
    credentials = await read_form(request, Credentials)
    target = safe_next(credentials.next)
    try:
        _, token = await service.log_in(
            request.app[DB],
            request.app[LOGIN_SESSIONS],
            request.app[LOGIN_THROTTLE],
            username=credentials.username.strip(),
            password=credentials.password,
            address=client_address(request),
            previous_token=request.get(TOKEN),
        )
    except (InvalidInput, NotAuthenticated, Throttled) as exc:
        context = {"next": target, "values": await echo(request), "error": exc.message}
        response = render_page(request, "login.html", context, status=exc.status)
        if isinstance(exc, Throttled):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    response = web.HTTPFound(target)
    set_session_cookie(response, token, request.app[SETTINGS])
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    if TOKEN in request:
        await service.log_out(request.app[LOGIN_SESSIONS], request[TOKEN])
    response = web.HTTPFound("/")
    clear_session_cookie(response)
    raise response


async def register_page(request: web.Request) -> web.Response:
    return await _register_form(request, {}, {})


async def register(request: web.Request) -> web.Response:
    try:
        body = await read_form(request, RegistrationBody)
        user = await service.register(
            request.app[DB],
            request.app[REGISTRATION_THROTTLE],
            msgspec.structs.asdict(body),
            today(request),
            client_address(request),
        )
    except (InvalidInput, Conflict) as exc:
        return await _register_form(request, await echo(request), exc.fields, status=exc.status)
    raise web.HTTPFound(f"/register/done?username={quote(user.username)}")


async def register_done(request: web.Request) -> web.Response:
    return render_page(
        request, "register_done.html", {"username": request.query.get("username", "")}
    )


async def _register_form(
    request: web.Request, values: Mapping[str, str], errors: Mapping[str, str], status: int = 200
) -> web.Response:
    account_fields = {"username", "password", "password_confirm"}
    step = 1 if not errors or account_fields & errors.keys() else 2
    context = {
        "values": values,
        "errors": errors,
        "step": step,
        "orgs": _org_choices(await service.list_orgs(request.app[DB])),
    }
    return render_page(request, "register.html", context, status=status)


async def profile_page(request: web.Request) -> web.Response:
    user = page_user(request)
    return await _profile_form(request, user, _profile_values(user), {})


async def update_profile(request: web.Request) -> web.Response:
    user = page_user(request)
    try:
        body = await read_form(request, PersonalDetailsBody)
        updated = await service.update_profile(
            request.app[DB], user, msgspec.structs.asdict(body), today(request)
        )
    except InvalidInput as exc:
        return await _profile_form(
            request, user, await echo(request), exc.fields, status=exc.status
        )
    return await _profile_form(request, updated, _profile_values(updated), {}, saved=True)


async def _profile_form(
    request: web.Request,
    user: User,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    status: int = 200,
    saved: bool = False,
) -> web.Response:
    context = {
        "active": "settings",
        "tab": "profile",
        "profile": user,
        "values": values,
        "errors": errors,
        "saved": saved,
        "orgs": _org_choices(await service.list_orgs(request.app[DB])),
    }
    return render_page(request, "profile.html", context, status=status)


async def password_page(request: web.Request) -> web.Response:
    page_user(request)
    return render_page(
        request, "password.html", {"active": "settings", "tab": "password", "errors": {}}
    )


async def change_password(request: web.Request) -> web.Response:
    user = page_user(request)
    change = await read_form(request, PasswordChange)
    context: dict[str, Any] = {"active": "settings", "tab": "password", "errors": {}}
    try:
        await service.change_password(
            request.app[DB],
            request.app[LOGIN_SESSIONS],
            request.app[PASSWORD_THROTTLE],
            user,
            old_password=change.old_password,
            new_password=change.new_password,
            confirm_password=change.confirm_password or "",
            current_token=request.get(TOKEN),
        )
    except InvalidInput as exc:
        context["errors"] = exc.fields
        return render_page(request, "password.html", context, status=exc.status)
    context["saved"] = True
    return render_page(request, "password.html", context)


def _profile_values(user: User) -> dict[str, str]:
    editable = (field for field in PersonalDetails.__struct_fields__ if not field.startswith("id_"))
    return {
        field: "" if getattr(user, field) is None else str(getattr(user, field))
        for field in editable
    }


def _org_choices(orgs: list[Org]) -> list[tuple[int, str]]:
    """(id, label) with the label indented by the organisation's depth in the tree."""
    depth: dict[int, int] = {}
    choices = []
    for org in orgs:
        depth[org.id] = 0 if org.parent_id is None else depth.get(org.parent_id, -1) + 1
        choices.append((org.id, "\u3000" * depth[org.id] + org.name))
    return choices


async def account_page(request: web.Request) -> web.Response:
    user = page_user(request)
    return await _account(request, user, saved=request.query.get("recharged") == "1")


async def recharge(request: web.Request) -> web.StreamResponse:
    """充值 with a study card; the page shows why not, or (after a redirect) 充值成功."""
    user = page_user(request)
    card = await read_form(request, CardRedemption)
    try:
        await cards.redeem(
            request.app[DB],
            request.app[CARD_THROTTLE],
            user.id,
            card.card_no,
            card.card_password,
            client_address(request),
        )
    except DomainError as exc:
        errors = getattr(exc, "fields", {})
        response = await _account(
            request,
            user,
            values=await echo(request),
            errors=errors,
            error=None if errors else exc.message,
            status=exc.status,
        )
        if isinstance(exc, Throttled):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    raise web.HTTPFound("/account?recharged=1")


async def _account(
    request: web.Request,
    user: User,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
    saved: bool = False,
) -> web.Response:
    tab = request.query.get("tab", "transactions")
    if tab not in ACCOUNT_TABS:
        tab = "transactions"
    view = await account_view(
        request.app[DB], user.id, before=parse_id(request.query.get("before"))
    )
    context = {
        "active": "account",
        "view": view,
        "tabs": ACCOUNT_TABS,
        "tab": tab,
        "kinds": LEDGER_KINDS,
        "values": values or {},
        "errors": errors or {},
        "error": error,
        "saved": saved,
        # The recharge form stays open while it has something to say.
        "recharging": error is not None or bool(errors) or request.query.get("recharge") == "1",
    }
    return render_page(request, "account.html", context, status=status)
