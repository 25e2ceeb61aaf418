"""The administration's moderation queues: 问答 questions 待回答 and reported messages (room
messages and 站内信), worked as super, administrator of A or B, teacher and learner; the
answer from the queue reaches the live room and the asker, a hidden message leaves the room
live; refusals change nothing; every action is audited."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from engine.admin.scope import Scope
from engine.appkeys import HUB, ROOMS
from engine.errors import Conflict, Forbidden, NotFound
from engine.messages import queues
from engine.messages import service as messages
from engine.rooms.service import ANSWERED_TITLE
from engine.sessions.rooms_feed import publish_hidden, publish_message
from tests.conftest import Clock, Learner, build_course, enrol, new_learner
from tests.integration.two_orgs import World, build_world, user

NOW_MS = 1_700_000_000_000


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    built = await build_world(database_url)
    yield built
    await built.pool.close()


async def snapshot(world: World) -> list[Any]:
    """What a refused action must leave as it was."""
    rows = await world.fetch(
        """SELECT (SELECT count(*) FROM room_messages),
                  (SELECT count(*) FROM room_messages WHERE answered_at IS NOT NULL),
                  (SELECT count(*) FROM room_messages WHERE hidden_at IS NOT NULL),
                  (SELECT count(*) FROM room_reports WHERE handled_at IS NULL),
                  (SELECT count(*) FROM messages WHERE hidden_at IS NOT NULL),
                  (SELECT count(*) FROM message_reports WHERE handled_at IS NULL),
                  (SELECT count(*) FROM messages),
                  (SELECT count(*) FROM audit_log)"""
    )
    return list(rows[0])


async def test_the_queues_by_role_and_scope(world: World, client: TestClient) -> None:
    pool, rooms = world.pool, client.server.app[ROOMS]
    waiting = {
        who: [q.id for q in (await queues.waiting_questions(pool, world.scope(who))).items]
        for who in ("super", "admin_a", "admin_b", "teacher")
    }
    assert waiting == {
        "super": [world["question_a"], world["question_b"]],
        "admin_a": [world["question_a"]],
        "admin_b": [world["question_b"]],
        "teacher": [world["question_a"]],
    }
    reported = {
        who: [m.id for m in (await queues.reported_room_messages(pool, world.scope(who))).items]
        for who in ("super", "admin_a", "admin_b", "teacher")
    }
    assert reported["admin_a"] == reported["teacher"] == [world["chat_a"]]
    assert reported["admin_b"] == [world["chat_b"]]
    assert sorted(reported["super"]) == sorted([world["chat_a"], world["chat_b"]])
    with pytest.raises(Forbidden):
        await queues.waiting_questions(pool, world.scope("learner"))

    before = await snapshot(world)
    refusals = [
        (
            queues.answer(pool, rooms, world.scope("admin_b"), world["question_a"], "答", NOW_MS),
            NotFound,
        ),
        (
            queues.answer(pool, rooms, world.scope("teacher"), world["question_b"], "答", NOW_MS),
            NotFound,
        ),
        (
            queues.answer(pool, rooms, world.scope("learner"), world["question_a"], "答", NOW_MS),
            Forbidden,
        ),
        (
            queues.hide_room_message(
                pool, rooms, world.scope("admin_b"), world["chat_a"], "广告", NOW_MS
            ),
            NotFound,
        ),
        (
            queues.hide_room_message(
                pool, rooms, world.scope("teacher"), world["chat_b"], "广告", NOW_MS
            ),
            NotFound,
        ),
        (queues.dismiss_room_reports(pool, world.scope("admin_a"), world["chat_b"]), NotFound),
        (queues.dismiss_room_reports(pool, world.scope("learner"), world["chat_a"]), Forbidden),
        # A question is not a reported message: the reports queue does not hide it.
        (
            queues.hide_room_message(
                pool, rooms, world.scope("super"), world["question_a"], "x", NOW_MS
            ),
            NotFound,
        ),
    ]
    for call, refusal in refusals:
        with pytest.raises(refusal):
            await call
    assert await snapshot(world) == before

    # The teacher of A's course answers its question from the queue.
    answer = await queues.answer(
        pool, rooms, world.scope("teacher"), world["question_a"], "请看第二章", NOW_MS
    )
    assert (answer.answer_to, answer.room, answer.role) == (
        world["question_a"],
        f"qa:{world['course_a']}",
        "teacher",
    )
    assert (await queues.waiting_questions(pool, world.scope("admin_a"))).items == []
    [notice], _ = await messages.inbox(pool, world["learner"], "system")
    assert notice.title == ANSWERED_TITLE
    assert "请看第二章" in notice.body
    with pytest.raises(Conflict):
        await queues.answer(
            pool, rooms, world.scope("admin_a"), world["question_a"], "再答", NOW_MS
        )

    # A hides A's reported message; the super administrator dismisses B's reports.
    hidden = await queues.hide_room_message(
        pool, rooms, world.scope("admin_a"), world["chat_a"], "广告信息", NOW_MS
    )
    assert hidden is not None
    assert hidden.message_id == world["chat_a"]
    [row] = await world.fetch(
        "SELECT hidden_by, hidden_reason FROM room_messages WHERE id = $1", world["chat_a"]
    )
    assert tuple(row) == (world["admin_a"], "广告信息")
    await queues.dismiss_room_reports(pool, world.scope("super"), world["chat_b"])
    with pytest.raises(Conflict):
        await queues.dismiss_room_reports(pool, world.scope("admin_b"), world["chat_b"])
    outcomes = await world.fetch(
        "SELECT message_id, handled_by, outcome FROM room_reports ORDER BY message_id"
    )
    assert [tuple(row) for row in outcomes] == [
        (world["chat_a"], world["admin_a"], "hidden"),
        (world["chat_b"], world["super"], "dismissed"),
    ]
    assert (
        await world.fetch(
            "SELECT 1 FROM room_messages WHERE id = $1 AND hidden_at IS NOT NULL", world["chat_b"]
        )
        == []
    )
    audit = await world.fetch(
        "SELECT actor_name, action, object_id, org_id FROM audit_log ORDER BY id"
    )
    assert [tuple(row) for row in audit] == [
        ("teacher", "question.answer", str(world["question_a"]), world["a1"]),
        ("admin_a", "room_message.hide", str(world["chat_a"]), world["a1"]),
        ("super", "room_report.dismiss", str(world["chat_b"]), world["b"]),
    ]


async def letter(world: World, recipient: str, sender: str) -> tuple[int, int]:
    """A 站内信 and its recipient's report: (message id, report id)."""
    message_id = await world.pool.fetchval(
        """INSERT INTO messages (learner_id, kind, title, body, sender_id)
           VALUES ($1, 'letter', '推销', '加微信', $2) RETURNING id""",
        world[recipient],
        world[sender],
    )
    report_id = await world.pool.fetchval(
        """INSERT INTO message_reports (message_id, reporter_id, reason)
           VALUES ($1, $2, '骚扰') RETURNING id""",
        message_id,
        world[recipient],
    )
    return message_id, report_id


