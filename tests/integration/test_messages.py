"""我的消息 (F24): notices pushed live to every socket of a learner on any node, with the
unread count; the engine's own notices (payment, plan passed); reading and unread counts."""

import asyncio
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from engine import db
from engine.messages import service as messages
from engine.progress.enrolments import refresh_enrolments
from tests.conftest import Clock, Learner, build_course, new_learner, unpaid_order
from tests.integration.test_cart_orders import credit
from web.app import create_portal

Payload = Any


async def hello(client: TestClient, learner: Learner) -> ClientWebSocketResponse:
    """A socket that says hello, as the header's notices.js does."""
    ws = await client.ws_connect("/ws", headers=learner.headers)
    await ws.send_json({"type": "hello", "tab": "notices"})
    assert (await ws.receive_json(timeout=5))["type"] == "welcome"
    return ws


async def silent(ws: ClientWebSocketResponse, seconds: float = 1.0) -> bool:
    """Whether nothing arrives for `seconds`."""
    try:
        await ws.receive_json(timeout=seconds)
    except TimeoutError:
        return True
    return False


async def stored(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def notify_then_fail(pool: asyncpg.Pool, learner_id: int) -> None:
    """A notice in a transaction that then fails (a payment refused after it)."""
    async with pool.acquire() as connection, connection.transaction():
        await messages.notify(connection, learner_id, "不会发出", "回滚")
        raise RuntimeError("rolled back")


async def test_a_notice_reaches_every_socket_of_its_learner_on_every_node(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload, database_url: str
) -> None:
    node_a = await aiohttp_client(create_portal(settings, clock=clock))
    node_b = await aiohttp_client(create_portal(settings, clock=clock))
    learner = await new_learner(node_a, registration)
    bystander = await new_learner(node_a, registration)
    sockets = [await hello(node_a, learner), await hello(node_b, learner)]
    other = await hello(node_b, bystander)
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        await messages.notify(pool, learner.id, "问题已回答", "老师回答了您的问题")
        for ws in sockets:
            assert await ws.receive_json(timeout=5) == {
                "type": "notice",
                "kind": "system",
                "title": "问题已回答",
                "body": "老师回答了您的问题",
                "unread": 1,
            }
        # A notice whose transaction rolls back is neither stored nor pushed.
        with pytest.raises(RuntimeError, match="rolled back"):
            await notify_then_fail(pool, learner.id)
        await messages.notify(pool, learner.id, "第二条", "x" * 300)
        for ws in sockets:
            second = await ws.receive_json(timeout=5)
            assert (second["title"], second["unread"], len(second["body"])) == ("第二条", 2, 200)
        assert await silent(other)
        assert await messages.unread_count(pool, bystander.id) == 0
    finally:
        await pool.close()
        for ws in [*sockets, other]:
            await ws.close()
        await node_a.close()
        await node_b.close()


async def test_payment_and_the_plan_it_passes_send_notices(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(database_url, durations=(30.0,), hour_tenths=20, elective_tenths=20)
    order = await unpaid_order(database_url, learner.id, course)
    await credit(database_url, learner.id, order.amount_fen)
    # Watched before (a refund took the course back): buying it again passes the plan.
    await stored(
        database_url,
        "INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s, position_s, complete)"
        " VALUES ($1, $2, 30, 30, true)",
        learner.id,
        course.chapters[0],
    )
    ws = await hello(client, learner)
    paid = await client.post(
        f"/api/v1/orders/{order.id}/pay", json={"method": "balance"}, headers=learner.headers
    )
    assert paid.status == 200, await paid.text()
    notices = sorted([await ws.receive_json(timeout=5), await ws.receive_json(timeout=5)], key=str)
    by_title = {notice["title"]: notice for notice in notices}
    assert set(by_title) == {"支付成功", "培训计划已通过"}
    assert "¥10.00（余额支付）" in by_title["支付成功"]["body"]
    assert "“测试计划”已通过" in by_title["培训计划已通过"]["body"]
    assert max(notice["unread"] for notice in notices) == 2
    await ws.close()

    # The pass is announced once: a later refresh of the passed plan sends nothing more.
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        await refresh_enrolments(pool, [learner.id], [course.plan_id])
    finally:
        await pool.close()
    rows = await stored(
        database_url, "SELECT title FROM messages WHERE learner_id = $1 ORDER BY id", learner.id
    )
    assert [row["title"] for row in rows] == ["培训计划已通过", "支付成功"]


async def test_unread_counts_reading_and_marking_all_read(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        for index in range(3):
            await messages.notify(pool, learner.id, f"通知{index}", "内容")
        assert await messages.announce(pool, "系统维护公告", "今晚维护") >= 1
    finally:
        await pool.close()
    home = await (await client.get("/", headers=learner.headers)).text()
    assert 'id="unread-count">4<' in home
    for part in (
        "我的课程",
        "历史课程",
        "我的考试",
        "我的档案",
        "我的订单",
        "我的账户",
        "我的消息",
        "我的笔记",
        "个人设置",
    ):
        assert part in home
    assert 'href="/history"' in home
    assert 'href="/archive"' in home

    inbox = await (await client.get("/messages", headers=learner.headers)).text()
    assert "消息中心" in inbox
    assert "通知2" in inbox
    assert "未读" in inbox
    first = (await stored(database_url, "SELECT id FROM messages WHERE title = '通知0'"))[0]["id"]
    opened = await (await client.get(f"/messages/{first}", headers=learner.headers)).text()
    assert "通知0" in opened
    assert 'id="unread-count">3<' in opened  # the count after reading
    assert await unread_in_header(client, learner) == 3

    read = await client.post(
        "/messages/read-all",
        data={"kind": "system"},
        headers=learner.headers,
        allow_redirects=False,
    )
    assert (read.status, read.headers["Location"]) == (302, "/messages?kind=system")
    assert await unread_in_header(client, learner) == 1  # the 公告
    api = await client.get("/api/v1/messages/unread", headers=learner.headers)
    assert await api.json() == {"unread": 1}
    assert (await client.get("/api/v1/messages/unread")).status == 401
    announcements = await (
        await client.get("/messages?kind=announcement", headers=learner.headers)
    ).text()
    assert "系统维护公告" in announcements
    # Another learner's message is not found, exactly like a missing one.
    other = await new_learner(client, registration)
    assert (await client.get(f"/messages/{first}", headers=other.headers)).status == 404
    bad = await client.post(
        "/messages/read-all",
        data={"kind": "nonsense"},
        headers=learner.headers,
        allow_redirects=False,
    )
    assert bad.status == 302  # an unknown tab means the first tab


async def unread_in_header(client: TestClient, learner: Learner) -> int:
    """The unread count the header of a page shows."""
    text = await (await client.get("/", headers=learner.headers)).text()
    start = text.index('id="unread-count"')
    return int(text[text.index(">", start) + 1 : text.index("<", start)])


async def test_notices_wait_for_the_socket_to_be_listening(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    """A notice stored while the learner has no socket is in 我的消息, and the next one
    pushed says how many are unread."""
    learner = await new_learner(client, registration)
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        await messages.notify(pool, learner.id, "离线时", "内容")
        await asyncio.sleep(0.2)
        ws = await hello(client, learner)
        await messages.notify(pool, learner.id, "在线时", "内容")
        notice = await ws.receive_json(timeout=5)
        assert (notice["title"], notice["unread"]) == ("在线时", 2)
        await ws.close()
    finally:
        await pool.close()
