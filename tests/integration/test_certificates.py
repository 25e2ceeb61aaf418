"""Certificates: only for passed plans, real Chinese type, the same bytes on every print, and a
public verify page that tells valid, revoked, unknown and altered serials and hashes apart."""

import asyncio
import io
import re
from collections.abc import Callable
from typing import Any

import msgspec
import pypdfium2
import pytest
from aiohttp.test_utils import TestClient
from pypdf import PdfReader

from engine.appkeys import DB
from engine.archive import serials
from engine.archive.document import missing_characters
from engine.commerce import orders
from engine.settings import Settings
from tests.conftest import Course, Learner, build_course, id_card_number, new_learner
from tests.integration.test_cart_orders import credit
from tests.integration.test_refund_revokes import activate, buy, pass_exam, watch_all
from tests.integration.two_orgs import add_super
from web.admin_cli import revoke_certificate
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]
NAME = "欧阳晓燕"
PLAN_TITLE = "测试计划"
RENDER_SCALE = 2.0
SITE = "https://jixu.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, current_year=2018, public_url=SITE)


class Passed(msgspec.Struct):
    learner: Learner
    course: Course
    order_id: int
    id_number: str


async def passed_plan(client: TestClient, registration: Payload, database_url: str) -> Passed:
    """A learner who bought, watched and passed the exam of a plan's only course."""
    id_number = id_card_number()
    learner = await new_learner(client, lambda: registration(real_name=NAME, id_number=id_number))
    course = await build_course(database_url, hour_tenths=20, elective_tenths=20, examined=True)
    await activate(client, learner, course.plan_id)
    await credit(database_url, learner.id, 10_000)
    order_id = await buy(client.app[DB], learner.id, course.plan_id, course.course_id)
    await watch_all(client.app[DB], learner.id, course.course_id)
    await pass_exam(client.app[DB], learner.id, course)
    return Passed(learner, course, order_id, id_number)


async def print_certificate(client: TestClient, passed: Passed) -> bytes:
    response = await client.get(
        f"/archive/plans/{passed.course.plan_id}/certificate.pdf", headers=passed.learner.headers
    )
    assert response.status == 200, await response.text()
    assert response.content_type == "application/pdf"
    return await response.read()


def serial_and_hash(pdf: bytes) -> tuple[str, str]:
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    serial = re.search(r"JX\d{4}-[0-9A-Z]{11}", text)
    digest = re.search(r"[0-9a-f]{64}", text)
    assert serial is not None, text
    assert digest is not None, text
    return serial.group(0), digest.group(0)


