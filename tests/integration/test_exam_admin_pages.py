"""题库与考试 in the browser: a bank imported (its error list shown, nothing stored from a
faulty file), a question edited, an exam created and edited, the results downloaded."""

import csv
import io
import re

import asyncpg
from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient
from openpyxl import Workbook

from engine.exams.bank_file import HEADER
from tests.admin_client import Browser
from tests.admin_world import insert_org, insert_user
from web.requests import CSRF_FIELD, session_csrf_token


async def setting(database_url: str) -> tuple[int, int, int]:
    """A course of an organisation, its administrator, and another organisation's."""
    connection = await asyncpg.connect(database_url)
    try:
        org = await insert_org(connection, "组织A", None)
        other = await insert_org(connection, "组织B", None)
        course_id: int = await connection.fetchval(
            "INSERT INTO courses (code, title, hour_tenths, org_id)"
            " VALUES ('c1', '职业道德', 20, $1) RETURNING id",
            org,
        )
        return (
            course_id,
            await insert_user(connection, org, role="admin"),
            await insert_user(connection, other, role="admin"),
        )
    finally:
        await connection.close()


async def upload(
    browser: Browser, course_id: int, filename: str, data: bytes, content_type: str
) -> ClientResponse:
    form = FormData()
    form.add_field(CSRF_FIELD, session_csrf_token(browser.token))
    form.add_field("file", data, filename=filename, content_type=content_type)
    response = await browser.client.post(
        f"/admin/banks/{course_id}/import",
        data=form,
        headers=browser.headers,
        allow_redirects=False,
    )
    await response.read()
    return response


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (HEADER, *rows):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SINGLE = [
    "单选题",
    "职业道德的核心是什么？",
    "爱岗敬业",
    "多劳多得",
    "",
    "",
    "",
    "",
    "A",
    5,
    "见第一章",
]


