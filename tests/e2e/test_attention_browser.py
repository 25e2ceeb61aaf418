"""A check-in in Chromium: the prompt appears, the video waits, a click resumes it and the
credit; the course page then shows the study record (学习记录) with the wait in it."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from playwright.async_api import Browser, expect

from engine.catalog.demo import load_clips
from engine.settings import Settings
from tests.conftest import build_course, enrol
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.e2e.test_player_browser import credit, log_in, record_frames, video

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

Payload = Callable[..., dict[str, Any]]
CHECK_WAITING = "请点击“继续学习”，确认您正在学习后视频继续播放，学习进度继续记录"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A check-in after exactly 15 s of playback (the earliest one may come)."""
    return msgspec.structs.replace(settings, attention_interval_s=15)


async def frame_of(frames: list[dict[str, Any]], kind: str, within_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = [frame for frame in frames if frame["type"] == kind]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind!r} within {within_s} s; received {frames}")


async def test_a_check_in_pauses_the_video_until_the_learner_clicks(
    browser: Browser, portal_url: str, database_url: str, registration: Payload
) -> None:
    course = await build_course(database_url, durations=(load_clips()[0].duration_s,))
    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    frames = record_frames(page)
    try:
        await enrol(database_url, await log_in(context, portal_url, registration), course)
        await page.goto(f"{portal_url}/courses/{course.course_id}/chapters/{course.chapters[0]}")
        await frame_of(frames, "playing", 15)
        dialog = page.locator("#attention-dialog")
        await expect(dialog).to_be_hidden()
        await video(page, "play()")

        check = await frame_of(frames, "attention.check", 40)
        await expect(dialog).to_be_visible()
        await expect(dialog).to_contain_text("请点击继续学习")
        await expect(page.locator("#status")).to_have_text(CHECK_WAITING)
        await page.wait_for_function("document.querySelector('video').paused")
        await snapshot(page, "player-check-in")
        await page.wait_for_timeout(1_000)  # the pausing beat's ack
        asked_at = await credit(context.request, portal_url, course.course_id)
        assert 12 <= asked_at <= 22
        await page.wait_for_timeout(6_000)
        assert await credit(context.request, portal_url, course.course_id) == pytest.approx(
            asked_at
        )
        assert await video(page, "paused") is True

        await dialog.get_by_role("button", name="继续学习").click()
        assert (await frame_of(frames, "attention.ok", 15))["id"] == check["id"]
        await expect(dialog).to_be_hidden()
        await page.wait_for_function("!document.querySelector('video').paused")
        deadline = time.monotonic() + 20
        while await credit(context.request, portal_url, course.course_id) < asked_at + 4:
            assert time.monotonic() < deadline, "the credit did not grow after the answer"
            await page.wait_for_timeout(500)

        # 结束学习: the course page shows the chapter's study record, the wait included.
        await page.get_by_role("link", name="结束学习").click()
        await expect(page).to_have_url(f"{portal_url}/courses/{course.course_id}")
        record = page.locator(".study-record")
        await expect(record.locator("svg.record-bar rect.credited").first).to_be_attached()
        await record.get_by_text("学习记录").click()
        table = record.locator("table")
        await expect(table).to_contain_text("未确认在线学习提示")
        await expect(table).to_contain_text("计入学时")
        await snapshot(page, "course-study-record")
    except Exception:
        await snapshot(page, "check-in-failure")
        raise
    finally:
        await context.close()
    assert problems == []
