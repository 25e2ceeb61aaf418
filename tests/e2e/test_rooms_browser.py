"""讨论 and 问答 under the video in Chromium: two learners chat live, a teacher answers."""

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from engine.catalog.demo import load_clips
from tests.conftest import Course, build_course, enrol
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.e2e.test_player_browser import log_in, settings  # noqa: F401 (the manual's year)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

Payload = Callable[..., dict[str, Any]]
SCRIPT = "<script>window.injected = true</script>大家好"


async def player(
    browser: Browser, portal_url: str, database_url: str, registration: Payload, course: Course
) -> tuple[BrowserContext, Page, int]:
    """A learner who selected the course, on its first chapter's playback page."""
    context = await new_context(browser)
    page = await context.new_page()
    user_id = await log_in(context, portal_url, registration)
    await enrol(database_url, user_id, course)
    await page.goto(f"{portal_url}/courses/{course.course_id}/chapters/{course.chapters[0]}")
    return context, page, user_id


async def test_two_learners_discuss_live_and_a_teacher_answers_a_question(
    browser: Browser, portal_url: str, database_url: str, registration: Payload
) -> None:
    clip = load_clips()[0]
    course = await build_course(database_url, durations=(clip.duration_s,), compulsory=True)
    contexts = []
    try:
        first_context, first, _ = await player(
            browser, portal_url, database_url, registration, course
        )
        second_context, second, _ = await player(
            browser, portal_url, database_url, registration, course
        )
        # The teacher did not select the course: 讨论与答疑 is a page of its own.
        teacher_context = await new_context(browser)
        teacher = await teacher_context.new_page()
        teacher_id = await log_in(teacher_context, portal_url, registration)
        contexts = [first_context, second_context, teacher_context]
        problems = [watch_for_errors(page) for page in (first, second, teacher)]
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute(
                "INSERT INTO course_teachers (course_id, user_id) VALUES ($1, $2)",
                course.course_id,
                teacher_id,
            )
            await connection.execute(
                "UPDATE users SET real_name = '王老师' WHERE id = $1", teacher_id
            )
        finally:
            await connection.close()
        await teacher.goto(f"{portal_url}/courses/{course.course_id}/rooms")
        await expect(teacher.locator(".rooms-page")).to_contain_text("您是本课程的教师")

        # 讨论: what one learner types reaches the other live, as text (never as HTML).
        for page in (first, second):
            await expect(page.get_by_role("tab", name="关键目录")).to_have_attribute(
                "aria-selected", "true"
            )
            await page.get_by_role("tab", name="讨论").click()
        discussion = first.locator("#panel-discussion")
        await discussion.get_by_label("讨论内容").fill(SCRIPT)
        await discussion.get_by_role("button", name="发送").click()
        seen = second.locator("#panel-discussion .room-messages li")
        await expect(seen).to_have_count(1)
        await expect(seen.locator(".text")).to_have_text(SCRIPT)
        await expect(first.locator("#panel-discussion .room-messages li.pending")).to_have_count(0)
        await expect(first.locator("#panel-discussion .room-messages li")).to_have_count(1)
        assert await second.evaluate("window.injected") is None
        await second.locator("#panel-discussion").get_by_label("讨论内容").fill("你好！")
        await second.locator("#panel-discussion").get_by_role("button", name="发送").click()
        texts = first.locator("#panel-discussion .room-messages li .text")
        await expect(texts).to_have_text([SCRIPT, "你好！"])
        await snapshot(first, "rooms-discussion")

        # 问答: a question waits until the teacher answers; the asker sees the answer pinned.
        await first.get_by_role("tab", name="问答").click()
        qa = first.locator("#panel-qa")
        await qa.get_by_label("问答内容").fill("第一节的重点是什么？")
        await qa.get_by_role("button", name="提问").click()
        question = qa.locator(".room-messages li").filter(has_text="第一节的重点是什么？")
        await expect(question.locator(".state")).to_have_text("待回答")
        await teacher.get_by_role("tab", name="问答").click()
        asked = teacher.locator("#panel-qa .room-messages li").filter(
            has_text="第一节的重点是什么？"
        )
        await asked.get_by_role("button", name="回答").click()
        await teacher.locator("#panel-qa").get_by_label("问答内容").fill("重点是继续教育的意义。")
        await teacher.locator("#panel-qa .room-form").get_by_role("button", name="回答").click()
        await expect(question.locator(".state")).to_have_text("已回答")
        pinned = qa.locator(".room-pinned li")
        await expect(pinned).to_have_count(2)
        await expect(pinned.nth(1)).to_contain_text("王老师")
        await expect(pinned.nth(1)).to_contain_text("教师解答")
        await expect(pinned.nth(1).locator(".text")).to_have_text("重点是继续教育的意义。")
        await snapshot(first, "rooms-qa-answered")

        await snapshot(teacher, "rooms-teacher")

        # A learner who did not select the course is refused the page.
        outsider_context = await new_context(browser)
        contexts.append(outsider_context)
        outsider = await outsider_context.new_page()
        await log_in(outsider_context, portal_url, registration)
        refused = await outsider.goto(f"{portal_url}/courses/{course.course_id}/rooms")
        assert refused is not None
        assert refused.status == 403
        await expect(outsider.locator("main")).to_contain_text("选择了本课程")

        # A reload joins afresh: the answer is still pinned and the question answered.
        await first.reload()
        await first.get_by_role("tab", name="问答").click()
        await expect(first.locator("#panel-qa .room-pinned li")).to_have_count(2)
        await asyncio.sleep(0.2)
        assert [problem for found in problems for problem in found] == []
    finally:
        for context in contexts:
            await context.close()