async def test_only_a_passed_plan_prints_a_certificate_and_reprints_give_the_same_bytes(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    learning = await build_course(database_url, hour_tenths=20, elective_tenths=50)
    await activate(client, learner, learning.plan_id)
    refused = await client.get(
        f"/archive/plans/{learning.plan_id}/certificate.pdf", headers=learner.headers
    )
    assert refused.status == 422
    assert "培训计划通过后才能打印证书" in await refused.text()
    never = await client.get("/archive/plans/999999/certificate.pdf", headers=learner.headers)
    assert never.status == 422
    archive = await (await client.get("/archive", headers=learner.headers)).text()
    assert "打印证书" not in archive

    passed = await passed_plan(client, registration, database_url)
    first = await print_certificate(client, passed)
    again = await print_certificate(client, passed)
    assert first == again
    archive = await (await client.get("/archive", headers=passed.learner.headers)).text()
    assert f'href="/archive/plans/{passed.course.plan_id}/certificate.pdf"' in archive
    # Another learner cannot print it.
    other = await client.get(
        f"/archive/plans/{passed.course.plan_id}/certificate.pdf", headers=learner.headers
    )
    assert other.status == 422


async def test_the_certificate_is_set_in_real_chinese_type(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    passed = await passed_plan(client, registration, database_url)
    pdf = await print_certificate(client, passed)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for words in (NAME, PLAN_TITLE, "培训合格证书", "测试课程", "10/10", "2学时"):
        assert words in text, words
    assert passed.id_number not in text
    assert passed.id_number[:3] + "*" * 11 + passed.id_number[-4:] in text
    assert missing_characters(text) == set()

    # Page 1 as pixels: every character of the name and the plan drawn with ink in its box.
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    bitmap = page.render(scale=RENDER_SCALE, grayscale=True).to_pil()
    height = page.get_height()
    textpage = page.get_textpage()
    page_text = textpage.get_text_range()
    checked = 0
    for word in (NAME, PLAN_TITLE, "培训合格证书"):
        start = page_text.index(word)
        for index in range(start, start + len(word)):
            left, bottom, right, top = textpage.get_charbox(index)
            box = bitmap.crop(
                (
                    int(left * RENDER_SCALE),
                    int((height - top) * RENDER_SCALE),
                    int(right * RENDER_SCALE) + 1,
                    int((height - bottom) * RENDER_SCALE) + 1,
                )
            )
            dark = sum(box.histogram()[:128])
            assert dark > 5, page_text[index]
            checked += 1
    assert checked == len(NAME + PLAN_TITLE + "培训合格证书")
    document.close()


async def verify(client: TestClient, path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status, await response.text()


async def test_the_verify_page_tells_valid_revoked_unknown_and_altered_apart(
    client: TestClient, registration: Payload, database_url: str, settings: Settings
) -> None:
    passed = await passed_plan(client, registration, database_url)
    serial, digest = serial_and_hash(await print_certificate(client, passed))
    await add_super(database_url)  # the `jixu` commands act as the base data's super administrator

    # Anyone may verify: no login.
    status, page = await verify(client, f"/verify/{serial}?h={digest}")
    assert status == 200
    assert 'data-status="valid"' in page
    assert "证书有效" in page
    assert NAME in page
    assert PLAN_TITLE in page
    assert passed.id_number not in page
    assert passed.id_number[-4:] in page

    status, page = await verify(client, f"/verify/{serial}?h={'0' * 64}")
    assert (status, 'data-status="hash_mismatch"' in page) == (200, True)
    assert "内容哈希不符" in page

    altered = serial[:-3] + ("Y" if serial[-3] != "Y" else "Z") + serial[-2:]
    status, page = await verify(client, f"/verify/{altered}")
    assert (status, 'data-status="bad_serial"' in page) == (404, True)
    assert NAME not in page

    unknown = serials.new_serial(2018)
    status, page = await verify(client, f"/verify/{unknown}")
    assert (status, 'data-status="unknown"' in page) == (404, True)

    # Typed in lower case with spaces, through the form: the same certificate.
    form = await client.get(f"/verify?serial= {serial.lower()} ", allow_redirects=True)
    assert 'data-status="valid"' in await form.text()

    await asyncio.to_thread(revoke_certificate, settings, serial, "证书信息登记有误")
    status, page = await verify(client, f"/verify/{serial}?h={digest}")
    assert (status, 'data-status="revoked"' in page) == (200, True)
    assert "证书信息登记有误" in page
    with pytest.raises(SystemExit) as again:
        await asyncio.to_thread(revoke_certificate, settings, serial, "再次撤销")
    assert "已被撤销" in str(again.value.code)
    with pytest.raises(SystemExit) as missing:
        await asyncio.to_thread(revoke_certificate, settings, unknown, "不存在")
    assert "没有该编号的证书" in str(missing.value.code)

    # Printing again after a revocation issues a new certificate with a new serial.
    reissued, _ = serial_and_hash(await print_certificate(client, passed))
    assert reissued != serial


async def test_a_refund_that_takes_the_pass_back_withdraws_the_certificate(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    passed = await passed_plan(client, registration, database_url)
    serial, digest = serial_and_hash(await print_certificate(client, passed))
    await orders.refund(client.app[DB], passed.order_id)
    status, page = await verify(client, f"/verify/{serial}?h={digest}")
    assert (status, 'data-status="revoked"' in page) == (200, True)
    assert "不再合格" in page
    refused = await client.get(
        f"/archive/plans/{passed.course.plan_id}/certificate.pdf", headers=passed.learner.headers
    )
    assert refused.status == 422


async def test_no_certificate_without_the_sites_public_address(
    aiohttp_client: Any,
    settings: Settings,
    clock: Any,
    registration: Payload,
    database_url: str,
) -> None:
    """The verify link printed on paper never comes from the Host header."""
    unset = msgspec.structs.replace(settings, public_url=None)
    client = await aiohttp_client(create_portal(unset, clock=clock))
    try:
        passed = await passed_plan(client, registration, database_url)
        response = await client.get(
            f"/archive/plans/{passed.course.plan_id}/certificate.pdf",
            headers={**passed.learner.headers, "Host": "evil.example"},
        )
        assert response.status == 422
        assert "站点地址未配置" in await response.text()
    finally:
        await client.close()
