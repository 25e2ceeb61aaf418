"""JSON API handlers of PROTOCOL.md: authentication, the user, reference data."""

from typing import Any

import msgspec
from aiohttp import web

from engine.accounts import service
from engine.accounts.options import options_payload
from engine.accounts.types import User
from engine.appkeys import DB, LOGIN_SESSIONS, LOGIN_THROTTLE, PROGRESS, SETTINGS
from engine.catalog import service as catalog
from engine.errors import InvalidInput, NotFound
from web.render import json_response
from web.requests import (
    TOKEN,
    clear_session_cookie,
    client_address,
    require_user,
    set_session_cookie,
)

_object_decoder = msgspec.json.Decoder(dict[str, Any])


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; InvalidInput when it is not one."""
    try:
        return _object_decoder.decode(await request.read())
    except msgspec.DecodeError:
        raise InvalidInput({}, "请求内容应为JSON对象") from None


def user_payload(user: User) -> dict[str, Any]:
    return msgspec.to_builtins(user)


async def register(request: web.Request) -> web.Response:
    user = await service.register(request.app[DB], await read_json(request))
    return json_response({"user": user_payload(user)}, status=201)


async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    username, password = body.get("username"), body.get("password")
    user, token = await service.log_in(
        request.app[DB],
        request.app[LOGIN_SESSIONS],
        request.app[LOGIN_THROTTLE],
        username=username if isinstance(username, str) else "",
        password=password if isinstance(password, str) else "",
        address=client_address(request),
        previous_token=request.get(TOKEN),
    )
    response = json_response({"token": token, "user": user_payload(user)})
    set_session_cookie(response, token, request.app[SETTINGS])
    return response


async def logout(request: web.Request) -> web.Response:
    require_user(request)
    await service.log_out(request.app[LOGIN_SESSIONS], request[TOKEN])
    response = json_response({"ok": True})
    clear_session_cookie(response)
    return response


async def me(request: web.Request) -> web.Response:
    return json_response({"user": user_payload(require_user(request))})


async def update_me(request: web.Request) -> web.Response:
    user = await service.update_profile(
        request.app[DB], require_user(request), await read_json(request)
    )
    return json_response({"user": user_payload(user)})


async def change_password(request: web.Request) -> web.Response:
    user = require_user(request)
    body = await read_json(request)
    await service.change_password(
        request.app[DB],
        request.app[LOGIN_SESSIONS],
        user,
        old_password=_text(body, "old_password"),
        new_password=_text(body, "new_password"),
        confirm_password=_text(body, "confirm_password", _text(body, "new_password")),
        current_token=request[TOKEN],
    )
    return json_response({"ok": True})


async def orgs(request: web.Request) -> web.Response:
    return json_response({"orgs": await service.list_orgs(request.app[DB])})


async def options(request: web.Request) -> web.Response:
    return json_response(options_payload())


def _text(body: dict[str, Any], field: str, default: str = "") -> str:
    value = body.get(field, default)
    return value if isinstance(value, str) else ""


async def plans(request: web.Request) -> web.Response:
    user = require_user(request)
    return json_response({"plans": await catalog.list_plans(request.app[DB], user.id)})


async def activate_plan(request: web.Request) -> web.Response:
    user = require_user(request)
    plan = await catalog.activate(request.app[DB], user.id, _path_id(request, "plan_id"))
    return json_response({"plan": plan})


async def plan_courses(request: web.Request) -> web.Response:
    user = require_user(request)
    courses = await catalog.plan_courses(request.app[DB], user.id, _path_id(request, "plan_id"))
    return json_response({"courses": courses})


async def course(request: web.Request) -> web.Response:
    user = require_user(request)
    detail = await request.app[PROGRESS].course_detail(
        request.app[DB], user.id, _path_id(request, "course_id")
    )
    return json_response({"course": detail})


def _path_id(request: web.Request, name: str) -> int:
    value = request.match_info[name]
    if not value.isdigit() or len(value) > 18:
        raise NotFound("页面不存在")
    return int(value)