async def test_reported_letters_are_hidden_or_dismissed_within_the_scope(world: World) -> None:
    pool = world.pool
    letter_a, report_a = await letter(world, "learner", "learner")
    letter_b, report_b = await letter(world, "learner_b", "learner_b")
    listed = {
        who: [r.id for r in (await queues.reported_letters(pool, world.scope(who))).items]
        for who in ("super", "admin_a", "admin_b")
    }
    assert listed == {"super": [report_b, report_a], "admin_a": [report_a], "admin_b": [report_b]}

    before = await snapshot(world)
    for call, refusal in (
        (queues.hide_letter(pool, world.scope("admin_b"), report_a, "骚扰"), NotFound),
        (queues.dismiss_letter_report(pool, world.scope("admin_a"), report_b), NotFound),
        (queues.hide_letter(pool, world.scope("teacher"), report_a, "骚扰"), Forbidden),
        (queues.reported_letters(pool, world.scope("teacher")), Forbidden),
        (queues.hide_letter(pool, world.scope("admin_a"), report_a, " "), Exception),
    ):
        with pytest.raises(refusal):
            await call
    assert await snapshot(world) == before

    await queues.hide_letter(pool, world.scope("admin_a"), report_a, "骚扰信息")
    assert (await messages.inbox(pool, world["learner"], "letter"))[0] == []
    with pytest.raises(NotFound):
        await messages.read(pool, world["learner"], letter_a)
    assert await messages.unread_count(pool, world["learner"]) == 0
    await queues.dismiss_letter_report(pool, world.scope("super"), report_b)
    assert [m.id for m in (await messages.inbox(pool, world["learner_b"], "letter"))[0]] == [
        letter_b
    ]
    with pytest.raises(Conflict):
        await queues.hide_letter(pool, world.scope("admin_b"), report_b, "再处理")
    assert (await queues.reported_letters(pool, world.scope("super"))).total == 0
    audit = await world.fetch("SELECT actor_name, action, org_id FROM audit_log ORDER BY id")
    assert [tuple(row) for row in audit] == [
        ("admin_a", "letter_report.hide", world["a1"]),
        ("super", "letter_report.dismiss", world["b"]),
    ]


