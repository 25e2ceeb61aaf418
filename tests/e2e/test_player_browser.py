"""Watch a real demo clip in Chromium: credit while focused, none once another page has focus."""

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from playwright.async_api import (
    APIRequestContext,
    Browser,
    BrowserContext,
    Page,
    WebSocket,
    WebSocketRoute,
    expect,
)

from engine.catalog.demo import load_clips
from engine.settings import Settings
from tests.conftest import build_course, enrol
from tests.e2e.conftest import STEP_TIMEOUT_MS, new_context, snapshot, watch_for_errors

# About 35 s of each test is the video playing and the credit being watched.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

PLAY_S = 10.5
FOCUS_LOST = "学习页面失去焦点，视频已暂停，学习进度暂停记录"
SUPERSEDED = "您已在其他页面开始学习，本页停止记录学习进度"
Payload = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The manual's year, which is the test plan's."""
    return msgspec.structs.replace(settings, current_year=2018)


def record_frames(page: Page) -> list[dict[str, Any]]:
    """Every message the server sends the page over its websockets, in order."""
    frames: list[dict[str, Any]] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


async def wait_for_frame(frames: list[dict[str, Any]], kind: str, after: int = 0) -> dict[str, Any]:
    """The first message of this type at or after index `after`, waiting up to one step."""
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        found = [frame for frame in frames[after:] if frame["type"] == kind]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind!r} message; received {frames[after:]}")


async def log_in(context: BrowserContext, portal_url: str, registration: Payload) -> int:
    """Register and log in through the API; the session cookie lands in the context."""
    payload = registration()
    registered = await context.request.post(f"{portal_url}/api/v1/auth/register", data=payload)
    assert registered.status == 201, await registered.text()
    login = await context.request.post(
        f"{portal_url}/api/v1/auth/login",
        data={"username": payload["username"], "password": payload["password"]},
        headers={"Origin": portal_url},
    )
    assert login.ok, await login.text()
    user_id: int = (await login.json())["user"]["id"]
    return user_id


async def video(page: Page, expression: str) -> Any:
    return await page.evaluate(f"document.querySelector('video').{expression}")


async def credit(request: APIRequestContext, portal_url: str, course_id: int) -> float:
    """The chapter's validated high-water mark, as the API reports it."""
    response = await request.get(f"{portal_url}/api/v1/courses/{course_id}")
    assert response.ok, await response.text()
    hwm: float = (await response.json())["course"]["chapters"][0]["hwm"]
    return hwm


