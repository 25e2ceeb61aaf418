"""Take an exam in Chromium: 去考试, the countdown ticking, 标记, answers, 交卷, the score."""

import re
import time
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from playwright.async_api import Browser, expect

from engine.settings import Settings
from tests.conftest import Clock, build_course, enrol
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.e2e.test_player_browser import log_in
from tests.integration.test_exams import complete_course, correct_answers, create_exam

pytestmark = pytest.mark.browser

Payload = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, current_year=2018)


def seconds_of(countdown: str) -> int:
    hours, minutes, seconds = (int(part) for part in countdown.split(":"))
    return hours * 3600 + minutes * 60 + seconds


async def test_take_an_exam(
    browser: Browser,
    portal_url: str,
    registration: Payload,
    database_url: str,
) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        learner_id = await log_in(context, portal_url, registration)
        course = await build_course(
            database_url, examined=True, compulsory=True, elective_tenths=0, hour_tenths=30
        )
        await enrol(database_url, learner_id, course)
        await create_exam(database_url, course, Clock(int(time.time() * 1000)))
        await page.goto(f"{portal_url}/exams")
        row = page.locator("tr[data-exam]")
        await expect(row).to_contain_text("课程学习进度未达到100%")
        await expect(row.get_by_role("button", name="去考试")).to_have_count(0)

        await complete_course(database_url, learner_id, course)
        await page.reload()
        await snapshot(page, "exams")
        await row.get_by_role("button", name="去考试").click()
        dialog = page.locator("#confirm-dialog")
        await expect(dialog).to_contain_text("考试时长10分钟")
        await dialog.get_by_role("button", name="确定").click()
        await expect(page).to_have_url(re.compile(r"/exams/attempts/\d+$"))
        attempt = int(page.url.rsplit("/", 1)[1])

        # The countdown comes from the server's deadline and ticks.
        countdown = page.locator("#countdown")
        await expect(countdown).to_have_text(re.compile(r"00:(09|10):\d\d"))
        first = seconds_of(await countdown.inner_text())
        await page.wait_for_timeout(2_100)
        assert seconds_of(await countdown.inner_text()) < first

        questions = page.locator(".question")
        await expect(questions).to_have_count(4)
        cells = page.locator(".answer-card .cell")
        await expect(cells.first).not_to_have_class(re.compile("answered|flagged"))

        # 标记 turns the question's card red, and the server keeps it.
        first_question = questions.first
        await first_question.get_by_role("button", name="标记").click()
        await expect(cells.first).to_have_class(re.compile(r"\bflagged\b"))
        await expect(first_question.locator(".save-state")).to_have_text("")

        # Answer the other three correctly; each answered card turns blue.
        right = await correct_answers(database_url, attempt)
        ids = [
            int(value)
            for value in await questions.evaluate_all(
                "items => items.map(item => item.dataset.question)"
            )
        ]
        for index, question in enumerate(ids[1:], 1):
            for key in right[question]:
                await page.locator(f'#q-{question} input[value="{key}"]').check()
            await expect(cells.nth(index)).to_have_class(re.compile(r"\banswered\b"))
            await expect(page.locator(f"#q-{question} .save-state")).to_have_text("")
        await snapshot(page, "exam")

        # A reload restores what the server holds: answers and the flag.
        await page.reload()
        await expect(cells.first).to_have_class(re.compile(r"\bflagged\b"))
        await expect(cells.nth(1)).to_have_class(re.compile(r"\banswered\b"))

        await page.get_by_role("button", name="交卷").click()
        submit = page.locator("#confirm-dialog")
        await expect(submit).to_contain_text("您还有1道题未作答")
        await submit.get_by_role("button", name="确定").click()
        await expect(page).to_have_url(f"{portal_url}/exams/attempts/{attempt}/result")
        # The unanswered first question is a 单选题 worth 2 of the 10 points.
        await expect(page.locator("#score")).to_have_text("8")
        await expect(page.locator("#verdict")).to_have_text("考试通过")
        await snapshot(page, "exam-result")

        # Passing the compulsory course's exam earns its hours; the plan asks no more.
        await page.goto(f"{portal_url}/plans")
        plan = page.locator(f'.plan-item[data-plan="{course.plan_id}"]')
        await expect(plan).to_contain_text("已获学时3学时")
        await expect(plan).to_contain_text("已通过")
        assert problems == []
    finally:
        await context.close()
