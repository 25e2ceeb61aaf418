"""JSON API handlers of PROTOCOL.md: authentication, the user, reference data."""

import msgspec
from aiohttp import web

from engine.accounts import service
from engine.accounts.options import options_payload
from engine.appkeys import (
    CARD_THROTTLE,
    CLOCK,
    DB,
    EXAMS,
    LOGIN_SESSIONS,
    LOGIN_THROTTLE,
    PASSWORD_THROTTLE,
    PROGRESS,
    REGISTRATION_THROTTLE,
    SETTINGS,
)
from engine.catalog import service as catalog
from engine.commerce import account as commerce_account
from engine.commerce import cards, orders
from engine.commerce import cart as commerce_cart
from engine.errors import InvalidInput
from web.bodies import (
    CardRedemption,
    CartItemBody,
    Credentials,
    PasswordChange,
    PaymentChoice,
    PersonalDetailsBody,
    RegistrationBody,
)
from web.decoding import parse_date, parse_id, path_id, query_value, read_json
from web.payments import receive_notification, start_payment
from web.render import json_response
from web.replies import (
    AttemptReply,
    BalanceReply,
    CartReply,
    CourseReply,
    CoursesReply,
    ExamsReply,
    LoginReply,
    OkReply,
    OrderReply,
    OrdersReply,
    OrgsReply,
    PlanReply,
    PlansReply,
    TimelineReply,
    UserReply,
)
from web.requests import (
    TOKEN,
    clear_session_cookie,
    client_address,
    now,
    require_user,
    set_session_cookie,
    today,
)


async def register(request: web.Request) -> web.Response:
    body = await read_json(request, RegistrationBody)
    user = await service.register(
        request.app[DB],
        request.app[REGISTRATION_THROTTLE],
        msgspec.structs.asdict(body),
        today(request),
        client_address(request),
    )
    return json_response(UserReply(user), status=201)


async def login(request: web.Request) -> web.Response:
    body = await read_json(request, Credentials)
    user, token = await service.log_in(
        request.app[DB],
        request.app[LOGIN_SESSIONS],
        request.app[LOGIN_THROTTLE],
        username=body.username,
        password=body.password,
        address=client_address(request),
        previous_token=request.get(TOKEN),
    )
    response = json_response(LoginReply(token, user))
    set_session_cookie(response, token, request.app[SETTINGS])
    return response


async def logout(request: web.Request) -> web.Response:
    require_user(request)
    await service.log_out(request.app[LOGIN_SESSIONS], request[TOKEN])
    response = json_response(OkReply())
    clear_session_cookie(response)
    return response


async def me(request: web.Request) -> web.Response:
    return json_response(UserReply(require_user(request)))


async def update_me(request: web.Request) -> web.Response:
    user = require_user(request)
    body = await read_json(request, PersonalDetailsBody)
    user = await service.update_profile(
        request.app[DB], user, msgspec.structs.asdict(body), today(request)
    )
    return json_response(UserReply(user))


async def change_password(request: web.Request) -> web.Response:
    user = require_user(request)
    body = await read_json(request, PasswordChange)
    await service.change_password(
        request.app[DB],
        request.app[LOGIN_SESSIONS],
        request.app[PASSWORD_THROTTLE],
        user,
        old_password=body.old_password,
        new_password=body.new_password,
        confirm_password=(
            body.new_password if body.confirm_password is None else body.confirm_password
        ),
        current_token=request[TOKEN],
    )
    return json_response(OkReply())


async def orgs(request: web.Request) -> web.Response:
    return json_response(OrgsReply(await service.list_orgs(request.app[DB])))


async def options(request: web.Request) -> web.Response:
    return json_response(options_payload())


async def plans(request: web.Request) -> web.Response:
    user = require_user(request)
    return json_response(PlansReply(await catalog.list_plans(request.app[DB], user.id)))


async def activate_plan(request: web.Request) -> web.Response:
    user = require_user(request)
    plan = await catalog.activate(request.app[DB], user.id, path_id(request, "plan_id"))
    return json_response(PlanReply(plan))


async def plan_courses(request: web.Request) -> web.Response:
    user = require_user(request)
    courses = await catalog.plan_courses(
        request.app[DB], user.id, path_id(request, "plan_id"), search=query_value(request, "q")
    )
    return json_response(CoursesReply(courses))


async def course(request: web.Request) -> web.Response:
    user = require_user(request)
    detail = await request.app[PROGRESS].course_detail(
        request.app[DB], user.id, path_id(request, "course_id")
    )
    return json_response(CourseReply(detail))


