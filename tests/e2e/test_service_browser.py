"""Help and service in Chromium: find a policy answer by searching 帮助, then apply for the
invoice of a paid order and see the application listed."""

from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from engine import db
from engine.catalog import service as catalog
from tests.conftest import build_course
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.integration.test_cart_orders import credit
from tests.integration.test_invoices import CREDIT_CODE
from tests.integration.test_refund_revokes import buy

pytestmark = pytest.mark.browser

Payload = Callable[..., dict[str, Any]]


async def test_search_help_then_apply_for_an_invoice(
    browser: Browser, portal_url: str, database_url: str, registration: Payload
) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        payload = registration()
        registered = await context.request.post(f"{portal_url}/api/v1/auth/register", data=payload)
        assert registered.status == 201, await registered.text()
        learner_id = (await registered.json())["user"]["id"]
        course = await build_course(database_url, hour_tenths=60)  # ¥30.00
        pool = await db.create_pool(database_url, min_size=1, max_size=1)
        try:
            await catalog.activate(pool, learner_id, course.plan_id)
            await credit(database_url, learner_id, 5000)
            order_id = await buy(pool, learner_id, course.plan_id, course.course_id)
        finally:
            await pool.close()
        await page.goto(f"{portal_url}/login")
        await page.get_by_label("用户名").fill(payload["username"])
        await page.get_by_label("密码").fill(payload["password"])
        await page.get_by_role("button", name="登录").click()
        await expect(page).to_have_url(f"{portal_url}/")

        await page.get_by_role("link", name="帮助").click()
        await expect(page).to_have_url(f"{portal_url}/help")
        await expect(page.locator("details.question")).to_have_count(21)
        await page.get_by_label("搜索问题").fill("职工工资总额")
        await page.get_by_role("button", name="搜索").click()
        found = page.locator("details.question")
        await expect(found).to_have_count(1)
        await expect(found).to_contain_text(
            "15、参加专业技术人员和管理人员继续教育学习所需费用有何规定？"
        )
        await expect(found.get_by_text("按职工工资总额的1.5%足额提取")).to_be_visible()
        await snapshot(page, "help-search")

        await page.get_by_role("link", name="发票领取和学习卡购买").click()
        await expect(page).to_have_url(f"{portal_url}/service")
        await expect(page.locator(".service-point")).to_have_count(4)
        await expect(page.locator(".service-point").first).to_contain_text("28013599、28013592")
        await page.get_by_label("订单").select_option(str(order_id))
        await page.get_by_label("发票抬头").fill("天津市某某设计研究院")
        await page.get_by_label("纳税人识别号").fill("9144030071526726XA")
        await page.get_by_label("开票金额（元）").fill("31")
        await page.get_by_role("button", name="提交申请").click()
        await expect(page.locator("#tax_number-error")).to_contain_text("纳税人识别号格式不正确")
        await expect(page.locator("#amount-error")).to_have_text(
            "开票金额不能超过该订单已支付且未退款的金额30.00元"
        )
        await expect(page.get_by_label("发票抬头")).to_have_value("天津市某某设计研究院")
        await expect(page.locator("table.invoices")).to_have_count(0)
        await snapshot(page, "invoice-refused")

        await page.get_by_label("纳税人识别号").fill(CREDIT_CODE.lower())
        await page.get_by_label("开票金额（元）").fill("30")
        await page.get_by_role("button", name="提交申请").click()
        await expect(page.locator(".flash")).to_contain_text("发票申请已提交")
        row = page.locator(f'table.invoices tr[data-order="{order_id}"]')
        await expect(row).to_contain_text("天津市某某设计研究院")
        await expect(row).to_contain_text(CREDIT_CODE)
        await expect(row).to_contain_text("¥30.00")
        await expect(row.locator(".invoice-status")).to_have_text("待开票，请到服务点领取")
        await expect(page.get_by_text("暂无可申请发票的订单")).to_be_visible()
        await snapshot(page, "invoice-listed")
        # The refused application was answered 400 (its page shows why), which Chromium logs.
        refused = [p for p in problems if "400" in p and p.endswith("/service/invoices)")]
        assert len(refused) == 1
        assert [p for p in problems if p not in refused] == []
    finally:
        await context.close()
