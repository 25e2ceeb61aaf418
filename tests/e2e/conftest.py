"""Browser fixtures: the portal on a real TCP port and a headless Debian Chromium."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import unused_port
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    async_playwright,
    expect,
)

from engine.settings import Settings
from web.app import create_portal

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--lang=zh-CN",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
# One step (a navigation, a click, an expectation) on a host loaded by other work; a step that
# hangs still fails well within the test's own timeout.
STEP_TIMEOUT_MS = 15_000
expect.set_options(timeout=STEP_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip browser tests up front, before any database is started for them."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found: install Debian's chromium package")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture
async def portal_url(settings: Settings, aiohttp_server: Any) -> str:
    """The base URL of the portal served on 127.0.0.1, with its cleanup contexts running.

    `settings` comes first so that its database is set up before the server and dropped
    only after the server (and its pool) has shut down.
    """
    port = unused_port()  # known in advance: payments need it as JIXU_PUBLIC_URL
    public = msgspec.structs.replace(settings, public_url=f"http://127.0.0.1:{port}")
    server = await aiohttp_server(create_portal(public), host="127.0.0.1", port=port)
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=15_000
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_context(browser: Browser) -> BrowserContext:
    """A Chinese-speaking browser context whose steps wait up to STEP_TIMEOUT_MS."""
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    return context


async def snapshot(page: Page, name: str) -> None:
    """Save a full-page screenshot to artifacts/e2e/<name>.png (gitignored).

    Screenshots are for people reading a run, not assertions: one that a loaded host cannot
    take in time is reported and the test goes on (or goes on failing for its own reason).
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    except Error as error:
        print(f"screenshot {name} not taken: {error.message.splitlines()[0]}")


def watch_for_errors(page: Page) -> list[str]:
    """Collect console errors (CSP refusals among them) and uncaught exceptions."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text} ({message.location['url']})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    return problems
