"""A learner who passed a plan finds it in 我的档案, prints its archive and its certificate, and
opens the certificate's verify link (the one its QR code holds)."""

import io
import re
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from playwright.async_api import Browser, expect
from pypdf import PdfReader

from engine import db
from engine.settings import Settings
from tests.conftest import build_course, enrol
from tests.e2e.conftest import new_context, snapshot, watch_for_errors
from tests.e2e.test_player_browser import log_in
from tests.integration.test_refund_revokes import pass_exam, watch_all

pytestmark = pytest.mark.browser

Payload = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, current_year=2018)


def verify_link(pdf: bytes) -> str:
    """The URI the certificate's QR code area links to (the same text the code encodes)."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    links = [
        annotation.get_object()["/A"]["/URI"]
        for annotation in page.get("/Annots", [])
        if annotation.get_object().get("/Subtype") == "/Link"
    ]
    assert len(links) == 1, links
    return str(links[0])


async def test_print_the_certificate_and_open_its_verify_link(
    browser: Browser, portal_url: str, registration: Payload, database_url: str
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
        pool = await db.create_pool(database_url, min_size=1, max_size=1)
        try:
            await watch_all(pool, learner_id, course.course_id)
            await pass_exam(pool, learner_id, course)
        finally:
            await pool.close()

        await page.goto(f"{portal_url}/")
        await expect(page.locator(".year-hours")).to_contain_text("2018年度学时")
        await (
            page.get_by_role("navigation", name="主导航栏")
            .get_by_role("link", name="我的档案")
            .click()
        )
        row = page.locator(f'tr[data-plan="{course.plan_id}"]')
        await expect(row).to_contain_text("已通过")
        await expect(row.locator(".earned")).to_have_text("3学时")
        await expect(row.locator(".scores")).to_contain_text("10分")
        await snapshot(page, "archive")

        await row.get_by_role("link", name="查看档案").click()
        await expect(page).to_have_url(f"{portal_url}/archive/plans/{course.plan_id}")
        await expect(page.locator(".archive-courses")).to_contain_text("10/10（通过）")
        # 打印档案: the print stylesheet leaves the navigation and the buttons off the paper.
        await page.emulate_media(media="print")
        await expect(page.locator(".main-nav")).to_be_hidden()
        await expect(page.get_by_role("button", name="打印档案")).to_be_hidden()
        await page.emulate_media(media="screen")

        certificate = page.get_by_role("link", name="打印证书")
        href = await certificate.get_attribute("href")
        assert href == f"/archive/plans/{course.plan_id}/certificate.pdf"
        response = await context.request.get(f"{portal_url}{href}")
        assert response.ok
        assert response.headers["content-type"] == "application/pdf"
        pdf = await response.body()
        link = verify_link(pdf)
        assert re.fullmatch(
            rf"{re.escape(portal_url)}/verify/JX2018-[0-9A-Z]{{11}}\?h=[0-9a-f]{{64}}", link
        ), link

        # Anyone can open it: a fresh browser without the learner's login.
        stranger = await new_context(browser)
        try:
            verify = await stranger.new_page()
            await verify.goto(link)
            await expect(verify.locator("#verdict")).to_contain_text("证书有效")
            await expect(verify.locator(".certificate-facts")).to_contain_text("测试计划")
            await expect(verify.locator(".id-number")).to_have_text(
                re.compile(r"^\d{3}\*{11}\w{4}$")
            )
            await snapshot(verify, "verify")
        finally:
            await stranger.close()
        assert problems == []
    finally:
        await context.close()