async def test_a_bank_imported_edited_and_examined_in_the_browser(
    client: TestClient, database_url: str
) -> None:
    course_id, admin_id, outsider_id = await setting(database_url)
    admin = await Browser.of(client, admin_id)

    template = await admin.get("/admin/bank-template.xlsx")
    assert template.status == 200
    assert template.content_type.endswith("spreadsheetml.sheet")
    template = await admin.get("/admin/bank-template.csv")
    assert (await template.read()).startswith(b"\xef\xbb\xbf\xe9\xa2\x98\xe5\x9e\x8b")

    # A Chinese Excel CSV (GB18030) with an error: listed with its row, nothing stored.
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(
        [
            HEADER,
            [str(cell) for cell in SINGLE],
            ["多选题", "", "甲", "乙", "", "", "", "", "AG", "2", ""],
        ]
    )
    refused = await upload(
        admin, course_id, "题库.csv", buffer.getvalue().encode("gb18030"), "text/csv"
    )
    assert refused.status == 400
    page = await refused.text()
    assert "文件有 2 处错误，未导入任何题目" in page
    assert "第 3 行：题干不能为空" in page
    assert "第 3 行：答案 G 不在选项中" in page
    assert "共 0 条" in page

    imported = await upload(
        admin,
        course_id,
        "题库.xlsx",
        xlsx([SINGLE, [*SINGLE[:1], "第二题", *SINGLE[2:]]]),
        "application/octet-stream",
    )
    assert (imported.status, imported.headers["Location"]) == (302, f"/admin/banks/{course_id}")
    page = await (await admin.get(f"/admin/banks/{course_id}", kind="single")).text()
    assert "职业道德的核心是什么？" in page
    assert "共 2 条" in page
    question_id = int(page.split('href="/admin/questions/')[1].split('"')[0])

    form = await (await admin.get(f"/admin/questions/{question_id}")).text()
    assert 'value="爱岗敬业"' in form
    fields = {"kind": "单选题", "stem": "职业道德的核心？", "option_a": "爱岗敬业",
              "option_b": "多劳多得", "answer": "", "score": "5"}  # fmt: skip
    invalid = await admin.post(f"/admin/questions/{question_id}", **fields)
    assert invalid.status == 400
    assert "答案不能为空" in await invalid.text()
    saved = await admin.post(f"/admin/questions/{question_id}", **{**fields, "answer": "A"})
    assert saved.status == 302
    page = await (await admin.get(f"/admin/banks/{course_id}")).text()
    assert "职业道德的核心？" in page
    assert "职业道德的核心是什么？" not in page
    # Its new version (the edit keeps the old one with the papers that drew it).
    edited_id = max(int(found) for found in re.findall(r'href="/admin/questions/(\d+)"', page))
    assert edited_id > question_id

    exam = {
        "title": "职业道德考试",
        "opens_at": "2023-11-01T08:00",
        "closes_at": "2099-12-31T18:00",
        "duration_min": "30",
        "total_score": "10",
        "pass_score": "6",
        "attempts_allowed": "2",
        "recipe_single": "3",
        "recipe_multiple": "0",
        "recipe_true_false": "0",
    }
    assert (await admin.get(f"/admin/banks/{course_id}/exams/new")).status == 200
    invalid = await admin.post(f"/admin/banks/{course_id}/exams", **exam)
    assert invalid.status == 400
    assert "单选题需抽 3 道，题库中只有 2 道" in await invalid.text()
    created = await admin.post(f"/admin/banks/{course_id}/exams", **{**exam, "recipe_single": "2"})
    assert created.status == 302
    page = await (await admin.get(f"/admin/banks/{course_id}/exams")).text()
    assert "职业道德考试" in page
    exam_id = int(page.split('href="/admin/exams/')[1].split('"')[0])
    form = await (await admin.get(f"/admin/exams/{exam_id}")).text()
    assert 'value="2099-12-31T18:00"' in form
    edited = await admin.post(
        f"/admin/exams/{exam_id}", **{**exam, "recipe_single": "2", "title": "期末考试"}
    )
    assert edited.status == 302

    listed = await (await admin.get("/admin/exams", q="期末", state="open")).text()
    assert "期末考试" in listed
    assert "共 1 条" in listed

    results = await admin.get(f"/admin/exams/{exam_id}/results.csv")
    assert results.status == 200
    assert results.content_type == "text/csv"
    assert "attachment" in results.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await results.read()).decode("utf-8-sig"))))
    assert rows[0][:3] == ["姓名", "用户名", "单位"]
    assert rows[1:] == []

    # Refusals show the page again with the reason, nothing changed.
    refused = await admin.post(
        f"/admin/questions/{edited_id}", **{**fields, "answer": "A", "score": "4"}
    )
    assert refused.status == 409
    assert "修改后，考试“期末考试”将无法组卷" in await refused.text()
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            """INSERT INTO exam_attempts (exam_id, learner_id, number, started_at, deadline,
                                          paper, total_score)
               VALUES ($1, $2, 1, now(), now() + interval '30 minutes', '[]', 10)""",
            exam_id,
            outsider_id,
        )
    finally:
        await connection.close()
    refused = await admin.post(
        f"/admin/exams/{exam_id}",
        **{**exam, "recipe_single": "2", "title": "期末考试", "pass_score": "5"},
    )
    assert refused.status == 409
    assert "有 1 名考生正在作答，现在只能修改考试名称" in await refused.text()

    outsider = await Browser.of(client, outsider_id)
    for path in (
        f"/admin/banks/{course_id}",
        f"/admin/questions/{question_id}",
        f"/admin/exams/{exam_id}",
        f"/admin/exams/{exam_id}/results.csv",
    ):
        assert (await outsider.get(path)).status == 404, path
    assert (
        await upload(outsider, course_id, "题库.xlsx", xlsx([SINGLE]), "text/csv")
    ).status == 404
