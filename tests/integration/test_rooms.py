"""Rooms under the video over real websockets, with members on two nodes sharing the stores."""

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import asyncpg
import msgspec
import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio.cluster import RedisCluster

from engine.accounts import service as accounts
from engine.appkeys import REDIS
from engine.rooms.service import ANSWERED_TITLE
from engine.settings import Settings
from tests.conftest import Clock, Course, Learner, build_course, enrol, origin_of
from web import admin_cli
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]
Socket = aiohttp.ClientWebSocketResponse


async def node(aiohttp_client: Any, settings: Settings, clock: Clock, **changes: Any) -> TestClient:
    client: TestClient = await aiohttp_client(
        create_portal(msgspec.structs.replace(settings, **changes), clock=clock)
    )
    return client


async def user(client: TestClient, registration: Payload, **fields: Any) -> tuple[Learner, str]:
    """A registered, logged-in user and its username."""
    payload = registration(**fields)
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status == 201, await response.text()
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": payload["username"], "password": payload["password"]},
        headers=origin_of(client),
    )
    body = await login.json()
    client.session.cookie_jar.clear()
    return Learner(body["user"]["id"], body["token"]), payload["username"]


async def member(
    client: TestClient, registration: Payload, database_url: str, course: Course
) -> Learner:
    learner, _ = await user(client, registration)
    await enrol(database_url, learner.id, course)
    return learner


async def receive(ws: Socket, kind: str) -> dict[str, Any]:
    """The next message of a type, skipping others."""
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=5)
        if message["type"] == kind:
            return message


async def joined(
    client: TestClient, learner: Learner, room: str, after_seq: int | None = None
) -> tuple[Socket, dict[str, Any]]:
    ws = await client.ws_connect("/ws", headers=learner.headers)
    join: dict[str, Any] = {"type": "chat.join", "room": room}
    if after_seq is not None:
        join["after_seq"] = after_seq
    await ws.send_json(join)
    reply: dict[str, Any] = await ws.receive_json(timeout=5)
    return ws, reply


async def chat_messages(ws: Socket, count: int) -> list[dict[str, Any]]:
    """The next `count` chat messages, and then no other for a moment (no duplicates)."""
    got = [await receive(ws, "chat.message") for _ in range(count)]
    try:
        extra = await ws.receive_json(timeout=0.3)
    except TimeoutError:
        return got
    raise AssertionError(f"one more than expected: {extra}")


async def send(ws: Socket, room: str, text: str, client_id: str = "", **more: Any) -> None:
    await ws.send_json(
        {"type": "chat.send", "room": room, "text": text, "client_id": client_id, **more}
    )


async def test_every_member_on_both_nodes_gets_every_message_once_in_one_order(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload, database_url: str
) -> None:
    first = await node(aiohttp_client, settings, clock, chat_max_sends=50)
    second = await node(aiohttp_client, settings, clock, chat_max_sends=50)
    course = await build_course(database_url)
    room = f"course:{course.course_id}"
    members = [
        await member(client, registration, database_url, course)
        for client in (first, second, first, second)
    ]
    sockets = []
    for client, learner in zip((first, second, first, second), members, strict=True):
        ws, history = await joined(client, learner, room)
        assert history == {
            "type": "chat.history",
            "room": room,
            "role": "learner",
            "messages": [],
            "last_seq": 0,
            "pinned": [],
        }
        sockets.append(ws)
    per_member = 5
    # Every member sends at once, from both nodes: the room numbers them in one order.
    await asyncio.gather(
        *(
            send(ws, room, f"第{index}位的第{n}条 <script>alert(1)</script>", f"c{index}-{n}")
            for index, ws in enumerate(sockets)
            for n in range(per_member)
        )
    )
    total = per_member * len(sockets)
    received = await asyncio.gather(*(chat_messages(ws, total) for ws in sockets))
    orders = [sorted((m["seq"], m["id"], m["text"]) for m in got) for got in received]
    assert [seq for seq, _, _ in orders[0]] == list(range(1, total + 1))
    assert all(order == orders[0] for order in orders)
    # Each sender's client_id comes back on its own messages; the text is as typed.
    for index, got in enumerate(received):
        mine = [m for m in got if m["author_id"] == members[index].id]
        assert sorted(m["client_id"] for m in mine) == sorted(
            f"c{index}-{n}" for n in range(per_member)
        )
        assert all(m["text"].endswith("<script>alert(1)</script>") for m in mine)
    for ws in sockets:
        await ws.close()


