"""The pages of 消息 and 档案 administration, as a browser uses them: a notice and a survey
sent from their forms and the survey's results (page and CSV); a question answered from the
queue; a 线下档案 entered with an evidence file uploaded, served to its learner and the
scope's administrators only; a certificate revoked, as its verify page then says."""

from collections.abc import Callable
from typing import Any

import asyncpg
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from engine.archive import serials
from tests.admin_client import Browser
from tests.admin_world import insert_org, insert_user
from tests.conftest import Learner, build_course, enrol, new_learner
from web.requests import CSRF_FIELD, session_csrf_token

Payload = Callable[..., dict[str, Any]]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def execute(database_url: str, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def user_in(database_url: str, org_id: int, role: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return await insert_user(connection, org_id, role=role)
    finally:
        await connection.close()


async def username_of(database_url: str, learner: Learner) -> str:
    name: str = await execute(database_url, "SELECT username FROM users WHERE id = $1", learner.id)
    return name


async def test_notices_surveys_and_the_question_queue_from_their_pages(
    client: TestClient, database_url: str, org_id: int, registration: Payload
) -> None:
    learner = await new_learner(client, registration)
    admin = await Browser.of(client, await user_in(database_url, org_id, "admin"))

    sent = await admin.post(
        "/admin/messages/notice",
        to=await username_of(database_url, learner),
        title="资料提醒",
        body="请完善资料",
    )
    assert sent.status == 302
    inbox = await (await client.get("/messages?kind=system", headers=learner.headers)).text()
    assert "资料提醒" in inbox

    form = await (await admin.get("/admin/messages/survey")).text()
    assert '<label for="questions">' in form
    assert "全平台" not in form  # an administrator's audience is its subtree
    posted = await admin.post(
        "/admin/messages/survey",
        title="学习体验调查",
        questions="单选：难度如何？\n偏难\n适中\n\n问答：建议？",
        org_id=str(org_id),
    )
    assert posted.status == 302
    results_url = posted.headers["Location"]
    survey_id = int(results_url.rsplit("/", 1)[1])
    message_id = await execute(
        database_url, "SELECT id FROM messages WHERE survey_id = $1", survey_id
    )
    questions = await (await client.get(f"/messages/{message_id}", headers=learner.headers)).text()
    assert "难度如何？" in questions
    connection = await asyncpg.connect(database_url)
    try:
        single, text = await connection.fetch(
            "SELECT id FROM survey_questions WHERE survey_id = $1 ORDER BY position", survey_id
        )
    finally:
        await connection.close()
    answered = await client.post(
        f"/messages/{message_id}/survey",
        data={f"q{single['id']}": "1", f"q{text['id']}": "多些案例"},
        headers=learner.headers,
    )
    assert "问卷已提交" in await answered.text()
    page = await (await admin.get(results_url)).text()
    assert "回收率" in page
    assert "100.0%" in page
    assert "多些案例" in page
    csv = await admin.get(f"{results_url}/results.csv")
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert "多些案例" in await csv.text()
    unaddressed = await admin.post("/admin/messages/announcement", title="公告", body="内容")
    assert unaddressed.status == 400
    assert "请选择发送范围" in await unaddressed.text()
    everyone = await admin.post(
        "/admin/messages/announcement", title="公告", body="内容", everyone="true"
    )
    assert everyone.status == 403  # every organisation: super administrators only
    boss = await Browser.of(client, await user_in(database_url, org_id, "super"))
    assert "发给全平台的全部学员" in await (await boss.get("/admin/messages/announcement")).text()
    posted = await boss.post(
        "/admin/messages/announcement", title="全平台公告", body="新年快乐", everyone="true"
    )
    assert posted.status == 302
    inbox = await (await client.get("/messages?kind=announcement", headers=learner.headers)).text()
    assert "全平台公告" in inbox
    listed = await (await admin.get("/admin/messages", kind="survey")).text()
    assert "学习体验调查" in listed
    refused = await admin.post("/admin/messages/survey", title="x", questions="填空：x")
    assert refused.status == 400
    assert "第1题应以" in await refused.text()

    # The queue: the course's teacher answers a question of its 问答 from the page.
    course = await build_course(database_url)
    await execute(
        database_url, "UPDATE courses SET org_id = $2 WHERE id = $1", course.course_id, org_id
    )
    await enrol(database_url, learner.id, course)
    teacher_id = await user_in(database_url, org_id, "teacher")
    await execute(
        database_url,
        "INSERT INTO course_teachers (course_id, user_id) VALUES ($1, $2)",
        course.course_id,
        teacher_id,
    )
    ws = await client.ws_connect("/ws", headers=learner.headers)
    await ws.send_json({"type": "chat.join", "room": f"qa:{course.course_id}"})
    await ws.receive_json(timeout=5)
    await ws.send_json(
        {"type": "chat.send", "room": f"qa:{course.course_id}", "text": "证书何时发？"}
    )
    question = await ws.receive_json(timeout=5)
    teacher = await Browser.of(client, teacher_id)
    assert "证书何时发？" in await (await teacher.get("/admin/questions")).text()
    answered = await teacher.post(
        f"/admin/questions/{question['id']}/answer", text="通过后即可打印"
    )
    assert answered.status == 302
    live = await ws.receive_json(timeout=5)
    while live["type"] != "chat.message":
        live = await ws.receive_json(timeout=5)
    assert (live["answer_to"], live["text"]) == (question["id"], "通过后即可打印")
    await ws.close()
    assert "没有待回答的问题" in await (await teacher.get("/admin/questions")).text()
    # A teacher works the queues, not the sends.
    assert (await teacher.get("/admin/messages")).status == 403


async def upload(browser: Browser, record_id: int, name: str, data: bytes) -> Any:
    form = FormData()
    form.add_field(CSRF_FIELD, session_csrf_token(browser.token))
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    response = await browser.client.post(
        f"/admin/offline-records/{record_id}/evidence",
        data=form,
        headers=browser.headers,
        allow_redirects=False,
    )
    await response.read()
    return response


async def test_offline_records_with_evidence_and_revocation_from_their_pages(
    client: TestClient, database_url: str, org_id: int, registration: Payload
) -> None:
    learner = await new_learner(client, registration)
    other = await new_learner(client, registration)
    admin = await Browser.of(client, await user_in(database_url, org_id, "admin"))
    connection = await asyncpg.connect(database_url)
    try:
        elsewhere = await insert_org(connection, "另一组织", None)
    finally:
        await connection.close()
    outsider = await Browser.of(client, await user_in(database_url, elsewhere, "admin"))

    added = await admin.post(
        "/admin/offline-records",
        username=await username_of(database_url, learner),
        kind="professional",
        title="建筑节能技术研修班",
        hours="16",
        completed_on="2023-06-30",
    )
    assert added.status == 302
    record_url = added.headers["Location"]
    record_id = int(record_url.rsplit("/", 1)[1])
    assert (await outsider.get(record_url)).status == 404

    refused = await upload(admin, record_id, "证书.pdf", b"<html>not a pdf</html>")
    assert refused.status == 400
    assert "只能是PDF、JPG或PNG" in await refused.text()
    assert (await upload(outsider, record_id, "证书.pdf", PDF)).status == 404
    assert (await upload(admin, record_id, "../证书.pdf", PDF)).status == 302
    evidence_id = await execute(database_url, "SELECT id FROM offline_evidence")
    page = await (await admin.get(record_url)).text()
    assert f'href="/archive/evidence/{evidence_id}">证书.pdf</a>' in page

    url = f"/archive/evidence/{evidence_id}"
    served = await admin.get(url)
    assert (served.status, await served.read()) == (200, PDF)
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    own = await client.get(url, headers=learner.headers)
    assert (own.status, await own.read()) == (200, PDF)
    tab = await (await client.get("/archive?tab=offline", headers=learner.headers)).text()
    assert f'href="{url}"' in tab
    assert (await client.get(url, headers=other.headers)).status == 404
    assert (await outsider.get(url)).status == 404
    assert (await client.get(url, allow_redirects=False)).status == 302

    # A certificate of the learner, revoked from the list.
    plan_id = await execute(
        database_url,
        """INSERT INTO plans (code, title, kind, year, elective_tenths, opens_at, closes_at)
           VALUES ('p-cert', '2023年专业科目', 'professional', 2023, 10, '2000-01-01',
                   '2100-01-01') RETURNING id""",
    )
    serial = serials.new_serial(2023)
    await execute(
        database_url,
        """INSERT INTO certificates (serial, learner_id, plan_id, facts, content_hash, issued_at)
           VALUES ($1, $2, $3, '{}', repeat('0', 64), now())""",
        serial,
        learner.id,
        plan_id,
    )
    assert serial in await (await admin.get("/admin/certificates", q=serial)).text()
    assert serial not in await (await outsider.get("/admin/certificates")).text()
    revoked = await admin.post(f"/admin/certificates/{serial}/revoke", reason="证书信息登记有误")
    assert revoked.status == 302
    assert "已撤销：证书信息登记有误" in await (await admin.get("/admin/certificates")).text()

    assert (await admin.post(f"{record_url}/delete")).status == 302
    assert (await admin.get(url)).status == 404
