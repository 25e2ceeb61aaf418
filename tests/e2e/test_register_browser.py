"""Register through the two-step form in a real browser, then log in as the new learner."""

import re
import uuid

import pytest
from playwright.async_api import Browser, expect

from tests.conftest import id_card_number
from tests.e2e.conftest import new_context, snapshot, watch_for_errors

pytestmark = pytest.mark.browser

PASSWORD = "Study2018go"


async def test_register_then_log_in(browser: Browser, portal_url: str, org_id: int) -> None:
    username = f"learner_{uuid.uuid4().hex[:8]}"
    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        await page.goto(f"{portal_url}/register")
        step_1 = page.locator("#step-1")
        step_2 = page.locator("#step-2")
        await expect(step_1).to_be_visible()
        await expect(step_1.locator("legend")).to_have_text("填写账号信息")
        await expect(step_2).to_be_hidden()
        await step_1.get_by_label("用户名").fill(username)
        await step_1.get_by_label(re.compile(r"^密码")).fill(PASSWORD)
        await step_1.get_by_label("确认密码").fill(PASSWORD)
        await snapshot(page, "register-step1")

        await page.locator("#to-step-2").click()
        await expect(step_2).to_be_visible()
        await expect(step_2.locator("legend")).to_have_text("填写个人信息")
        await expect(step_1).to_be_hidden()
        await step_2.locator("#org_id").select_option(str(org_id))
        await step_2.get_by_label("真实姓名").fill("李华")
        await step_2.get_by_label("手机号").fill("13812345678")
        await step_2.get_by_label("证件号").fill(id_card_number())
        await snapshot(page, "register-step2")

        await page.locator("#register-submit").click()
        await expect(page).to_have_url(re.compile(r"/register/done\?username="))
        await expect(page.get_by_role("heading", name="注册成功")).to_be_visible()
        await expect(page.locator("main")).to_contain_text(username)
        await snapshot(page, "register-done")

        await page.get_by_role("link", name="立即登录").click()
        await expect(page).to_have_url(re.compile(r"/login\?username="))
        await expect(page.get_by_label("用户名")).to_have_value(username)
        await page.get_by_label("密码").fill(PASSWORD)
        await snapshot(page, "login")
        await page.get_by_role("button", name="登录").click()

        await expect(page).to_have_url(f"{portal_url}/")
        await expect(page.locator(".greeting")).to_have_text(f"您好,{username}")
        navigation = page.get_by_role("navigation", name="主导航栏")
        await expect(navigation.get_by_role("link", name="个人设置")).to_be_visible()
        await expect(page.get_by_role("heading", name="学习首页")).to_be_visible()
        await expect(page.locator(".summary")).to_contain_text("测试组织")
        await snapshot(page, "home")
    except Exception:
        await snapshot(page, "failure")
        raise
    finally:
        await context.close()
    assert problems == []