async def test_a_reconnect_catches_up_without_gaps_or_duplicates(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload, database_url: str
) -> None:
    first = await node(aiohttp_client, settings, clock, chat_max_sends=20)
    second = await node(aiohttp_client, settings, clock, chat_max_sends=20)
    course = await build_course(database_url)
    room = f"course:{course.course_id}"
    talker = await member(first, registration, database_url, course)
    listener = await member(second, registration, database_url, course)
    speaking, _ = await joined(first, talker, room)
    listening, _ = await joined(second, listener, room)
    for n in range(3):
        await send(speaking, room, f"断线前{n}")
    seen = await chat_messages(listening, 3)
    last = max(m["seq"] for m in seen)
    await listening.close()
    for n in range(4):
        await send(speaking, room, f"断线后{n}")
    await chat_messages(speaking, 7)
    # Back on the other node, from the last seq it saw.
    listening, history = await joined(first, listener, room, after_seq=last)
    assert history["type"] == "chat.history"
    assert [m["seq"] for m in history["messages"]] == [4, 5, 6, 7]
    assert [m["text"] for m in history["messages"]] == [f"断线后{n}" for n in range(4)]
    assert history["last_seq"] == 7
    await send(speaking, room, "回来了")
    [live] = await chat_messages(listening, 1)
    assert live["seq"] == 8
    # A fresh join gets the latest messages, in order.
    fresh, history = await joined(second, listener, room)
    assert [m["seq"] for m in history["messages"]] == list(range(1, 9))
    for ws in (speaking, listening, fresh):
        await ws.close()


async def test_a_learner_who_did_not_select_the_course_may_not_join_or_read(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload, database_url: str
) -> None:
    client = await node(aiohttp_client, settings, clock)
    course = await build_course(database_url)
    room = f"course:{course.course_id}"
    insider = await member(client, registration, database_url, course)
    outsider, _ = await user(client, registration)
    inside, _ = await joined(client, insider, room)
    await send(inside, room, "只给选课学员看")
    await chat_messages(inside, 1)
    for name in (room, f"qa:{course.course_id}"):
        ws, reply = await joined(client, outsider, name)
        assert reply["type"] == "error"
        assert reply["code"] == "forbidden"
        assert reply["room"] == name
        assert "选择了本课程" in reply["message"]
        # Not a member: sending there is refused, and nothing it sends reaches the room.
        await send(ws, name, "偷偷发言")
        refused = await receive(ws, "error")
        assert refused["code"] == "not_joined"
        await ws.close()
    response = await client.get(
        f"/api/v1/rooms/{room}/messages?before_seq=10", headers=outsider.headers
    )
    assert response.status == 403
    assert "选择了本课程" in (await response.json())["error"]["message"]
    response = await client.get(
        f"/api/v1/rooms/{room}/messages?before_seq=10", headers=insider.headers
    )
    assert response.status == 200
    assert [m["text"] for m in (await response.json())["messages"]] == ["只给选课学员看"]
    bad = await client.get(f"/api/v1/rooms/{room}/messages?before_seq=abc", headers=insider.headers)
    assert bad.status == 400
    missing = await client.get("/api/v1/rooms/lobby/messages?before_seq=1", headers=insider.headers)
    assert missing.status == 404
    await inside.close()


async def test_sending_is_limited_in_rate_and_length_and_refusals_store_nothing(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload, database_url: str
) -> None:
    client = await node(aiohttp_client, settings, clock, chat_max_sends=2)
    course = await build_course(database_url)
    room = f"course:{course.course_id}"
    learner = await member(client, registration, database_url, course)
    ws, _ = await joined(client, learner, room)
    await send(ws, room, "字" * 501)
    too_long = await receive(ws, "error")
    assert too_long == {
        "type": "error",
        "code": "invalid",
        "message": "消息不能超过500字",
        "room": room,
    }
    await send(ws, room, "   ")
    assert (await receive(ws, "error"))["message"] == "消息不能为空"
    await send(ws, room, "字" * 500)
    await send(ws, room, "第二条")
    await chat_messages(ws, 2)
    await send(ws, room, "第三条")
    throttled = await receive(ws, "error")
    assert throttled["code"] == "throttled"
    assert throttled["message"] == "发言过于频繁，请稍后再试"
    again, history = await joined(client, learner, room)
    assert [m["text"] for m in history["messages"]] == ["字" * 500, "第二条"]
    for socket in (ws, again):
        await socket.close()


async def test_a_teacher_hides_a_message_for_everyone_live_and_it_stays_stored(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload, database_url: str
) -> None:
    first = await node(aiohttp_client, settings, clock)
    second = await node(aiohttp_client, settings, clock)
    course = await build_course(database_url)
    room = f"course:{course.course_id}"
    writer = await member(first, registration, database_url, course)
    reader = await member(second, registration, database_url, course)
    teacher, username = await user(first, registration, real_name="王老师")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        assert await accounts.grant_teacher(pool, username, course.course_id) == teacher.id
        writing, _ = await joined(first, writer, room)
        reading, _ = await joined(second, reader, room)
        moderating, _ = await joined(second, teacher, room)
        await send(writing, room, "不当言论")
        [posted] = await chat_messages(reading, 1)
        await chat_messages(moderating, 1)
        # A learner reports it; a learner may not hide it.
        report = {"type": "chat.report", "room": room, "id": posted["id"], "reason": "广告"}
        await reading.send_json(report)
        assert await receive(reading, "chat.reported") == {
            "type": "chat.reported",
            "room": room,
            "id": posted["id"],
        }
        hide = {"type": "chat.hide", "room": room, "id": posted["id"], "reason": "违反课堂规则"}
        await reading.send_json(hide)
        assert (await receive(reading, "error"))["code"] == "forbidden"
        await moderating.send_json(hide)
        hidden = {"type": "chat.hidden", "room": room, "id": posted["id"]}
        for ws in (writing, reading, moderating):
            assert await receive(ws, "chat.hidden") == hidden
        row = await pool.fetchrow(
            "SELECT text, hidden_by, hidden_reason FROM room_messages WHERE id = $1", posted["id"]
        )
        assert tuple(row) == ("不当言论", teacher.id, "违反课堂规则")
        reports = await pool.fetch("SELECT reporter_id, reason FROM room_reports")
        assert [tuple(r) for r in reports] == [(reader.id, "广告")]
        # History keeps its place in the sequence, without its text.
        again, history = await joined(first, reader, room)
        [kept] = history["messages"]
        assert kept["hidden"] is True
        assert kept["text"] == ""
        assert kept["seq"] == posted["seq"]
        for ws in (writing, reading, moderating, again):
            await ws.close()
    finally:
        await pool.close()