async def receive(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=5)
        if message["type"] == kind:
            return message


async def test_the_answer_from_the_queue_reaches_the_room_and_the_asker(
    client: TestClient, registration: Any, database_url: str, org_id: int, clock: Clock
) -> None:
    course = await build_course(database_url)
    world = await build_world(database_url)
    try:
        await world.pool.execute(
            "UPDATE courses SET org_id = $2 WHERE id = $1", course.course_id, org_id
        )
        admin_id = await user(world.pool, "org_admin", "admin", org_id)
        scope = Scope(user_id=admin_id, name="org_admin", role="admin", org_id=org_id)
        asker: Learner = await new_learner(client, registration)
        reporter: Learner = await new_learner(client, registration)
        for learner in (asker, reporter):
            await enrol(database_url, learner.id, course)
        notices = await client.ws_connect("/ws", headers=asker.headers)
        await notices.send_json({"type": "hello", "tab": "notices"})
        await receive(notices, "welcome")
        qa, chat = f"qa:{course.course_id}", f"course:{course.course_id}"
        sockets = {}
        for name, learner in (("asker", asker), ("reporter", reporter)):
            ws = await client.ws_connect("/ws", headers=learner.headers)
            for room in (qa, chat):
                await ws.send_json({"type": "chat.join", "room": room})
                await receive(ws, "chat.history")
            sockets[name] = ws
        await sockets["asker"].send_json({"type": "chat.send", "room": qa, "text": "证书何时发？"})
        question = await receive(sockets["reporter"], "chat.message")
        assert await receive(sockets["asker"], "chat.message") == question
        [waiting] = (await queues.waiting_questions(world.pool, scope)).items
        assert (waiting.id, waiting.text) == (question["id"], "证书何时发？")

        app = client.server.app
        stored = await queues.answer(
            world.pool, app[ROOMS], scope, waiting.id, "通过后即可打印", clock()
        )
        await publish_message(app[HUB], stored)
        for ws in sockets.values():
            live = await receive(ws, "chat.message")
            assert (live["answer_to"], live["text"], live["role"]) == (
                waiting.id,
                "通过后即可打印",
                "admin",
            )
        pushed = await receive(notices, "notice")
        assert pushed["title"] == ANSWERED_TITLE
        # A member joining now finds it pinned with its question.
        late = await client.ws_connect("/ws", headers=asker.headers)
        await late.send_json({"type": "chat.join", "room": qa})
        history = await receive(late, "chat.history")
        assert [m["id"] for m in history["pinned"]] == [waiting.id, stored.id]

        # Reported in the room, hidden from the queue: every member takes it down live.
        await sockets["asker"].send_json({"type": "chat.send", "room": chat, "text": "加我微信"})
        spam = await receive(sockets["reporter"], "chat.message")
        await sockets["reporter"].send_json(
            {"type": "chat.report", "room": chat, "id": spam["id"], "reason": "广告"}
        )
        await receive(sockets["reporter"], "chat.reported")
        hidden = await queues.hide_room_message(
            world.pool, app[ROOMS], scope, spam["id"], "广告", clock()
        )
        assert hidden is not None
        await publish_hidden(app[HUB], hidden)
        for ws in sockets.values():
            assert await receive(ws, "chat.hidden") == {
                "type": "chat.hidden",
                "room": chat,
                "id": spam["id"],
            }
        for ws in (*sockets.values(), notices, late):
            await ws.close()
    finally:
        await world.pool.close()
