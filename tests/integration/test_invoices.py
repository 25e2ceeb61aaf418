"""发票申请 (F29): one application per paid order, for at most what it paid and kept."""

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.catalog import service as catalog
from engine.commerce import orders
from tests.conftest import build_course
from tests.integration.test_cart_orders import credit
from tests.integration.test_refund_revokes import buy
from tests.integration.test_shop_pages import post_form

Payload = Callable[..., dict[str, Any]]
# A real 统一社会信用代码 whose check character holds.
CREDIT_CODE = "9144030071526726XG"


async def log_in(client: TestClient, registration: Payload) -> int:
    """Register through the API, log in through the page; the learner's id."""
    payload = registration()
    registered = await client.post("/api/v1/auth/register", json=payload)
    assert registered.status == 201
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert token is not None
    await client.post(
        "/login",
        data={
            "csrf_token": token.group(1),
            "username": payload["username"],
            "password": payload["password"],
        },
    )
    learner_id: int = (await registered.json())["user"]["id"]
    return learner_id


async def paid_order(client: TestClient, database_url: str, learner_id: int) -> int:
    """A paid order of ¥30.00 (6 学时 at ¥5.00), bought with the balance; its id."""
    course = await build_course(database_url, hour_tenths=60)
    pool = client.app[DB]
    await catalog.activate(pool, learner_id, course.plan_id)
    await credit(database_url, learner_id, 10_000)
    return await buy(pool, learner_id, course.plan_id, course.course_id)


def application(order_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "title": "天津市某某设计研究院",
        "tax_number": CREDIT_CODE,
        "amount": "30.00",
    } | overrides


async def stored(database_url: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch("SELECT * FROM invoice_applications ORDER BY id")
    finally:
        await connection.close()


@pytest.fixture
async def learner(client: TestClient, registration: Payload) -> int:
    return await log_in(client, registration)


async def test_an_application_for_a_paid_order_is_listed_with_its_status(
    client: TestClient, learner: int, database_url: str
) -> None:
    order_id = await paid_order(client, database_url, learner)
    page = await (await client.get("/service")).text()
    assert f'<option value="{order_id}"' in page
    assert "¥30.00" in page
    response = await post_form(client, "/service/invoices", application(order_id, amount="25.5"))
    assert response.status == 302
    html = await (await client.get(response.headers["Location"])).text()
    assert "发票申请已提交" in html
    assert "天津市某某设计研究院" in html
    assert CREDIT_CODE in html
    assert "¥25.50" in html
    assert "待开票，请到服务点领取" in html
    assert f'<option value="{order_id}"' not in html
    [row] = await stored(database_url)
    assert (row["learner_id"], row["order_id"], row["amount_fen"]) == (learner, order_id, 2550)


async def test_a_refund_voids_the_application_in_the_list(
    client: TestClient, learner: int, database_url: str
) -> None:
    order_id = await paid_order(client, database_url, learner)
    assert (await post_form(client, "/service/invoices", application(order_id))).status == 302
    await orders.refund(client.app[DB], order_id)
    html = await (await client.get("/service")).text()
    assert "已作废（订单已退款）" in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "30.01"}, "amount", "开票金额不能超过该订单已支付且未退款的金额30.00元"),
        ({"amount": "0"}, "amount", "开票金额须大于0"),
        ({"amount": "三十元"}, "amount", "开票金额格式不正确"),
        ({"amount": "-5"}, "amount", "开票金额格式不正确"),
        ({"amount": " "}, "amount", "请填写开票金额"),
        ({"title": "  "}, "title", "请填写发票抬头"),
        ({"title": "抬" * 101}, "title", "发票抬头不能超过100个字"),
        ({"tax_number": "9144030071526726XA"}, "tax_number", "纳税人识别号格式不正确"),
        ({"tax_number": "12345"}, "tax_number", "纳税人识别号格式不正确"),
        ({"tax_number": ""}, "tax_number", "请填写纳税人识别号"),
        ({"order_id": ""}, "order_id", "请选择订单"),
        ({"order_id": "x1"}, "order_id", "编号不正确"),
    ],
)
async def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(
    client: TestClient,
    learner: int,
    database_url: str,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    order_id = await paid_order(client, database_url, learner)
    response = await post_form(client, "/service/invoices", application(order_id) | overrides)
    assert response.status == 400
    html = await response.text()
    assert f'<p class="field-error" id="{field}-error">{message}' in html
    assert await stored(database_url) == []


async def test_a_refunded_order_cannot_be_invoiced(
    client: TestClient, learner: int, database_url: str
) -> None:
    order_id = await paid_order(client, database_url, learner)
    await orders.refund(client.app[DB], order_id)
    page = await (await client.get("/service")).text()
    assert f'<option value="{order_id}"' not in page
    response = await post_form(client, "/service/invoices", application(order_id, amount="1"))
    assert response.status == 400
    assert "该订单已退款，不能申请发票" in await response.text()
    assert await stored(database_url) == []


async def test_one_application_per_order(
    client: TestClient, learner: int, database_url: str
) -> None:
    order_id = await paid_order(client, database_url, learner)
    first = await post_form(client, "/service/invoices", application(order_id, amount="10"))
    assert first.status == 302
    second = await post_form(client, "/service/invoices", application(order_id, amount="20"))
    assert second.status == 400
    assert "该订单已申请过发票，每个订单只能申请一次" in await second.text()
    [row] = await stored(database_url)
    assert row["amount_fen"] == 1000


async def test_someone_elses_or_an_unpaid_order_is_refused(
    client: TestClient, database_url: str, registration: Payload
) -> None:
    other = await client.post("/api/v1/auth/register", json=registration())
    theirs = await paid_order(client, database_url, (await other.json())["user"]["id"])
    learner = await log_in(client, registration)
    response = await post_form(client, "/service/invoices", application(theirs))
    assert response.status == 400
    assert '<p class="field-error" id="order_id-error">订单不存在' in await response.text()
    course = await build_course(database_url, hour_tenths=20)
    pool = client.app[DB]
    await catalog.activate(pool, learner, course.plan_id)
    unpaid = await post_form(
        client, "/cart/items", {"plan_id": course.plan_id, "course_id": course.course_id}
    )
    assert unpaid.status == 302
    checkout = await post_form(client, "/cart/checkout", {})
    unpaid_id = int(checkout.headers["Location"].split("/")[2])
    response = await post_form(client, "/service/invoices", application(unpaid_id, amount="1"))
    assert response.status == 400
    assert "只有已支付的订单可以申请发票" in await response.text()
    assert await stored(database_url) == []


async def test_applying_needs_a_login(client: TestClient) -> None:
    page = await client.get("/service")
    assert page.status == 200
    assert "登录</a>后可在线申请发票" in await page.text()
    response = await client.post("/service/invoices", data={}, allow_redirects=False)
    assert response.status in (302, 403)