async def chapter_timeline(request: web.Request) -> web.Response:
    """The learner's own study record (学习记录) of one chapter."""
    user = require_user(request)
    segments = await request.app[PROGRESS].timeline(
        request.app[DB], user.id, path_id(request, "chapter_id")
    )
    return json_response(TimelineReply(segments))


async def exams(request: web.Request) -> web.Response:
    user = require_user(request)
    exams, db = request.app[EXAMS], request.app[DB]
    listed = await exams.list_for(db, user.id, request.app[CLOCK]())
    return json_response(ExamsReply(listed, await exams.unscheduled(db, user.id)))


async def start_attempt(request: web.Request) -> web.Response:
    user = require_user(request)
    attempt = await request.app[EXAMS].start(
        request.app[DB], user.id, path_id(request, "exam_id"), request.app[CLOCK]()
    )
    return json_response(AttemptReply(attempt), status=201)


async def cart(request: web.Request) -> web.Response:
    user = require_user(request)
    return json_response(CartReply(await commerce_cart.get_cart(request.app[DB], user.id)))


async def add_to_cart(request: web.Request) -> web.Response:
    user = require_user(request)
    item = await read_json(request, CartItemBody)
    updated = await commerce_cart.add(
        request.app[DB], user.id, item.plan_id, item.course_id, now(request)
    )
    return json_response(CartReply(updated), status=201)


async def remove_from_cart(request: web.Request) -> web.Response:
    user = require_user(request)
    plan_id = parse_id(query_value(request, "plan_id"))
    if plan_id is None:
        raise InvalidInput({"plan_id": "请指定培训计划"})
    updated = await commerce_cart.remove(
        request.app[DB], user.id, plan_id, path_id(request, "course_id")
    )
    return json_response(CartReply(updated))


async def checkout(request: web.Request) -> web.Response:
    user = require_user(request)
    order = await commerce_cart.checkout(request.app[DB], user.id, now(request))
    return json_response(OrderReply(order), status=201)


async def list_orders(request: web.Request) -> web.Response:
    user = require_user(request)
    found = await orders.list_orders(
        request.app[DB],
        user.id,
        status=query_value(request, "status") or None,
        course=query_value(request, "q") or None,
        since=parse_date(query_value(request, "from"), "from"),
        until=parse_date(query_value(request, "to"), "to"),
    )
    return json_response(OrdersReply(found))


async def get_order(request: web.Request) -> web.Response:
    user = require_user(request)
    order = await orders.get_order(request.app[DB], user.id, path_id(request, "order_id"))
    return json_response(OrderReply(order))


async def delete_order(request: web.Request) -> web.Response:
    user = require_user(request)
    order = await orders.cancel(request.app[DB], user.id, path_id(request, "order_id"))
    return json_response(OrderReply(order))


async def account(request: web.Request) -> web.Response:
    """我的账户: the balance and the newest records; `?before=<id>` pages back."""
    user = require_user(request)
    view = await commerce_account.account_view(
        request.app[DB],
        user.id,
        before=_query_number(request, "before"),
        limit=_query_number(request, "limit") or commerce_account.DEFAULT_LIMIT,
    )
    return json_response(view)


async def recharge(request: web.Request) -> web.Response:
    user = require_user(request)
    card = await read_json(request, CardRedemption)
    balance_fen = await cards.redeem(
        request.app[DB],
        request.app[CARD_THROTTLE],
        user.id,
        card.card_no,
        card.card_password,
        client_address(request),
    )
    return json_response(BalanceReply(balance_fen))


def _query_number(request: web.Request, name: str) -> int | None:
    """An optional positive number in the query string; InvalidInput naming it otherwise."""
    text = query_value(request, name)
    if not text:
        return None
    number = parse_id(text)
    if number is None:
        raise InvalidInput({name: "应为正整数"})
    return number


async def pay_order(request: web.Request) -> web.Response:
    """`{"method": "balance"}` pays at once; alipay and bank answer the gateway's address."""
    user = require_user(request)
    choice = await read_json(request, PaymentChoice)
    started = await start_payment(
        request, user.id, path_id(request, "order_id"), choice.method, choice.bank
    )
    return json_response(started)


async def payment_notify(request: web.Request) -> web.Response:
    """A gateway's signed notification (form-encoded), answered as gateways expect."""
    if await receive_notification(request):
        return web.Response(text="success")
    return web.Response(text="failure", status=400)
