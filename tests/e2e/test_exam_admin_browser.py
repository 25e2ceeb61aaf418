"""An administrator in Chromium: imports a bank file (first one with errors, listed; then a
good one), schedules an exam by the form, and a learner of the organisation starts it."""

import io
import re
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from openpyxl import Workbook
from playwright.async_api import Browser, BrowserContext, expect

from engine.exams.bank_file import HEADER
from tests.conftest import build_course, enrol
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.e2e.test_player_browser import log_in
from tests.integration.test_exams import complete_course

pytestmark = pytest.mark.browser

Payload = Callable[..., dict[str, Any]]


async def log_in_as_admin(
    context: BrowserContext, portal_url: str, registration: Payload, database_url: str
) -> None:
    """An account of the registration's organisation made its administrator, logged in."""
    payload = registration()
    registered = await context.request.post(f"{portal_url}/api/v1/auth/register", data=payload)
    assert registered.status == 201, await registered.text()
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE users SET role = 'admin' WHERE username = $1", payload["username"]
        )
    finally:
        await connection.close()
    login = await context.request.post(
        f"{portal_url}/api/v1/auth/login",
        data={"username": payload["username"], "password": payload["password"]},
        headers={"Origin": portal_url},
    )
    assert login.ok, await login.text()


def bank_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for number in range(1, 4):
        sheet.append(["单选题", f"第{number}题：继续教育证书由谁盖章？", "本人", "人力资源部门", None, None, None, None, "B", 5, None])  # fmt: skip
    sheet.append(["判断题", "学习进度达到100%后才可参加考试。", None, None, None, None, None, None, "正确", 5, None])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_an_administrator_builds_an_exam_a_learner_takes(
    browser: Browser, portal_url: str, registration: Payload, database_url: str, org_id: int
) -> None:
    course = await build_course(
        database_url, examined=True, compulsory=True, elective_tenths=0, hour_tenths=30
    )
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE courses SET org_id = $1, title = '职业道德' WHERE id = $2",
            org_id,
            course.course_id,
        )
    finally:
        await connection.close()

    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        await log_in_as_admin(context, portal_url, registration, database_url)
        await page.goto(f"{portal_url}/admin")
        await (
            page.get_by_role("navigation", name="管理导航")
            .get_by_role("link", name="题库与考试")
            .click()
        )
        row = page.locator("tr", has_text="职业道德")
        await row.get_by_role("link", name="题库").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("职业道德 · 题库")

        bad = "题型,题干,选项A,选项B,答案,分值\n单选题,,甲,乙,G,5\n".encode("gb18030")
        await page.get_by_label("题库文件").set_input_files(
            {"name": "题库.csv", "mimeType": "text/csv", "buffer": bad}
        )
        await page.get_by_role("button", name="导入").click()
        errors = page.locator("#import-errors")
        await expect(errors).to_contain_text("第 2 行：题干不能为空")
        await expect(errors).to_contain_text("第 2 行：答案 G 不在选项中")
        await snapshot(page, "admin-bank-errors")
        # The refused file's page is answered 400, which the console reports: expected.
        assert [problem for problem in problems if "status of 400" not in problem] == []
        problems.clear()

        await page.get_by_label("题库文件").set_input_files(
            {"name": "题库.xlsx", "mimeType": "application/octet-stream", "buffer": bank_xlsx()}
        )
        # The keyboard alone: focus the button and press Enter.
        await page.get_by_role("button", name="导入").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator(".flash")).to_have_text("已导入 4 道题")
        await expect(page.locator("text=单选题 3 道，多选题 0 道，判断题 1 道")).to_be_visible()

        await page.get_by_role("link", name="本课程的考试").click()
        await page.get_by_role("link", name="新建考试").click()
        await page.get_by_label("考试名称").fill("职业道德考试")
        await page.get_by_label("开始时间").fill("2020-01-01T08:00")
        await page.get_by_label("结束时间").fill("2099-12-31T18:00")
        await page.get_by_label("考试时长（分钟）").fill("20")
        await page.get_by_label("总分").fill("15")
        await page.get_by_label("及格线").fill("10")
        await page.get_by_label("单选题").fill("2")
        await page.get_by_label("判断题").fill("1")
        await page.get_by_role("button", name="保存").click()
        await expect(page.locator(".flash")).to_have_text("考试已创建")
        await expect(page.locator("table")).to_contain_text("职业道德考试")
        await snapshot(page, "admin-exams")
        assert problems == []
    finally:
        await context.close()

    learner_context = await new_context(browser)
    page = await learner_context.new_page()
    problems = watch_for_errors(page)
    try:
        learner_id = await log_in(learner_context, portal_url, registration)
        await enrol(database_url, learner_id, course)
        await complete_course(database_url, learner_id, course)
        await page.goto(f"{portal_url}/exams")
        row = page.locator("tr[data-exam]")
        await expect(row).to_contain_text("职业道德考试")
        await row.get_by_role("button", name="去考试").click()
        await page.locator("#confirm-dialog").get_by_role("button", name="确定").click()
        await expect(page).to_have_url(re.compile(r"/exams/attempts/\d+$"))
        await expect(page.locator(".question")).to_have_count(3)
        assert problems == []
    finally:
        await learner_context.close()
