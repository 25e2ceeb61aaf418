"""The journey of 笔记 and 我的消息 in Chromium: take notes in the player, find them in
我的笔记 and jump back to their moment; 我的消息 receives the four kinds with the header's
unread count updated live."""

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
import pytest
from playwright.async_api import Browser, Page, expect

from engine import db
from engine.catalog.demo import load_clips
from engine.messages import service as messages
from engine.messages import surveys
from engine.messages.types import QuestionDraft, SurveyDraft
from engine.settings import Settings
from tests.conftest import build_course, enrol
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.e2e.test_player_browser import log_in, record_frames, video, wait_for_frame

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

Payload = Callable[..., dict[str, Any]]
WATCHED_S = 8.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, current_year=2018)


async def watched(database_url: str, learner_id: int, chapter_id: int) -> None:
    """The first WATCHED_S seconds of the chapter already studied."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s, position_s)"
            " VALUES ($1, $2, $3, 0)",
            learner_id,
            chapter_id,
            WATCHED_S,
        )
    finally:
        await connection.close()


async def take_note(page: Page, at_s: float, text: str) -> None:
    await page.evaluate(f"document.querySelector('video').currentTime = {at_s}")
    await page.get_by_label("笔记内容").fill(text)
    await page.get_by_role("button", name="保存笔记").click()
    await expect(page.locator("#note-status")).to_contain_text("记下笔记")


async def test_notes_jump_back_and_messages_arrive_live(
    browser: Browser, portal_url: str, database_url: str, registration: Payload
) -> None:
    course = await build_course(database_url, durations=(load_clips()[0].duration_s,))
    context = await new_context(browser)
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    problems = watch_for_errors(page)
    frames = record_frames(page)
    sender_context = await new_context(browser)
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        learner_id = await log_in(context, portal_url, registration)
        await enrol(database_url, learner_id, course)
        await watched(database_url, learner_id, course.chapters[0])

        # 笔记 in the player: two notes at their moments, one edited, one deleted.
        chapter_url = f"{portal_url}/courses/{course.course_id}/chapters/{course.chapters[0]}"
        await page.goto(chapter_url)
        await wait_for_frame(frames, "playing")
        await take_note(page, 5, "<b>重点</b>：继续教育的学时")
        await take_note(page, 2, "开头")
        items = page.locator("#note-list .note-item")
        await expect(items).to_have_count(2)
        await expect(items.first).to_contain_text("00:02")  # in the order of the video
        await expect(items.nth(1)).to_contain_text("<b>重点</b>：继续教育的学时")  # as text
        await items.first.get_by_role("button", name="编辑").click()
        await page.get_by_label("编辑笔记").fill("开头（改）")
        await page.get_by_role("button", name="保存", exact=True).click()
        await expect(items.first).to_contain_text("开头（改）")
        await take_note(page, 7, "要删掉的")
        await expect(items).to_have_count(3)
        await items.nth(2).get_by_role("button", name="删除").click()
        await expect(items).to_have_count(2)
        # A note's time jumps back to its moment.
        await page.evaluate("document.querySelector('video').currentTime = 1")
        await items.nth(1).locator(".note-time").click()
        assert round(await video(page, "currentTime")) == 5
        await snapshot(page, "player-notes")

        # 我的笔记: by plan, course and chapter; its link reopens the player at the moment.
        await (
            page.get_by_role("navigation", name="主导航栏")
            .get_by_role("link", name="我的笔记")
            .click()
        )
        await expect(page.locator("main")).to_contain_text("测试计划")
        await expect(page.locator("main")).to_contain_text("开头（改）")
        await expect(page.locator("main")).not_to_contain_text("要删掉的")
        await page.get_by_label("搜索笔记").fill("重点")
        await page.get_by_role("button", name="查询").click()
        await expect(page.locator(".note-item")).to_have_count(1)
        await snapshot(page, "my-notes")
        sent = len(frames)
        await page.locator(".note-item .note-time").click()
        await expect(page).to_have_url(re.compile(r"\?start=5$"))
        assert (await wait_for_frame(frames, "playing", after=sent))["position"] == 5

        # 我的消息: the four kinds arrive while the page is open; the count follows live.
        sent = len(frames)
        await page.goto(f"{portal_url}/messages")
        await expect(page.get_by_role("heading", name="消息中心")).to_be_visible()
        badge = page.locator("#unread-count")
        await expect(badge).to_be_hidden()
        await wait_for_frame(frames, "welcome", after=sent)  # the header's socket is open
        await messages.notify(pool, learner_id, "考试已自动交卷", "得分：80分")
        await expect(badge).to_have_text("1")
        await expect(page.locator("#notice-toast")).to_contain_text("系统通知：考试已自动交卷")
        await messages.announce(pool, "平台公告", "周末维护")
        await expect(badge).to_have_text("2")
        await surveys.post(
            pool,
            SurveyDraft(
                title="学习体验调查",
                questions=[
                    QuestionDraft("single", "课程难度如何？", ["偏难", "适中"]),
                    QuestionDraft("text", "建议"),
                ],
            ),
        )
        await expect(badge).to_have_text("3")
        # A learner of the same organisation writes a 站内信 through the page.
        sender_page = await sender_context.new_page()
        await log_in(sender_context, portal_url, registration)
        recipient = await pool.fetchval("SELECT username FROM users WHERE id = $1", learner_id)
        await sender_page.goto(f"{portal_url}/messages/letters/new")
        await sender_page.get_by_label("收信人（用户名）").fill(recipient)
        await sender_page.get_by_label("标题").fill("一起学习")
        await sender_page.get_by_label("内容").fill("<script>alert(1)</script>周末一起复习？")
        await sender_page.get_by_role("button", name="发送").click()
        await expect(sender_page.locator(".flash")).to_contain_text("站内信已发送")
        await expect(badge).to_have_text("4")
        await expect(page.locator("#notice-toast")).to_contain_text("站内信：一起学习")
        await snapshot(page, "messages-live")

        # Each tab shows its kind; reading lowers the count.
        await page.reload()
        await page.get_by_role("link", name=re.compile("^站内信")).first.click()
        await page.get_by_role("link", name="一起学习").click()
        await expect(page.locator(".message-body")).to_have_text(
            "<script>alert(1)</script>周末一起复习？"
        )
        await expect(badge).to_have_text("3")
        await page.goto(f"{portal_url}/messages?kind=survey")
        await page.get_by_role("link", name="学习体验调查").click()
        await page.get_by_label("适中").check()
        await page.get_by_label("建议").fill("多些案例")
        await page.get_by_role("button", name="提交问卷").click()
        await expect(page.locator(".flash")).to_contain_text("问卷已提交")
        await page.goto(f"{portal_url}/messages?kind=announcement")
        await expect(page.locator("main")).to_contain_text("平台公告")
        await page.goto(f"{portal_url}/messages?kind=system")
        await page.get_by_role("button", name="全部标为已读").click()
        await expect(page.locator(".flash")).to_contain_text("系统通知已全部标为已读")
        await expect(badge).to_have_text("1")  # the 公告
        await snapshot(page, "messages-read")
    except Exception:
        await snapshot(page, "messages-failure")
        raise
    finally:
        await pool.close()
        await sender_context.close()
        await context.close()
    assert problems == []
