"""An administrator builds a course in Chromium — its form, a video uploaded through the
file input, named key points — and a plan holding it; a learner of the organisation
activates the plan and finds the chapter's key points beside the video."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import new_context, snapshot, watch_for_errors

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CLIP = Path(__file__).resolve().parents[2] / "media" / "demo" / "clip2.mp4"
Payload = Callable[..., dict[str, Any]]


async def logged_in(
    browser: Browser, portal_url: str, registration: Payload, database_url: str, role: str
) -> tuple[BrowserContext, Page]:
    """A browser of a new user of the test organisation, with `role`, logged in at /login."""
    context = await new_context(browser)
    payload = registration()
    registered = await context.request.post(f"{portal_url}/api/v1/auth/register", data=payload)
    assert registered.status == 201, await registered.text()
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE users SET role = $2 WHERE username = $1", payload["username"], role
        )
    finally:
        await connection.close()
    page = await context.new_page()
    await page.goto(f"{portal_url}/login")
    await page.get_by_label("用户名").fill(payload["username"])
    await page.get_by_label("密码").fill(payload["password"])
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{portal_url}/")
    return context, page


async def test_an_administrator_builds_a_course_a_learner_studies(
    browser: Browser, portal_url: str, registration: Payload, database_url: str, org_id: int
) -> None:
    admin_context, admin = await logged_in(browser, portal_url, registration, database_url, "admin")
    problems = watch_for_errors(admin)

    await admin.goto(f"{portal_url}/admin/courses/new")
    await admin.get_by_label("课程编号").fill("kj-e2e")
    await admin.get_by_label("课程名称").fill("政府会计准则")
    await admin.get_by_label("学时").fill("1.5")
    await admin.get_by_label("所属单位").select_option(str(org_id))
    await admin.get_by_role("button", name="保存").click()
    await expect(admin).to_have_url(re.compile(r"/admin/courses/\d+$"))
    course_id = int(admin.url.rsplit("/", 1)[1])

    await admin.get_by_label("章节名称").fill("第一节 准则概述")
    await admin.get_by_label("视频文件").set_input_files(CLIP)
    await admin.get_by_role("button", name="上传并添加").click()
    await expect(admin.get_by_text("章节已添加")).to_be_visible()
    chapter = admin.get_by_role("link", name="第一节 准则概述")
    await expect(admin.locator("#chapters tbody tr")).to_contain_text("01:00")
    await snapshot(admin, "catalogue-course")
    await chapter.click()
    chapter_id = int(admin.url.rsplit("/", 1)[1])
    await admin.get_by_role("textbox", name="关键目录").fill("00:05 课程导入\n00:40 案例分析")
    await admin.get_by_role("button", name="保存关键目录").click()
    await expect(admin.get_by_text("关键目录已保存")).to_be_visible()

    await admin.goto(f"{portal_url}/admin/plans/new")
    await admin.get_by_label("计划名称").fill("2026年会计人员继续教育")
    await admin.get_by_label("专业科目").check()
    await admin.get_by_label("年度").fill("2026")
    await admin.get_by_label("必修学时").fill("1.5")
    await admin.get_by_label("选修学时").fill("0")
    await admin.get_by_label("每学时价格（元）").fill("5")
    await admin.get_by_label("开放日期").fill("2000-01-01")
    await admin.get_by_label("截止日期").fill("2099-12-31")
    await admin.get_by_label("所属单位").select_option(str(org_id))
    await admin.get_by_label("添加课程").fill("kj-e2e")
    await admin.get_by_role("button", name="保存").click()
    await expect(admin.get_by_text("培训计划已创建")).to_be_visible()
    plan_id = int(admin.url.rsplit("/", 1)[1])
    await admin.get_by_label("政府会计准则 为必修").check()
    await admin.get_by_role("button", name="保存").click()
    await expect(admin.get_by_text("培训计划已保存")).to_be_visible()
    await expect(admin.get_by_label("政府会计准则 为必修")).to_be_checked()
    assert problems == []
    await admin_context.close()

    learner_context, learner = await logged_in(
        browser, portal_url, registration, database_url, "learner"
    )
    await learner.goto(f"{portal_url}/plans")
    plan = learner.locator(f'[data-plan="{plan_id}"]')
    await plan.get_by_role("button", name="去激活").click()
    await learner.locator("#confirm-dialog").get_by_role("button", name="确定").click()
    await expect(learner).to_have_url(f"{portal_url}/plans/{plan_id}")
    await learner.goto(f"{portal_url}/courses/{course_id}/chapters/{chapter_id}")
    key_points = learner.locator(".key-points button")
    await expect(key_points).to_have_count(2)
    await expect(key_points.first).to_have_text("00:05 课程导入")
    await expect(key_points.nth(1)).to_have_text("00:40 案例分析")
    await snapshot(learner, "catalogue-player-key-points")
    await learner_context.close()
