"""Gateway payments (F12, F13) against the real servers, through the built-in sandbox gateway."""

import asyncio
import base64
import html
import re
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import asyncpg
import msgspec
import pytest
from aiohttp.test_utils import TestClient, unused_port
from cryptography.hazmat.primitives.asymmetric import rsa
from structlog.testing import capture_logs

from engine.appkeys import GATEWAY, SANDBOX
from engine.clock import Clock
from engine.commerce import balance, signing
from engine.commerce.money import plain_yuan
from engine.commerce.sandbox import Checkout, Sandbox
from engine.commerce.types import Order
from engine.settings import Settings
from tests.conftest import Course, Learner, build_course, origin_of, unpaid_order
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]
HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


class Buyer:
    """A learner logged in by the login form (cookie session), with an unpaid order."""

    def __init__(self, learner: Learner, order: Order, course: Course) -> None:
        self.learner = learner
        self.order = order
        self.course = course


async def csrf_token(client: TestClient, path: str) -> str:
    page = await client.get(path)
    assert page.status == 200, await page.text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert match is not None
    return match.group(1)


async def register(client: TestClient, registration: Payload) -> tuple[Learner, dict[str, Any]]:
    payload = registration()
    response = await client.post("/api/v1/auth/register", json=payload, headers=origin_of(client))
    assert response.status == 201, await response.text()
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": payload["username"], "password": payload["password"]},
        headers=origin_of(client),
    )
    body = await login.json()
    client.session.cookie_jar.clear()
    return Learner(body["user"]["id"], body["token"]), payload


async def log_in_by_form(client: TestClient, payload: dict[str, Any]) -> None:
    token = await csrf_token(client, "/login")
    form = {"csrf_token": token, "username": payload["username"], "password": payload["password"]}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.status == 302


@pytest.fixture
async def client(
    settings: Settings, clock: Clock, aiohttp_client: Any
) -> AsyncIterator[TestClient]:
    """The portal at an address known before it starts: outside development, payments need
    JIXU_PUBLIC_URL."""
    port = unused_port()
    public = msgspec.structs.replace(settings, public_url=f"http://127.0.0.1:{port}")
    portal = await aiohttp_client(create_portal(public, clock=clock), server_kwargs={"port": port})
    yield portal
    await portal.close()


@pytest.fixture
async def buyer(client: TestClient, registration: Payload, database_url: str) -> Buyer:
    learner, payload = await register(client, registration)
    course = await build_course(database_url)
    order = await unpaid_order(database_url, learner.id, course)
    await log_in_by_form(client, payload)
    return Buyer(learner, order, course)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


def sandbox_of(client: TestClient) -> Sandbox:
    sandbox = client.server.app[SANDBOX]
    assert sandbox is not None
    return sandbox


def local(url: str) -> str:
    """The path and query of one of the test server's absolute URLs."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN_FIELD.findall(page)}


async def order_state(db: asyncpg.Connection, order_id: int) -> asyncpg.Record:
    row = await db.fetchrow(
        """SELECT o.status, o.method, o.bank, o.paid_at,
                  (SELECT count(*) FROM payments p WHERE p.order_id = o.id) AS payments,
                  (SELECT count(*) FROM ledger l WHERE l.order_id = o.id) AS ledger
           FROM orders o WHERE o.id = $1""",
        order_id,
    )
    assert row is not None
    return row


def notification(client: TestClient, order: Order, **changes: str) -> dict[str, str]:
    """The sandbox's signed notification of the order's payment, re-signed after `changes`."""
    sandbox = sandbox_of(client)
    checkout = Checkout(
        out_trade_no=order.out_trade_no,
        subject=order.items[0].title,
        total_amount=plain_yuan(order.amount_fen),
        bank=None,
        notify_url="",
        return_url="",
        quit_url=None,
        passback_params=None,
    )
    params = sandbox.notification(checkout, sandbox.trade_no(order.out_trade_no))
    if changes:
        params = sandbox.sign({**params, **changes})
    return params


async def notify(
    client: TestClient, params: dict[str, str], provider: str = "alipay"
) -> tuple[int, str]:
    """POST as the gateway does: form-encoded, from a client of its own without cookies."""
    async with (
        aiohttp.ClientSession() as gateway,
        gateway.post(
            client.make_url(f"/api/v1/payments/{provider}/notify"), data=params
        ) as response,
    ):
        return response.status, await response.text()


async def go_to_gateway(
    client: TestClient, buyer: Buyer, method: str, bank: str | None = None
) -> str:
    """Choose the method on 支付方式选择 and submit; the gateway page's HTML."""
    path = f"/orders/{buyer.order.id}/pay"
    form = {"csrf_token": await csrf_token(client, path), "method": method}
    if bank:
        form["bank"] = bank
    response = await client.post(path, data=form, allow_redirects=False)
    assert response.status == 302, await response.text()
    location = response.headers["Location"]
    assert location.startswith(f"{client.make_url('/sandbox/gateway')}?")
    page = await client.get(local(location))
    assert page.status == 200, await page.text()
    return await page.text()


