"""The administration of messages within an organisation subtree: notices, announcements
and surveys (with results and CSV) sent as super, administrator of A or B, teacher and
learner; refused sends change nothing; every send is audited with its sender and subtree."""

from collections.abc import AsyncIterator

import pytest

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.messages import admin, survey_text, surveys
from engine.messages import service as messages
from engine.messages.types import QuestionDraft, SurveyDraft
from tests.integration.two_orgs import World, build_world

SURVEY = SurveyDraft(
    title="学习体验调查",
    intro="请花一分钟填写",
    questions=[
        QuestionDraft("single", "课程难度如何？", ["偏难", "适中", "偏易"]),
        QuestionDraft("multiple", "您常在何时学习？", ["早上", "午间", "晚上"]),
        QuestionDraft("text", "还有什么建议？"),
    ],
)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    built = await build_world(database_url)
    yield built
    await built.pool.close()


async def snapshot(world: World) -> tuple[int, int, int, int]:
    """What a refused send must leave as it was: messages, sends, surveys, audit rows."""
    counts = await world.fetch(
        """SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM dispatches),
                  (SELECT count(*) FROM surveys), (SELECT count(*) FROM audit_log)"""
    )
    return tuple(counts[0])  # type: ignore[return-value]


async def inbox_titles(world: World, learner: str) -> list[str]:
    found, _ = await messages.inbox(world.pool, world[learner], "system")
    announced, _ = await messages.inbox(world.pool, world[learner], "announcement")
    return [message.title for message in found + announced]


async def test_notices_and_announcements_stay_within_the_scope(world: World) -> None:
    pool = world.pool
    before = await snapshot(world)
    refusals = [
        (
            admin.send_notice(pool, world.scope("admin_a"), ["learner_b"], "通知", "内容"),
            NotFound,
        ),
        (
            admin.send_notice(pool, world.scope("admin_b"), ["learner_a"], "通知", "内容"),
            NotFound,
        ),
        (admin.send_notice(pool, world.scope("teacher"), ["learner_a"], "通知", "内容"), Forbidden),
        (admin.send_notice(pool, world.scope("learner"), ["learner_a"], "通知", "内容"), Forbidden),
        (admin.announce(pool, world.scope("admin_a"), "公告", "内容", world["b"]), NotFound),
        (admin.announce(pool, world.scope("admin_b"), "公告", "内容", world["a1"]), NotFound),
        (admin.announce(pool, world.scope("admin_a"), "公告", "内容", None), Forbidden),
        (admin.announce(pool, world.scope("teacher"), "公告", "内容", world["a"]), Forbidden),
        (admin.announce(pool, world.scope("admin_a"), "", "内容", world["a"]), InvalidInput),
    ]
    for call, refusal in refusals:
        with pytest.raises(refusal):
            await call
    assert await snapshot(world) == before
    assert await inbox_titles(world, "learner") == []

    # Administrator of A: a notice to its learner (in A1, below A), a 公告 to A's subtree.
    notice_id, sent = await admin.send_notice(
        pool, world.scope("admin_a"), ["LEARNER_A", "learner_a"], "资料提醒", "请完善资料"
    )
    assert sent == 1
    _, sent = await admin.announce(pool, world.scope("admin_a"), "A的公告", "周末维护", world["a"])
    assert sent == 1
    # The super administrator alone may announce to every organisation.
    _, sent = await admin.announce(pool, world.scope("super"), "全平台公告", "新年快乐", None)
    assert sent == 2
    assert await inbox_titles(world, "learner") == ["资料提醒", "全平台公告", "A的公告"]
    assert await inbox_titles(world, "learner_b") == ["全平台公告"]

    sends = {
        who: [
            (d.title, d.sender, d.org_name, d.recipients)
            for d in (await admin.sent(pool, world.scope(who))).items
        ]
        for who in ("admin_a", "admin_b", "super")
    }
    assert sends["admin_a"] == [
        ("A的公告", "admin_a", "组织a", 1),
        ("资料提醒", "admin_a", "组织a", 1),
    ]
    assert sends["admin_b"] == []
    assert [title for title, *_ in sends["super"]] == ["全平台公告", "A的公告", "资料提醒"]
    with pytest.raises(Forbidden):
        await admin.sent(pool, world.scope("teacher"))

    audit = await world.fetch(
        "SELECT actor_name, action, object_id, org_id, after FROM audit_log ORDER BY id"
    )
    assert [(row["actor_name"], row["action"], row["org_id"]) for row in audit] == [
        ("admin_a", "notice.send", world["a"]),
        ("admin_a", "announcement.send", world["a"]),
        ("super", "announcement.send", None),
    ]
    assert audit[0]["object_id"] == str(notice_id)
    assert '"to": ["learner_a"]' in audit[0]["after"]