async def test_play_credits_only_while_the_page_has_the_focus(
    browser: Browser,
    portal_url: str,
    database_url: str,
    registration: Payload,
) -> None:
    clip = load_clips()[0]
    assert clip.file == "clip1.mp4"
    course = await build_course(database_url, durations=(clip.duration_s,), compulsory=True)
    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    frames = record_frames(page)
    try:
        await log_in(context, portal_url, registration)

        # 我的课程 → 去激活 → 确定 → the plan, with its compulsory course selected → the course.
        await page.goto(f"{portal_url}/plans")
        plan = page.locator(f'[data-plan="{course.plan_id}"]')
        await expect(plan).to_contain_text("待激活")
        await expect(page.get_by_role("link", name="2014-2017年公需课补学计划")).to_be_visible()
        await snapshot(page, "plans")
        await plan.get_by_role("button", name="去激活").click()
        dialog = page.locator("#confirm-dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog).to_contain_text("测试计划")
        await snapshot(page, "plans-activate-dialog")
        await dialog.get_by_role("button", name="确定").click()
        await expect(page).to_have_url(f"{portal_url}/plans/{course.plan_id}")
        await expect(page.locator("main")).to_contain_text("学习中")
        await expect(page.locator(".course-item")).to_contain_text("必修")
        await snapshot(page, "plan")
        await page.get_by_role("link", name="学习课程").click()
        await expect(page).to_have_url(f"{portal_url}/courses/{course.course_id}")
        await expect(page.get_by_role("heading", name="目录")).to_be_visible()
        await snapshot(page, "course")
        await page.get_by_role("link", name="第1节").click()
        await expect(page).to_have_url(re.compile(rf"/chapters/{course.chapters[0]}$"))
        playing = await wait_for_frame(frames, "playing")
        assert playing["position"] == 0
        assert playing["duration_s"] == clip.duration_s

        await video(page, "play()")
        await page.wait_for_timeout(PLAY_S * 1000)
        assert await video(page, "paused") is False
        watched = await credit(context.request, portal_url, course.course_id)
        assert watched >= 7
        await expect(page.locator("#chapter-percent")).not_to_have_text("0%")
        await snapshot(page, "player-playing")

        # Playwright tells every page it has the focus; let the real focus count, then
        # bring another page to the front.
        session = await context.new_cdp_session(page)
        await session.send("Emulation.setFocusEmulationEnabled", {"enabled": False})
        other = await context.new_page()
        await other.bring_to_front()
        # The player waits out the blur grace (1.5 s) before it pauses; a page behind another
        # runs no animation frames (wait_for_function's polling), so ask from here.
        deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
        while not await video(page, "paused"):
            assert time.monotonic() < deadline, "the video did not pause"
            await asyncio.sleep(0.1)
        await expect(page.locator("#status")).to_have_text(FOCUS_LOST)
        await page.wait_for_timeout(1_000)  # the pausing beat's ack
        paused_at = await video(page, "currentTime")
        before = await credit(context.request, portal_url, course.course_id)
        assert before >= watched
        await page.wait_for_timeout(6_000)
        assert await credit(context.request, portal_url, course.course_id) == pytest.approx(before)
        assert await video(page, "currentTime") == paused_at
        await snapshot(page, "player-focus-lost")

        # Back on the page: 结束学习 stops the playback and returns to the course.
        await page.bring_to_front()
        await other.close()
        sent = len(frames)
        await page.get_by_role("link", name="结束学习").click()
        await expect(page).to_have_url(f"{portal_url}/courses/{course.course_id}")
        assert (await wait_for_frame(frames, "ack", after=sent))["hwm"] >= before

        # Left unfinished, so the chapter asks 继续学习 or 重新学习 (once the flusher has
        # written the position to PostgreSQL, which takes well under a second).
        resume = page.locator("a[data-resume]")
        for _ in range(10):
            if await resume.count():
                break
            await page.wait_for_timeout(500)
            await page.reload()
        await resume.click()
        dialog = page.locator("#resume-dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog).to_contain_text("检测到您上次未学完，是否继续学习！")
        await snapshot(page, "course-resume-dialog")
        sent = len(frames)
        await dialog.get_by_role("link", name="重新学习").click()
        await expect(page).to_have_url(re.compile(r"\?start=0$"))
        assert (await wait_for_frame(frames, "playing", after=sent))["position"] == 0
    except Exception:
        await snapshot(page, "player-failure")
        raise
    finally:
        await context.close()
    assert problems == []


async def test_player_keeps_to_what_was_watched_reconnects_and_yields_to_another_page(
    browser: Browser,
    portal_url: str,
    database_url: str,
    registration: Payload,
) -> None:
    course = await build_course(database_url, durations=(load_clips()[0].duration_s,))
    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    # The page's websocket goes through the test, which records what the server says and
    # can drop the connection.
    frames: list[dict[str, Any]] = []
    routes: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    def route(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        socket.on_message(server.send)

        def from_server(message: str | bytes) -> None:
            frames.append(json.loads(message))
            socket.send(message)

        server.on_message(from_server)
        routes.append((socket, server))

    await page.route_web_socket(re.compile(r"/ws$"), route)
    try:
        await enrol(database_url, await log_in(context, portal_url, registration), course)
        chapter_url = f"{portal_url}/courses/{course.course_id}/chapters/{course.chapters[0]}"
        await page.goto(chapter_url)
        await wait_for_frame(frames, "playing")
        await video(page, "play()")
        await page.wait_for_timeout(6_000)
        watched = await credit(context.request, portal_url, course.course_id)
        assert watched >= 3

        # Neither the video's own seek bar nor the 关键目录 go beyond what was watched.
        await video(page, "currentTime = 80")
        await expect(page.locator("#status")).to_have_text("不能跳过未学习的内容")
        assert await video(page, "currentTime") < 20
        await page.get_by_role("button", name="01:00").click()
        await expect(page.locator("#status")).to_have_text("只能跳转到已学习过的位置")
        await page.get_by_role("button", name="00:00").click()
        await page.wait_for_function("document.querySelector('video').currentTime < 2")

        # The connection drops: the video waits, the page reconnects after 1 s, resumes, and
        # the credit of before the drop is still there and grows again.
        sent = len(frames)
        socket, server = routes[-1]
        await socket.close(code=1012)
        await server.close()
        await expect(page.locator("#status")).to_contain_text("网络连接已断开")
        assert await video(page, "paused") is True
        await wait_for_frame(frames, "playing", after=sent)
        assert len(routes) == 2
        await page.wait_for_function("!document.querySelector('video').paused")
        # Back from near 00:00, it earns again once past what was watched, at the next beats.
        deadline = time.monotonic() + watched - await video(page, "currentTime") + 12
        while await credit(context.request, portal_url, course.course_id) < watched + 3:
            assert time.monotonic() < deadline, "the credit did not grow after reconnecting"
            await page.wait_for_timeout(500)

        # The same chapter opened on another page takes over; this one stops for good.
        other = await context.new_page()
        await other.goto(chapter_url)
        await expect(page.locator("#status")).to_have_text(SUPERSEDED)
        assert await video(page, "paused") is True
        await video(page, "play().catch(() => {})")
        await page.wait_for_timeout(2_000)
        assert await video(page, "paused") is True
        assert len(routes) == 2  # no reconnection
        await snapshot(page, "player-superseded")
    except Exception:
        await snapshot(page, "player-failure")
        raise
    finally:
        await context.close()
    assert problems == []