async def confirm(client: TestClient, gateway_page: str) -> str:
    """确认支付 on the gateway page; where the gateway sends the browser back."""
    response = await client.post(
        "/sandbox/gateway", data=hidden_fields(gateway_page), allow_redirects=False
    )
    assert response.status == 302, await response.text()
    location = response.headers["Location"]
    assert location.startswith(f"{client.make_url('/payments/return')}?")
    return location


async def test_pay_page_offers_the_three_methods_and_six_banks(
    client: TestClient, buyer: Buyer
) -> None:
    page = await (await client.get(f"/orders/{buyer.order.id}/pay")).text()
    for words in ("支付方式选择", "支付宝支付", "银行卡支付", "余额支付", "前往支付", "账户余额", "0.00元",
                  "中国银行", "工商银行", "中国建设银行", "中国农业银行", "交通银行", "招商银行",
                  buyer.order.out_trade_no, "10.00元"):  # fmt: skip
        assert words in page, words


async def test_sandbox_round_trip_over_http(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    order = buyer.order
    page = await go_to_gateway(client, buyer, "alipay")
    for words in ("支付宝收银台", "测试课程", order.out_trade_no, "10.00元", "确认支付", "取消"):
        assert words in page, words
    assert f'href="{client.make_url(f"/orders/{order.id}/pay")}"' in page  # 取消
    assert (await order_state(db, order.id))["status"] == "unpaid"

    back = await confirm(client, page)
    # The notification arrived before the browser was sent back.
    state = await order_state(db, order.id)
    assert (state["status"], state["method"], state["bank"], state["payments"]) == (
        "paid",
        "alipay",
        None,
        1,
    )
    returned = dict(parse_qsl(urlsplit(back).query))
    payment = await db.fetchrow("SELECT * FROM payments WHERE order_id = $1", order.id)
    assert (payment["provider"], payment["external_id"], payment["amount_fen"]) == (
        "alipay",
        returned["trade_no"],
        order.amount_fen,
    )
    assert msgspec.json.decode(payment["payload"])["trade_status"] == "TRADE_SUCCESS"
    selected = await db.fetchval(
        "SELECT source FROM selections WHERE learner_id = $1 AND course_id = $2",
        buyer.learner.id,
        buyer.course.course_id,
    )
    assert selected == "purchase"

    response = await client.get(local(back), allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"/orders/{order.id}/paid"
    success = await (await client.get(response.headers["Location"])).text()
    assert "支付成功" in success
    assert f'<a class="button" href="/orders/{order.id}">查看订单</a>' in success
    assert f'<a class="button primary" href="/plans/{buyer.course.plan_id}">去学习</a>' in success
    assert "支付宝支付" in success


async def test_bank_round_trip_records_the_bank(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    response = await client.post(
        f"/api/v1/orders/{buyer.order.id}/pay",
        json={"method": "bank", "bank": "icbc"},
        headers=buyer.learner.headers,
    )
    assert response.status == 200
    (redirect,) = (await response.json()).values()
    page = await (await client.get(local(redirect))).text()
    assert "工商银行网上银行收银台" in page
    assert "付款银行" in page
    back = await confirm(client, page)
    state = await order_state(db, buyer.order.id)
    assert (state["status"], state["method"], state["bank"]) == ("paid", "bank", "icbc")
    success = await (await client.get(local(back))).text()
    assert "支付成功" in success
    assert "银行卡支付（工商银行）" in success


async def test_bank_without_a_bank_is_asked_for_one(client: TestClient, buyer: Buyer) -> None:
    path = f"/orders/{buyer.order.id}/pay"
    form = {"csrf_token": await csrf_token(client, path), "method": "bank"}
    response = await client.post(path, data=form, allow_redirects=False)
    assert response.status == 400
    assert "请选择银行" in await response.text()


async def test_api_answers_redirect_or_order(
    client: TestClient, buyer: Buyer, database_url: str, db: asyncpg.Connection
) -> None:
    url = f"/api/v1/orders/{buyer.order.id}/pay"
    headers = buyer.learner.headers
    alipay = await client.post(url, json={"method": "alipay"}, headers=headers)
    assert (await alipay.json())["redirect"].startswith(str(client.make_url("/sandbox/gateway?")))
    short = await client.post(url, json={"method": "balance"}, headers=headers)
    assert short.status == 422
    assert (await short.json())["error"]["code"] == "insufficient_balance"
    async with db.transaction():
        card_id = await db.fetchval(
            """WITH batch AS (INSERT INTO card_batches (name, card_count, value_fen)
                              VALUES ('test', 1, 5000) RETURNING id)
               INSERT INTO study_cards (card_no, password_hash, value_fen, batch_id, status,
                                        used_by, used_at)
               SELECT 'T1', 'x', 5000, id, 'used', $1, now() FROM batch RETURNING id""",
            buyer.learner.id,
        )
        await balance.move(db, buyer.learner.id, 5000, "recharge", card_id=card_id)
    paid = await client.post(url, json={"method": "balance"}, headers=headers)
    assert paid.status == 200
    assert (await paid.json())["order"]["status"] == "paid"
    again = await client.post(url, json={"method": "alipay"}, headers=headers)
    assert again.status == 409


async def test_repeated_and_concurrent_notifications_change_nothing_twice(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    params = notification(client, buyer.order)
    answers = await asyncio.gather(*(notify(client, params) for _ in range(10)))
    assert answers == [(200, "success")] * 10
    first = await order_state(db, buyer.order.id)
    assert (first["status"], first["payments"]) == ("paid", 1)
    enrolled = await db.fetchval(
        "SELECT count(*) FROM selections WHERE learner_id = $1", buyer.learner.id
    )

    await asyncio.sleep(0.05)
    assert await notify(client, params) == (200, "success")
    # The gateway's retry carries a new notify_id and time, signed again: still the same trade.
    assert await notify(client, notification(client, buyer.order, notify_id="retry")) == (
        200,
        "success",
    )
    later = await order_state(db, buyer.order.id)
    assert later == first
    assert await db.fetchval("SELECT count(*) FROM payments") == 1
    assert (
        await db.fetchval("SELECT count(*) FROM selections WHERE learner_id = $1", buyer.learner.id)
        == enrolled
    )


def tamper(client: TestClient, order: Order, case: str) -> dict[str, str]:
    if case == "bad_signature":
        params = notification(client, order)
        signature = bytearray(base64.b64decode(params["sign"]))
        signature[0] ^= 1
        return {**params, "sign": base64.b64encode(bytes(signature)).decode()}
    if case == "foreign_key":
        params = notification(client, order)
        return signing.signed(
            params, rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
    if case == "amount_changed":
        return notification(client, order, total_amount=plain_yuan(order.amount_fen - 1))
    if case == "amount_in_cents":
        return notification(client, order, total_amount=str(order.amount_fen))
    if case == "wrong_app_id":
        return notification(client, order, app_id="2021000000009999")
    if case == "wrong_seller_id":
        return notification(client, order, seller_id="2088000000009999")
    if case == "unknown_out_trade_no":
        return notification(client, order, out_trade_no=order.out_trade_no + "X")
    if case == "modified_after_signing":
        return {**notification(client, order), "total_amount": plain_yuan(order.amount_fen * 2)}
    if case == "field_added_after_signing":
        return {**notification(client, order), "refund_fee": "10.00"}
    if case == "sign_type_rsa":
        return {**notification(client, order), "sign_type": "RSA"}
    raise AssertionError(case)


REFUSALS = {
    "bad_signature": "bad_signature",
    "foreign_key": "bad_signature",
    "amount_changed": "amount_mismatch",
    "amount_in_cents": "amount_mismatch",
    "wrong_app_id": "wrong_app_id",
    "wrong_seller_id": "wrong_seller_id",
    "unknown_out_trade_no": "unknown_order",
    "modified_after_signing": "bad_signature",
    "field_added_after_signing": "bad_signature",
    "sign_type_rsa": "bad_signature",
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_tampered_notification_changes_nothing_and_is_logged(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection, case: str
) -> None:
    before = await order_state(db, buyer.order.id)
    with capture_logs() as logs:
        assert await notify(client, tamper(client, buyer.order, case)) == (400, "failure")
    assert await order_state(db, buyer.order.id) == before
    assert before["status"] == "unpaid"
    assert await db.fetchval("SELECT count(*) FROM payments") == 0
    refusals = [entry for entry in logs if entry["event"] == "payment notification refused"]
    assert [entry["reason"] for entry in refusals] == [REFUSALS[case]]
    # The genuine notification still works afterwards.
    assert await notify(client, notification(client, buyer.order)) == (200, "success")


async def test_notification_to_an_unknown_provider_or_malformed_is_refused(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    params = notification(client, buyer.order)
    assert await notify(client, params, provider="wechat") == (400, "failure")
    async with (
        aiohttp.ClientSession() as gateway,
        gateway.post(
            client.make_url("/api/v1/payments/alipay/notify"),
            data=[*params.items(), ("total_amount", "0.01")],
        ) as response,
    ):
        assert (response.status, await response.text()) == (400, "failure")
    assert (await order_state(db, buyer.order.id))["status"] == "unpaid"


async def test_an_unpaid_trade_status_is_acknowledged_without_change(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    params = notification(client, buyer.order, trade_status="WAIT_BUYER_PAY")
    assert await notify(client, params) == (200, "success")
    state = await order_state(db, buyer.order.id)
    assert (state["status"], state["payments"]) == ("unpaid", 0)


async def test_reloading_the_return_does_nothing_twice(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    back = await confirm(client, await go_to_gateway(client, buyer, "alipay"))
    paid = await order_state(db, buyer.order.id)
    for _ in range(3):
        response = await client.get(local(back))
        assert response.status == 200
        assert "支付成功" in await response.text()
    assert await order_state(db, buyer.order.id) == paid
    assert paid["payments"] == 1
    assert paid["ledger"] == 0


async def test_paying_twice_at_the_gateway_is_one_trade(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    page = await go_to_gateway(client, buyer, "alipay")
    first = await confirm(client, page)
    paid = await order_state(db, buyer.order.id)
    second = await confirm(client, page)
    assert (
        dict(parse_qsl(urlsplit(first).query))["trade_no"]
        == dict(parse_qsl(urlsplit(second).query))["trade_no"]
    )
    assert await order_state(db, buyer.order.id) == paid


async def test_return_before_the_notification_says_processing(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    sandbox = sandbox_of(client)
    returned = sandbox.sign(
        {
            "app_id": sandbox.app_id,
            "seller_id": sandbox.seller_id,
            "method": "alipay.trade.page.pay.return",
            "out_trade_no": buyer.order.out_trade_no,
            "trade_no": sandbox.trade_no(buyer.order.out_trade_no),
            "total_amount": plain_yuan(buyer.order.amount_fen),
        }
    )
    response = await client.get("/payments/return", params=returned)
    page = await response.text()
    assert "支付处理中" in page
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "支付成功" not in page
    assert (await order_state(db, buyer.order.id))["status"] == "unpaid"
    forged = await client.get("/payments/return", params={**returned, "total_amount": "0.01"})
    assert forged.status == 400
    assert "支付结果校验失败" in await forged.text()


async def test_the_gateway_checks_our_signature(client: TestClient, buyer: Buyer) -> None:
    response = await client.post(
        f"/api/v1/orders/{buyer.order.id}/pay",
        json={"method": "alipay"},
        headers=buyer.learner.headers,
    )
    params = dict(parse_qsl(urlsplit((await response.json())["redirect"]).query))
    business = msgspec.json.decode(params["biz_content"])
    cheaper = {
        **params,
        "biz_content": msgspec.json.encode({**business, "total_amount": "0.01"}).decode(),
    }
    page = await client.get("/sandbox/gateway", params=cheaper)
    assert page.status == 400
    assert "支付请求签名错误" in await page.text()


async def test_another_learners_order_cannot_be_paid(
    client: TestClient, buyer: Buyer, registration: Payload
) -> None:
    other, _ = await register(client, registration)
    for method in ({"method": "alipay"}, {"method": "bank", "bank": "boc"}, {"method": "balance"}):
        response = await client.post(
            f"/api/v1/orders/{buyer.order.id}/pay", json=method, headers=other.headers
        )
        assert response.status == 404
    client.session.cookie_jar.clear()
    response = await client.get(f"/orders/{buyer.order.id}/pay", headers=other.headers)
    assert response.status == 404


async def test_without_a_gateway_online_payment_is_off(
    settings: Settings, aiohttp_client: Any, registration: Payload, database_url: str
) -> None:
    portal = create_portal(msgspec.structs.replace(settings, sandbox_gateway=False))
    client = await aiohttp_client(portal)
    try:
        assert client.server.app[GATEWAY] is None
        learner, _ = await register(client, registration)
        order = await unpaid_order(database_url, learner.id, await build_course(database_url))
        response = await client.post(
            f"/api/v1/orders/{order.id}/pay", json={"method": "alipay"}, headers=learner.headers
        )
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "gateway_unavailable"
        assert (await client.get("/sandbox/gateway")).status == 404
        status, text = await notify(client, {"out_trade_no": order.out_trade_no})
        assert (status, text) == (400, "failure")
    finally:
        await client.close()


async def test_money_for_an_order_paid_otherwise_is_acknowledged_and_reported(
    client: TestClient, buyer: Buyer, db: asyncpg.Connection
) -> None:
    await db.execute(
        "UPDATE orders SET status = 'cancelled', closed_at = now() WHERE id = $1", buyer.order.id
    )
    before = await order_state(db, buyer.order.id)
    with capture_logs() as logs:
        assert await notify(client, notification(client, buyer.order)) == (200, "success")
    assert await order_state(db, buyer.order.id) == before
    assert [entry["log_level"] for entry in logs if entry["event"].startswith("payment for")] == [
        "error"
    ]


async def test_a_lost_notification_leaves_the_return_page_processing(
    settings: Settings, aiohttp_client: Any, registration: Payload, database_url: str
) -> None:
    """The gateway cannot reach us: the browser comes back to 支付处理中 until it can."""
    closed_port = "http://127.0.0.1:9"
    client = await aiohttp_client(
        create_portal(msgspec.structs.replace(settings, public_url=closed_port))
    )
    try:
        learner, payload = await register(client, registration)
        course = await build_course(database_url)
        order = await unpaid_order(database_url, learner.id, course)
        await log_in_by_form(client, payload)
        buyer = Buyer(learner, order, course)
        path = f"/orders/{order.id}/pay"
        form = {"csrf_token": await csrf_token(client, path), "method": "alipay"}
        response = await client.post(path, data=form, allow_redirects=False)
        assert response.headers["Location"].startswith(f"{closed_port}/sandbox/gateway?")
        page = await (await client.get(local(response.headers["Location"]))).text()
        with capture_logs() as logs:
            gone = await client.post(
                "/sandbox/gateway", data=hidden_fields(page), allow_redirects=False
            )
        assert gone.headers["Location"].startswith(f"{closed_port}/payments/return?")
        attempts = [entry for entry in logs if entry["event"] == "sandbox notification failed"]
        assert len(attempts) == 3
        waiting = await client.get(local(gone.headers["Location"]))
        assert "支付处理中" in await waiting.text()

        # The gateway's later retry gets through.
        assert await notify(client, notification(client, buyer.order)) == (200, "success")
        paid = await client.get(f"/orders/{order.id}/paid")
        assert "支付成功" in await paid.text()
    finally:
        await client.close()


async def pay_by_api_as(
    client: TestClient, registration: Payload, database_url: str, host: str
) -> aiohttp.ClientResponse:
    """The API's answer to paying an unpaid order by 支付宝, sent with the given Host header."""
    learner, _ = await register(client, registration)
    order = await unpaid_order(database_url, learner.id, await build_course(database_url))
    return await client.post(
        f"/api/v1/orders/{order.id}/pay",
        json={"method": "alipay"},
        headers={**learner.headers, "Host": host},
    )


@pytest.mark.parametrize("env", ["test", "production"])
async def test_a_forged_host_never_reaches_the_signed_urls(
    settings: Settings, aiohttp_client: Any, registration: Payload, database_url: str, env: str
) -> None:
    """Without JIXU_PUBLIC_URL, outside development, no gateway URL is built at all."""
    portal = create_portal(msgspec.structs.replace(settings, env=env, sandbox_gateway=True))
    client = await aiohttp_client(portal)
    try:
        response = await pay_by_api_as(client, registration, database_url, "evil.example")
        assert "evil.example" not in await response.text()
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "gateway_unavailable"
    finally:
        await client.close()


async def test_development_builds_urls_only_from_its_own_loopback_address(
    settings: Settings, aiohttp_client: Any, registration: Payload, database_url: str
) -> None:
    client = await aiohttp_client(
        create_portal(msgspec.structs.replace(settings, env="development"))
    )
    try:
        for forged in ("evil.example", f"evil.example:{client.port}", "127.0.0.1:6379"):
            response = await pay_by_api_as(client, registration, database_url, forged)
            assert response.status == 503, forged
        own = f"127.0.0.1:{client.port}"
        response = await pay_by_api_as(client, registration, database_url, own)
        assert response.status == 200
        params = dict(parse_qsl(urlsplit((await response.json())["redirect"]).query))
        assert params["notify_url"] == f"http://{own}/api/v1/payments/alipay/notify"
    finally:
        await client.close()
