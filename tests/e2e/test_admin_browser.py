"""An administrator resets a learner's password in the browser; at the next login the
learner must 修改密码 before anything else."""

import re

import asyncpg
import pytest
from playwright.async_api import Browser, Page, expect

from engine.accounts.passwords import hash_password
from tests.admin_world import insert_user
from tests.e2e.conftest import new_context, snapshot, watch_for_errors

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "Manage2026ok"
LEARNER_PASSWORD = "Study2018go"  # replaced by the reset (tests/integration checks it fails)
NEW_PASSWORD = "Fresh2026pass"


async def log_in(page: Page, portal_url: str, username: str, password: str) -> None:
    await page.goto(f"{portal_url}/login")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.keyboard.press("Enter")


async def test_a_reset_password_is_changed_at_the_next_login(
    browser: Browser, portal_url: str, database_url: str, org_id: int
) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await insert_user(
            connection, org_id, role="admin", username="org_admin",
            password_hash=await hash_password(ADMIN_PASSWORD),
        )  # fmt: skip
        await insert_user(
            connection, org_id, username="wang_learner",
            password_hash=await hash_password(LEARNER_PASSWORD),
        )  # fmt: skip
        await connection.execute(
            "UPDATE users SET real_name = '王小明' WHERE username = 'wang_learner'"
        )
    finally:
        await connection.close()

    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        await log_in(page, portal_url, "org_admin", ADMIN_PASSWORD)
        await page.get_by_role("link", name="管理", exact=True).click()
        await expect(page.get_by_role("heading", name="管理首页")).to_be_visible()
        side = page.get_by_role("navigation", name="管理导航")
        await side.get_by_role("link", name="学员管理").click()
        search = page.get_by_label("姓名/用户名/证件号码/手机号")
        await search.fill("小明")
        await search.press("Enter")
        await expect(page.locator("main")).to_contain_text("共 1 条")
        await snapshot(page, "admin-learners")
        await page.get_by_role("link", name="王小明").click()
        reset = page.get_by_role("button", name="重置密码")
        await reset.focus()
        await page.keyboard.press("Enter")
        temporary = await page.locator("#temporary-password").text_content()
        assert temporary is not None
        await expect(page.locator("main")).to_contain_text("待修改密码")
        await snapshot(page, "admin-reset")
        await page.get_by_role("button", name="退出").click()

        await log_in(page, portal_url, "wang_learner", temporary)
        await expect(page).to_have_url(f"{portal_url}/settings/password")
        await expect(page.get_by_role("alert")).to_contain_text("管理员已重置您的密码")
        await page.goto(f"{portal_url}/plans")
        await expect(page).to_have_url(f"{portal_url}/settings/password")
        await snapshot(page, "must-change-password")
        await page.get_by_label("旧密码").fill(temporary)
        await page.get_by_label("新密码").fill(NEW_PASSWORD)
        await page.get_by_label("确认密码").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="修改并保存").click()
        await expect(page.locator(".form-ok")).to_contain_text("密码已修改")
        await page.goto(f"{portal_url}/plans")
        await expect(page).to_have_url(re.compile(r"/plans$"))
        await expect(page.get_by_role("link", name="管理", exact=True)).to_have_count(0)
    except Exception:
        await snapshot(page, "failure")
        raise
    finally:
        await context.close()
    assert problems == []
