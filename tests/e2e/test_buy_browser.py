"""Buying electives in Chromium: 去激活 → 选课 → 购物车 → 去结算 → 余额支付 or 支付宝支付 → 支付成功."""

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from engine import db
from engine.commerce import cards
from tests.conftest import build_course
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.integration.test_cart_orders import extra_course

pytestmark = pytest.mark.browser

Payload = Callable[..., dict[str, Any]]


async def elective(database_url: str, plan_id: int, title: str, hour_tenths: int) -> int:
    """An extra elective of the plan with one chapter, as catalogue courses have."""
    course_id = await extra_course(database_url, plan_id, title, hour_tenths)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            """INSERT INTO chapters (course_id, position, title, media, duration_s)
               VALUES ($1, 1, '第1节', 'demo/clip1.mp4', 60)""",
            course_id,
        )
    finally:
        await connection.close()
    return course_id


async def register_and_log_in(
    context: BrowserContext, page: Page, portal_url: str, registration: Payload
) -> None:
    """Register through the API, then log in through the /login page."""
    payload = registration()
    registered = await context.request.post(f"{portal_url}/api/v1/auth/register", data=payload)
    assert registered.status == 201, await registered.text()
    await page.goto(f"{portal_url}/login")
    await page.get_by_label("用户名").fill(payload["username"])
    await page.get_by_label("密码").fill(payload["password"])
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{portal_url}/")


async def activate(page: Page, portal_url: str, plan_id: int, shot: str) -> None:
    """我的课程 → 去激活 → 确定: the plan's page, 学习中."""
    await page.goto(f"{portal_url}/plans")
    plan = page.locator(f'[data-plan="{plan_id}"]')
    await expect(plan).to_contain_text("待激活")
    await plan.get_by_role("button", name="去激活").click()
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("确定激活“测试计划”吗？")
    await snapshot(page, shot)
    await dialog.get_by_role("button", name="确定").click()
    await expect(page).to_have_url(f"{portal_url}/plans/{plan_id}")
    await expect(page.locator("main h1")).to_contain_text("学习中")


async def choose(page: Page, portal_url: str, plan_id: int, course_id: int, title: str) -> None:
    """全部 → 选课 → 确定: back on 全部 with 已加入购物车, the course now 已在购物车."""
    await page.get_by_role("link", name="全部", exact=True).click()
    await expect(page).to_have_url(f"{portal_url}/plans/{plan_id}?tab=all")
    course = page.locator(f'[data-course="{course_id}"]')
    await expect(course).to_contain_text(title)
    await course.get_by_role("button", name="选课").click()
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator(".confirm-title")).to_have_text("选课")
    await expect(dialog).to_contain_text(f"确定选择“{title}”")
    await dialog.get_by_role("button", name="确定").click()
    await expect(page.locator(".flash")).to_have_text("已加入购物车")
    await expect(page).to_have_url(f"{portal_url}/plans/{plan_id}?tab=all")
    await expect(course.get_by_role("link", name="已在购物车")).to_have_attribute("href", "/cart")


async def check_out(page: Page, portal_url: str) -> int:
    """购物车 → 去结算: the order's 支付方式选择; return the order's id."""
    await page.get_by_role("button", name="去结算").click()
    await expect(page).to_have_url(re.compile(rf"^{re.escape(portal_url)}/orders/\d+/pay$"))
    await expect(page.get_by_role("heading", name="支付方式选择")).to_be_visible()
    await expect(page.locator(".cart-count")).to_have_text("0")
    match = re.search(r"/orders/(\d+)/pay$", page.url)
    assert match is not None
    return int(match.group(1))


