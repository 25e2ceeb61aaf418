"""The buying pages: 全部 with search and 选课, 购物车, 去结算, 我的订单, 试看."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Course, build_course
from tests.integration.test_cart_orders import extra_course

Payload = Callable[..., dict[str, Any]]


async def log_in(client: TestClient, registration: Payload) -> None:
    payload = registration()
    assert (await client.post("/api/v1/auth/register", json=payload)).status == 201
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


async def post_form(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    """Post `data` with the CSRF token the learner's pages carry (bound to the session)."""
    page = await client.get("/settings/password")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert token is not None
    return await client.post(
        path, data={"csrf_token": token.group(1), **data}, allow_redirects=False
    )


@pytest.fixture
async def plan(client: TestClient, registration: Payload, database_url: str) -> Course:
    course = await build_course(database_url, hour_tenths=20)
    await extra_course(database_url, course.plan_id, "人工智能与大数据应用", 15)
    await log_in(client, registration)
    await post_form(client, f"/plans/{course.plan_id}/activate", {})
    return course


async def test_all_tab_lists_electives_with_search_and_a_confirmed_choice(
    client: TestClient, plan: Course
) -> None:
    html = await (await client.get(f"/plans/{plan.plan_id}?tab=all")).text()
    assert "测试课程" in html
    assert "人工智能与大数据应用" in html
    assert 'class="confirm" method="post" action="/cart/items"' in html
    assert "¥10.00" in html
    assert "¥7.50" in html
    assert f'href="/courses/{plan.course_id}/preview?plan={plan.plan_id}"' in html
    found = await (await client.get(f"/plans/{plan.plan_id}?tab=all&q=大数据")).text()
    assert "人工智能与大数据应用" in found
    assert "测试课程" not in found
    none = await (await client.get(f"/plans/{plan.plan_id}?tab=all&q=量子")).text()
    assert "没有找到符合条件的课程" in none


async def test_choose_checkout_and_see_the_order(client: TestClient, plan: Course) -> None:
    chosen = await post_form(
        client, "/cart/items", {"plan_id": plan.plan_id, "course_id": plan.course_id}
    )
    assert chosen.status == 302
    back = await client.get(chosen.headers["Location"])
    html = await back.text()
    assert "已加入购物车" in html
    assert '<span class="cart-count">1</span>' in html
    assert "已在购物车" in html
    again = await post_form(
        client, "/cart/items", {"plan_id": plan.plan_id, "course_id": plan.course_id}
    )
    assert "这门课程已在购物车中" in await (await client.get(again.headers["Location"])).text()
    cart = await (await client.get("/cart")).text()
    assert "测试课程" in cart
    assert "合计" in cart
    assert "去结算" in cart
    checkout = await post_form(client, "/cart/checkout", {})
    assert checkout.status == 302
    order_id = int(re.fullmatch(r"/orders/(\d+)/pay", checkout.headers["Location"]).group(1))
    orders = await (await client.get("/orders")).text()
    assert "待支付" in orders
    assert "¥10.00" in orders
    assert "去支付" in orders
    detail = await (await client.get(f"/orders/{order_id}")).text()
    assert "订单详情" in detail
    assert "测试课程" in detail
    filtered = await (await client.get("/orders?status=paid")).text()
    assert "没有符合条件的订单" in filtered
    bad = await client.get("/orders?from=someday")
    assert bad.status == 400
    assert "日期格式应为年-月-日" in await bad.text()
    deleted = await post_form(client, f"/orders/{order_id}/delete", {})
    assert deleted.headers["Location"] == "/orders"
    assert "已取消" in await (await client.get("/orders")).text()


async def test_empty_cart_checkout_says_so(client: TestClient, plan: Course) -> None:
    response = await post_form(client, "/cart/checkout", {})
    assert response.headers["Location"] == "/cart"
    assert "购物车是空的，请先选课" in await (await client.get("/cart")).text()


async def test_preview_shows_the_first_minutes_without_a_socket(
    client: TestClient, plan: Course
) -> None:
    html = await (await client.get(f"/courses/{plan.course_id}/preview?plan={plan.plan_id}")).text()
    assert 'data-limit="180"' in html
    assert "/static/js/preview.js" in html
    assert "player.js" not in html
    assert "试看不记录学习进度" in html


async def test_buying_pages_need_a_login(client: TestClient) -> None:
    for path in ("/cart", "/orders", "/orders/1"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"].startswith("/login?next=")
