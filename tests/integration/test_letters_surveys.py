"""站内信 (between learners of one organisation: block, report, a send rate) and 调查问卷
(single, multiple and text questions, one response per learner), over the pages; and the
`jixu messages` command that posts them."""

import argparse
import asyncio
from typing import Any

import asyncpg
import msgspec
import pytest
from aiohttp.test_utils import TestClient

from engine import db
from engine.messages import surveys
from engine.messages.types import QuestionDraft, SurveyDraft
from engine.settings import Settings
from tests.conftest import Learner, new_learner
from tests.integration.two_orgs import add_super
from web import messages_cli

Payload = Any


async def rows(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def username(database_url: str, learner: Learner) -> str:
    found = await rows(database_url, "SELECT username FROM users WHERE id = $1", learner.id)
    name: str = found[0]["username"]
    return name


async def send(
    client: TestClient, sender: Learner, recipient: str, title: str = "你好", body: str = "一起学习"
) -> tuple[int, str]:
    response = await client.post(
        "/messages/letters",
        data={"recipient": recipient, "title": title, "body": body},
        headers=sender.headers,
        allow_redirects=False,
    )
    return response.status, await response.text()


async def test_letters_between_learners_of_one_organisation(
    client: TestClient,
    registration: Payload,
    database_url: str,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    alice, bob = await new_learner(client, registration), await new_learner(client, registration)
    bob_name = await username(database_url, bob)
    await add_super(database_url)  # the `jixu` commands act as the base data's super administrator
    async with client.ws_connect("/ws", headers=bob.headers) as ws:
        status, _ = await send(client, alice, bob_name.upper(), "<script>x</script>", "第一封\n信")
        assert status == 302
        notice = await ws.receive_json(timeout=5)
        assert (notice["kind"], notice["title"], notice["unread"]) == (
            "letter",
            "<script>x</script>",
            1,
        )
    inbox = await (await client.get("/messages?kind=letter", headers=bob.headers)).text()
    assert "&lt;script&gt;x&lt;/script&gt;" in inbox
    assert "<script>x" not in inbox
    [letter] = await rows(database_url, "SELECT id, body FROM messages WHERE kind = 'letter'")
    assert letter["body"] == "第一封\n信"  # stored as given
    page = await (await client.get(f"/messages/{letter['id']}", headers=bob.headers)).text()
    assert "回复" in page
    assert "屏蔽发信人" in page
    assert "举报" in page

    # Refused, in Chinese, storing nothing: unknown, oneself, another organisation, empty.
    other_org = (
        await rows(
            database_url, "INSERT INTO orgs (code, name) VALUES ('o2', '另一单位') RETURNING id"
        )
    )[0]["id"]
    carol = await new_learner(client, lambda: registration(org_id=other_org))
    refusals = [
        (await send(client, alice, "nobody_here"), "收信人不存在"),
        (await send(client, alice, await username(database_url, alice)), "不能给自己发送站内信"),
        (
            await send(client, alice, await username(database_url, carol)),
            "只能给同一组织机构的学员发送站内信",
        ),
        (await send(client, alice, bob_name, title=" "), "请填写标题"),
        (await send(client, alice, bob_name, body="长" * 5001), "内容不能超过5000个字"),
    ]
    for (status, html), message in refusals:
        assert status == 400
        assert message in html
    # Blocked: refused until unblocked.
    blocked = await client.post(
        "/messages/blocks",
        data={"learner_id": str(alice.id)},
        headers=bob.headers,
        allow_redirects=False,
    )
    assert blocked.status == 302
    status, html = await send(client, alice, bob_name)
    assert status == 409
    assert "对方已拒收您的站内信" in html
    letter_page = await (await client.get("/messages/letters/new", headers=bob.headers)).text()
    assert "已屏蔽的学员" in letter_page
    await client.post(
        "/messages/blocks/delete", data={"learner_id": str(alice.id)}, headers=bob.headers
    )
    assert (await send(client, alice, bob_name))[0] == 302
    assert len(await rows(database_url, "SELECT 1 FROM messages WHERE kind = 'letter'")) == 2

    # 举报: stored once with its reason, for administrators.
    for expected in ("举报已提交", "您已举报过这条站内信"):
        reported = await client.post(
            f"/messages/{letter['id']}/report", data={"reason": "广告"}, headers=bob.headers
        )
        assert expected in await reported.text()
    empty = await client.post(
        f"/messages/{letter['id']}/report", data={"reason": ""}, headers=bob.headers
    )
    assert "请填写举报原因" in await empty.text()
    stranger = await client.post(
        f"/messages/{letter['id']}/report", data={"reason": "x"}, headers=alice.headers
    )
    assert "消息不存在" in await stranger.text()
    [report] = await rows(database_url, "SELECT reporter_id, reason FROM message_reports")
    assert (report["reporter_id"], report["reason"]) == (bob.id, "广告")
    reports = argparse.Namespace(messages_command="reports", page=1)
    await asyncio.to_thread(messages_cli.run, settings, reports)
    listed = capsys.readouterr().out
    assert f"{bob_name} reported message {letter['id']} from " in listed
    assert "'广告'" in listed


async def test_letters_have_a_send_rate(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    alice, bob = await new_learner(client, registration), await new_learner(client, registration)
    bob_name = await username(database_url, bob)
    # A refused letter does not count against the rate.
    assert (await send(client, alice, bob_name, title=""))[0] == 400
    for _ in range(10):
        assert (await send(client, alice, bob_name))[0] == 302
    status, html = await send(client, alice, bob_name)
    assert status == 429
    assert "发送站内信过于频繁" in html
    assert len(await rows(database_url, "SELECT 1 FROM messages")) == 10


@pytest.fixture
def survey() -> SurveyDraft:
    return SurveyDraft(
        title="学习体验调查",
        intro="请花一分钟填写",
        questions=[
            QuestionDraft("single", "课程难度如何？", ["偏难", "适中", "偏易"]),
            QuestionDraft("multiple", "您常在何时学习？", ["早上", "午间", "晚上"]),
            QuestionDraft("text", "还有什么建议？"),
        ],
    )


async def test_a_survey_is_answered_once(
    client: TestClient, registration: Payload, database_url: str, survey: SurveyDraft
) -> None:
    learner = await new_learner(client, registration)
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        survey_id, sent = await surveys.post(pool, survey)
    finally:
        await pool.close()
    assert sent == 1
    [message] = await rows(database_url, "SELECT id FROM messages WHERE survey_id = $1", survey_id)
    page = await (await client.get(f"/messages/{message['id']}", headers=learner.headers)).text()
    assert "课程难度如何？" in page
    assert "（多选）" in page
    questions = [
        row["id"]
        for row in await rows(database_url, "SELECT id FROM survey_questions ORDER BY position")
    ]
    url = f"/messages/{message['id']}/survey"

    # Incomplete or invalid: each question says what it lacks; nothing is stored.
    for data, missing in (
        ({f"q{questions[0]}": "1"}, "请至少选择一项"),
        (
            {f"q{questions[0]}": "7", f"q{questions[1]}": "0", f"q{questions[2]}": "好"},
            "请选择一项",
        ),
        (
            {f"q{questions[0]}": "²", f"q{questions[1]}": "0", f"q{questions[2]}": "好"},
            "请选择一项",
        ),
        (
            {f"q{questions[0]}": "1" * 5000, f"q{questions[1]}": "0", f"q{questions[2]}": "好"},
            "请选择一项",
        ),
        (
            {f"q{questions[0]}": "1", f"q{questions[1]}": "0", f"q{questions[2]}": "  "},
            "请填写此题",
        ),
    ):
        refused = await client.post(url, data=data, headers=learner.headers)
        assert refused.status == 400
        assert missing in await refused.text()
    assert await rows(database_url, "SELECT 1 FROM survey_responses") == []

    answer = [
        (f"q{questions[0]}", "1"),
        (f"q{questions[1]}", "0"),
        (f"q{questions[1]}", "2"),
        (f"q{questions[2]}", "<b>多些案例</b>"),
    ]
    done = await client.post(url, data=answer, headers=learner.headers)
    assert "问卷已提交" in await done.text()
    again = await client.post(url, data=answer, headers=learner.headers)
    assert "您已提交过该问卷" in await again.text()
    stored = await rows(
        database_url, "SELECT question_id, choices, answer FROM survey_answers ORDER BY question_id"
    )
    assert [(row["choices"], row["answer"]) for row in stored] == [
        ([1], ""),
        ([0, 2], ""),
        ([], "<b>多些案例</b>"),
    ]
    page = await (await client.get(f"/messages/{message['id']}", headers=learner.headers)).text()
    assert "您已提交该问卷" in page
    # Another learner was not sent it.
    other = await new_learner(client, registration)
    assert (await client.post(url, data=answer, headers=other.headers)).status == 404


async def test_the_command_posts_notices_announcements_and_surveys(
    client: TestClient,
    registration: Payload,
    database_url: str,
    settings: Settings,
    survey: SurveyDraft,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    learners = [await new_learner(client, registration) for _ in range(2)]
    name = await username(database_url, learners[0])
    await add_super(database_url)

    def run(**args: Any) -> None:
        messages_cli.run(settings, argparse.Namespace(**args))

    await asyncio.to_thread(
        run, messages_command="notice", to=[name], title="账号提醒", body="请完善资料"
    )
    await asyncio.to_thread(
        run, messages_command="announce", title="放假通知", body="国庆放假", org="test-org"
    )
    path = tmp_path / "survey.json"
    path.write_bytes(msgspec.json.encode(survey))
    await asyncio.to_thread(run, messages_command="survey", file=path, org=None)
    output = capsys.readouterr().out
    assert "sent a notice to 1 learner(s)" in output
    assert "posted the announcement to 2 learner(s)" in output
    assert "to 2 learner(s)" in output
    kinds = await rows(
        database_url, "SELECT kind, count(*) FROM messages GROUP BY kind ORDER BY kind"
    )
    assert [(row["kind"], row["count"]) for row in kinds] == [
        ("announcement", 2),
        ("survey", 2),
        ("system", 1),
    ]
    with pytest.raises(SystemExit, match="没有这些学员：nobody"):
        await asyncio.to_thread(run, messages_command="notice", to=["nobody"], title="x", body="y")
    with pytest.raises(SystemExit, match="没有编码为nope的组织机构"):
        await asyncio.to_thread(run, messages_command="announce", title="x", body="y", org="nope")
