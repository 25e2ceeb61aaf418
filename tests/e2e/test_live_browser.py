"""运行监控 in the browser: a super administrator watches the figures move while a simulated
learner (a script speaking the protocol) comes online and beats."""

import asyncio

import aiohttp
import asyncpg
import pytest
from playwright.async_api import Browser, Page, expect

from engine.accounts.passwords import hash_password
from tests.admin_world import insert_user
from tests.conftest import build_course, enrol
from tests.e2e.conftest import new_context, snapshot, watch_for_errors

pytestmark = pytest.mark.browser

PASSWORD = "Operate2026ok"


async def figure(page: Page, name: str) -> str:
    return await page.locator(f'[data-figure="{name}"]').inner_text()


async def test_the_figures_move_when_a_learner_beats(
    browser: Browser, portal_url: str, database_url: str, org_id: int
) -> None:
    course = await build_course(database_url, durations=(600.0,))
    connection = await asyncpg.connect(database_url)
    try:
        password_hash = await hash_password(PASSWORD)
        await insert_user(
            connection, org_id, role="super", username="operator", password_hash=password_hash
        )
        learner_id = await insert_user(
            connection, org_id, username="beating_learner", password_hash=password_hash
        )
    finally:
        await connection.close()
    await enrol(database_url, learner_id, course)

    context = await new_context(browser)
    page = await context.new_page()
    problems = watch_for_errors(page)
    try:
        await page.goto(f"{portal_url}/login")
        await page.get_by_label("用户名").fill("operator")
        await page.get_by_label("密码").fill(PASSWORD)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("link", name="管理", exact=True)).to_be_visible()
        await page.goto(f"{portal_url}/admin")
        await (
            page.get_by_role("navigation", name="管理导航")
            .get_by_role("link", name="运行监控")
            .click()
        )
        await expect(page.get_by_role("heading", name="运行监控")).to_be_visible()
        # Live: the page's own socket is online.
        await expect(page.locator("#live-status")).to_contain_text("更新于")
        await expect(page.locator('[data-figure="learners"]')).to_have_text("1")
        assert await figure(page, "beats_accepted") == "0.0"
        await snapshot(page, "live-idle")

        async with aiohttp.ClientSession() as http:
            login = await http.post(
                f"{portal_url}/api/v1/auth/login",
                json={"username": "beating_learner", "password": PASSWORD},
                headers={"Origin": portal_url},
            )
            token = (await login.json())["token"]
            ws = await http.ws_connect(
                f"{portal_url}/ws", headers={"Authorization": f"Bearer {token}"}
            )
            await ws.send_json({"type": "play", "chapter": course.chapters[0]})
            assert (await ws.receive_json(timeout=10))["type"] == "playing"
            await expect(page.locator('[data-figure="learners"]')).to_have_text("2")
            for seq in range(1, 4):
                await asyncio.sleep(1)
                await ws.send_json(
                    {"type": "beat", "seq": seq, "position": float(seq), "playing": True,
                     "focused": True}
                )  # fmt: skip
                ack = await ws.receive_json(timeout=10)
                assert ack["type"] == "ack"
                assert "reason" not in ack
            await expect(page.locator('[data-figure="beats_accepted"]')).not_to_have_text("0.0")
            await expect(page.locator("#live-nodes tr")).to_have_count(1)
            await expect(page.locator("#live-nodes")).to_contain_text("2")
            await snapshot(page, "live-beating")
            await ws.close()
        # The learner gone, the page follows: one person online again.
        await expect(page.locator('[data-figure="learners"]')).to_have_text("1")
        assert problems == []
    finally:
        await context.close()