async def test_a_question_waits_until_a_teacher_answers_and_the_answer_is_pinned(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload, database_url: str
) -> None:
    """问答: a learner's question is 待回答 until a teacher of the course answers it."""
    first = await node(aiohttp_client, settings, clock)
    second = await node(aiohttp_client, settings, clock)
    course = await build_course(database_url)
    room = f"qa:{course.course_id}"
    asker = await member(first, registration, database_url, course)
    other = await member(first, registration, database_url, course)
    teacher, username = await user(second, registration, real_name="王老师")
    # Until the administration pages exist, the `jixu teachers grant` command does it.
    granted = await asyncio.to_thread(admin_cli.grant_teacher, settings, username, course.course_id)
    assert granted == teacher.id
    with pytest.raises(SystemExit, match="不存在"):
        await asyncio.to_thread(admin_cli.grant_teacher, settings, "nobody_here", course.course_id)
    asking, _ = await joined(first, asker, room)
    answering, _ = await joined(second, teacher, room)
    await send(asking, room, "第三章的公式怎么推导？", "q1")
    [question] = await chat_messages(asking, 1)
    assert "answered" not in question
    assert question["role"] == "learner"
    # A learner may not answer; a teacher answers once.
    bystander, _ = await joined(first, other, room)
    await send(bystander, room, "我来回答", answer_to=question["id"])
    assert (await receive(bystander, "error"))["code"] == "forbidden"
    await send(answering, room, "见讲义第12页", "a1", answer_to=question["id"])
    # The asker gets the answer in the room and a 系统通知 pushed live, in either order.
    frames: dict[str, dict[str, Any]] = {}
    while len(frames) < 2:
        frame = await asking.receive_json(timeout=5)
        frames[frame["type"]] = frame
    answer, notice = frames["chat.message"], frames["notice"]
    assert notice["kind"] == "system"
    assert notice["title"] == ANSWERED_TITLE
    assert "第三章的公式怎么推导？" in notice["body"]
    assert "见讲义第12页" in notice["body"]
    assert notice["unread"] == 1
    assert answer["answer_to"] == question["id"]
    assert answer["role"] == "teacher"
    assert answer["author"] == "王老师"
    assert answer["text"] == "见讲义第12页"
    await send(answering, room, "再答一次", answer_to=question["id"])
    assert (await receive(answering, "error"))["code"] == "not_answerable"
    # Joining later: the question is answered and pinned with its answer.
    later, history = await joined(second, other, room)
    pinned = history["pinned"]
    assert [(m["id"], m.get("answered", False)) for m in pinned] == [
        (question["id"], True),
        (answer["id"], False),
    ]
    for ws in (asking, answering, bystander, later):
        await ws.close()


async def test_a_node_that_lost_its_bus_sends_its_members_what_they_missed(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload, database_url: str
) -> None:
    first = await node(aiohttp_client, settings, clock)
    second = await node(aiohttp_client, settings, clock)
    course = await build_course(database_url)
    room = f"course:{course.course_id}"
    talker = await member(first, registration, database_url, course)
    listener = await member(second, registration, database_url, course)
    speaking, _ = await joined(first, talker, room)
    listening, _ = await joined(second, listener, room)
    await send(speaking, room, "之前")
    for ws in (speaking, listening):
        await chat_messages(ws, 1)
    # Redis drops every pub/sub connection: the nodes subscribe again after a backoff, and
    # what was published meanwhile reaches no one that way.
    redis = first.app[REDIS]
    if isinstance(redis, RedisCluster):  # the bus's connection may be on any of its nodes
        await redis.execute_command(
            "CLIENT", "KILL", "TYPE", "pubsub", target_nodes=redis.get_nodes()
        )
    else:
        await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    await send(speaking, room, "断开期间")
    for ws in (speaking, listening):
        [missed] = await chat_messages(ws, 1)
        assert (missed["seq"], missed["text"]) == (2, "断开期间")
    await send(speaking, room, "之后")
    assert [m["seq"] for m in await chat_messages(listening, 1)] == [3]
    for ws in (speaking, listening):
        await ws.close()