async def test_a_survey_sent_to_a_subtree_and_its_results(world: World) -> None:
    pool = world.pool
    before = await snapshot(world)
    for scope, org, refusal in (
        ("admin_b", "a", NotFound),
        ("teacher", "a", Forbidden),
        ("admin_a", None, Forbidden),
    ):
        with pytest.raises(refusal):
            await admin.post_survey(pool, world.scope(scope), SURVEY, world[org] if org else None)
    assert await snapshot(world) == before

    survey_id, sent = await admin.post_survey(pool, world.scope("admin_a"), SURVEY, world["a"])
    assert sent == 1
    questions = [q.id for q in (await surveys.show(pool, world["learner"], survey_id)).questions]
    await surveys.answer(
        pool,
        world["learner"],
        survey_id,
        {questions[0]: ["1"], questions[1]: ["0", "2"], questions[2]: ['=HYPERLINK("x")']},
    )

    results = await admin.survey_results(pool, world.scope("admin_a"), survey_id)
    assert (results.recipients, results.responses, results.rate) == (1, 1, 100.0)
    single, multiple, text = results.questions
    assert [(o.option, o.count) for o in single.options] == [("偏难", 0), ("适中", 1), ("偏易", 0)]
    assert [o.count for o in multiple.options] == [1, 0, 1]
    assert text.answers == ['=HYPERLINK("x")']
    assert (await admin.survey_results(pool, world.scope("super"), survey_id)).responses == 1
    for scope, refusal in (("admin_b", NotFound), ("teacher", Forbidden), ("learner", Forbidden)):
        with pytest.raises(refusal):
            await admin.survey_results(pool, world.scope(scope), survey_id)
        with pytest.raises(refusal):
            await admin.survey_csv(pool, world.scope(scope), survey_id)

    lines = (await admin.survey_csv(pool, world.scope("admin_a"), survey_id)).splitlines()
    assert (
        lines[0]
        == "用户名,姓名,组织机构,提交时间,1. 课程难度如何？,2. 您常在何时学习？,3. 还有什么建议？"
    )
    # A learner's text that a spreadsheet would run as a formula is quoted away.
    assert lines[1].startswith("learner_a,learner_a姓名,组织a1,")
    assert lines[1].endswith(',适中,早上；晚上,"\'=HYPERLINK(""x"")"')
    [row] = await world.fetch("SELECT actor_name, action, org_id FROM audit_log")
    assert tuple(row) == ("admin_a", "survey.send", world["a"])


def test_usernames_are_read_from_a_list() -> None:
    assert admin.usernames("amy, bob，cat、dan\nemy  amy") == ["amy", "bob", "cat", "dan", "emy"]


def test_a_survey_is_typed_in_one_text_box() -> None:
    typed = "单选：课程难度如何？\r\n偏难\n适中\n\n\n多选:何时学习？\n早上\n晚上\n\n问答：建议？"
    assert survey_text.questions(typed) == [
        QuestionDraft("single", "课程难度如何？", ["偏难", "适中"]),
        QuestionDraft("multiple", "何时学习？", ["早上", "晚上"]),
        QuestionDraft("text", "建议？", []),
    ]
    for bad in ("", "课程难度如何？\n偏难", "单选：好\n是\n否\n\n填空：x"):
        with pytest.raises(InvalidInput):
            survey_text.questions(bad)
