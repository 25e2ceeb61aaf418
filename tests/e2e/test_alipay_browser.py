"""F12 in Chromium: 支付宝支付 → 前往支付 → the sandbox 收银台 → 确认支付 → 支付成功 → 去学习."""

import re
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import build_course, unpaid_order
from tests.e2e.conftest import new_context, snapshot, watch_for_errors

pytestmark = pytest.mark.browser

Payload = Callable[..., dict[str, Any]]


async def test_pay_an_order_with_alipay(
    browser: Browser,
    portal_url: str,
    database_url: str,
    registration: Payload,
) -> None:
    payload = registration()
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{portal_url}/api/v1/auth/register", json=payload) as response,
    ):
        assert response.status == 201, await response.text()
        learner_id = (await response.json())["user"]["id"]
    course = await build_course(database_url)
    order = await unpaid_order(database_url, learner_id, course)

    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        await page.goto(f"{portal_url}/login")
        await page.get_by_label("用户名").fill(payload["username"])
        await page.get_by_label("密码").fill(payload["password"])
        await page.get_by_role("button", name="登录").click()
        await expect(page).to_have_url(f"{portal_url}/")

        await page.goto(f"{portal_url}/orders/{order.id}/pay")
        await expect(page.get_by_role("heading", name="支付方式选择")).to_be_visible()
        await expect(page.locator(".summary")).to_contain_text(order.out_trade_no)
        submit = page.locator("#pay-submit")
        # Choosing a bank chooses 银行卡支付 and the button reads 确认支付 (F13) …
        await page.get_by_label("工商银行", exact=True).check()
        await expect(page.get_by_label("银行卡支付", exact=True)).to_be_checked()
        await expect(submit).to_have_text("确认支付")
        # … and 支付宝支付 reads 前往支付 (F12).
        await page.get_by_label("支付宝支付", exact=True).check()
        await expect(submit).to_have_text("前往支付")
        await expect(page.get_by_label("工商银行", exact=True)).not_to_be_checked()
        await snapshot(page, "alipay-choose")
        await page.get_by_role("button", name="前往支付").click()

        await expect(page).to_have_url(re.compile(r"/sandbox/gateway\?"))
        await expect(page.get_by_role("heading", name="支付宝收银台")).to_be_visible()
        await expect(page.locator(".summary")).to_contain_text("10.00元")
        await expect(page.locator(".summary")).to_contain_text("测试课程")
        await expect(page.get_by_role("link", name="取消")).to_have_attribute(
            "href", f"{portal_url}/orders/{order.id}/pay"
        )
        await snapshot(page, "alipay-gateway")
        await page.get_by_role("button", name="确认支付").click()

        await expect(page).to_have_url(f"{portal_url}/orders/{order.id}/paid")
        await expect(page.get_by_role("heading", name="支付成功")).to_be_visible()
        await expect(page.get_by_role("link", name="查看订单")).to_have_attribute(
            "href", f"/orders/{order.id}"
        )
        study = page.get_by_role("link", name="去学习")
        await expect(study).to_have_attribute("href", f"/plans/{course.plan_id}")
        await snapshot(page, "alipay-paid")

        await study.click()
        await expect(page).to_have_url(f"{portal_url}/plans/{course.plan_id}")
        await expect(page.locator(f'[data-course="{course.course_id}"]')).to_contain_text(
            "测试课程"
        )
        await snapshot(page, "alipay-study")
    except Exception:
        await snapshot(page, "alipay-failure")
        raise
    finally:
        await context.close()
    assert problems == []