async def test_buy_two_electives_with_balance(
    browser: Browser,
    portal_url: str,
    database_url: str,
    registration: Payload,
) -> None:
    course = await build_course(database_url)  # 测试课程, an elective of 2 学时: ¥10.00
    economy = await elective(database_url, course.plan_id, "数字经济概论", 15)  # ¥7.50
    ai = await elective(database_url, course.plan_id, "人工智能导论", 30)  # ¥15.00
    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        await register_and_log_in(context, page, portal_url, registration)
        await activate(page, portal_url, course.plan_id, "buy-activate-dialog")
        await expect(page.locator(".cart-count")).to_have_text("0")

        await choose(page, portal_url, course.plan_id, economy, "数字经济概论")
        await expect(page.locator(".cart-count")).to_have_text("1")
        await choose(page, portal_url, course.plan_id, ai, "人工智能导论")
        await expect(page.locator(".cart-count")).to_have_text("2")
        # The one not chosen still offers 选课.
        others = page.locator(f'[data-course="{course.course_id}"]')
        await expect(others.get_by_role("button", name="选课")).to_be_visible()
        await snapshot(page, "buy-chosen")

        await page.locator(".cart-link").click()
        await expect(page).to_have_url(f"{portal_url}/cart")
        rows = page.locator("table tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_contain_text("数字经济概论")
        await expect(rows.nth(0)).to_contain_text("¥7.50")
        await expect(rows.nth(1)).to_contain_text("人工智能导论")
        await expect(rows.nth(1)).to_contain_text("¥15.00")
        await expect(page.locator(".cart-total")).to_contain_text("共 2 门课程，合计 ¥22.50")
        await snapshot(page, "buy-cart")
        order_id = await check_out(page, portal_url)
        summary = page.locator(".summary")
        await expect(summary).to_contain_text("数字经济概论、人工智能导论")
        await expect(summary).to_contain_text("22.50元")
        await expect(page.locator("#balance")).to_contain_text("0.00元")
        await snapshot(page, "buy-pay-empty")

        # A study card worth ¥50.00, sold offline.
        pool = await db.create_pool(database_url, min_size=1, max_size=1)
        try:
            [(card_no, password)] = await cards.generate(pool, 1, 5000, "e2e")
        finally:
            await pool.close()

        await page.get_by_role("link", name="我的账户").click()
        await expect(page).to_have_url(f"{portal_url}/account")
        await expect(page.locator("#balance")).to_have_text("¥0.00")
        recharge = page.locator("#recharge")
        await recharge.locator("summary").click()
        await page.get_by_label("学习卡卡号").fill(card_no)
        await page.get_by_label("学习卡密码").fill(password)
        await snapshot(page, "buy-recharge")
        await recharge.get_by_role("button", name="充值").click()
        await expect(page).to_have_url(f"{portal_url}/account?recharged=1")
        await expect(page.get_by_role("status")).to_have_text("充值成功")
        await expect(page.locator("#balance")).to_have_text("¥50.00")
        await expect(page.locator('tr[data-kind="recharge"]')).to_contain_text("+¥50.00")
        await snapshot(page, "buy-recharged")

        await page.get_by_role("link", name="我的订单").click()
        await expect(page).to_have_url(f"{portal_url}/orders")
        row = page.locator("table tbody tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("待支付")
        await row.get_by_role("link", name="去支付").click()
        await expect(page).to_have_url(f"{portal_url}/orders/{order_id}/pay")
        await expect(page.locator("#balance")).to_contain_text("50.00元")
        await page.get_by_label("余额支付", exact=True).check()
        submit = page.locator("#pay-submit")
        await expect(submit).to_have_text("确认支付")
        await snapshot(page, "buy-pay-balance")
        await submit.click()

        await expect(page).to_have_url(f"{portal_url}/orders/{order_id}/paid")
        await expect(page.get_by_role("heading", name="支付成功")).to_be_visible()
        paid = page.locator(".summary")
        await expect(paid).to_contain_text("22.50元")
        await expect(paid).to_contain_text("余额支付")
        await expect(page.get_by_role("link", name="查看订单")).to_have_attribute(
            "href", f"/orders/{order_id}"
        )
        study = page.get_by_role("link", name="去学习")
        await expect(study).to_have_attribute("href", f"/plans/{course.plan_id}")
        await snapshot(page, "buy-paid")

        await study.click()
        await expect(page).to_have_url(f"{portal_url}/plans/{course.plan_id}")
        await expect(page.get_by_role("link", name="已选课程")).to_have_attribute(
            "aria-current", "page"
        )
        chosen = page.locator(".course-item")
        await expect(chosen).to_have_count(2)
        for course_id, title in ((economy, "数字经济概论"), (ai, "人工智能导论")):
            item = page.locator(f'[data-course="{course_id}"]')
            await expect(item).to_contain_text(title)
            await expect(item.locator(".percent")).to_have_text("0%")
            await expect(item.get_by_role("link", name="学习课程")).to_have_attribute(
                "href", f"/courses/{course_id}"
            )
        await expect(page.locator(".hours")).to_contain_text("已选学时4.5学时")
        await snapshot(page, "buy-study")

        # What is left of the card.
        await page.get_by_role("link", name="我的账户").click()
        await expect(page.locator("#balance")).to_have_text("¥27.50")
    except Exception:
        await snapshot(page, "buy-failure")
        raise
    finally:
        await context.close()
    assert problems == []


async def test_buy_an_elective_through_the_gateway(
    browser: Browser,
    portal_url: str,
    database_url: str,
    registration: Payload,
) -> None:
    course = await build_course(database_url)
    economy = await elective(database_url, course.plan_id, "数字经济概论", 15)  # ¥7.50
    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        await register_and_log_in(context, page, portal_url, registration)
        await activate(page, portal_url, course.plan_id, "buy-gateway-activate")
        await choose(page, portal_url, course.plan_id, economy, "数字经济概论")
        await expect(page.locator(".cart-count")).to_have_text("1")

        await page.locator(".cart-link").click()
        await expect(page.locator("table tbody tr")).to_contain_text("数字经济概论")
        await expect(page.locator(".cart-total")).to_contain_text("共 1 门课程，合计 ¥7.50")
        order_id = await check_out(page, portal_url)
        await expect(page.get_by_label("支付宝支付", exact=True)).to_be_checked()
        await expect(page.locator("#pay-submit")).to_have_text("前往支付")
        await snapshot(page, "buy-gateway-choose")
        await page.get_by_role("button", name="前往支付").click()

        await expect(page).to_have_url(re.compile(r"/sandbox/gateway\?"))
        await expect(page.get_by_role("heading", name="支付宝收银台")).to_be_visible()
        await expect(page.locator(".summary")).to_contain_text("7.50元")
        await expect(page.locator(".summary")).to_contain_text("数字经济概论")
        await snapshot(page, "buy-gateway-cashier")
        await page.get_by_role("button", name="确认支付").click()

        await expect(page).to_have_url(f"{portal_url}/orders/{order_id}/paid")
        await expect(page.get_by_role("heading", name="支付成功")).to_be_visible()
        await expect(page.locator(".summary")).to_contain_text("支付宝支付")
        await expect(page.get_by_role("link", name="去学习")).to_have_attribute(
            "href", f"/plans/{course.plan_id}"
        )
        await snapshot(page, "buy-gateway-paid")
        await page.get_by_role("link", name="查看订单").click()

        await expect(page).to_have_url(f"{portal_url}/orders/{order_id}")
        await expect(page.get_by_role("heading", name="订单详情")).to_be_visible()
        await expect(page.locator(".summary .badge")).to_have_text("已支付")
        await expect(page.locator(".summary")).to_contain_text("支付宝支付")
        await expect(page.locator("table tbody tr")).to_contain_text("数字经济概论")
        await expect(page.get_by_role("link", name="去支付")).to_have_count(0)
        await snapshot(page, "buy-gateway-order")
    except Exception:
        await snapshot(page, "buy-gateway-failure")
        raise
    finally:
        await context.close()
    assert problems == []
