"""Cart, checkout and orders over the API; money is never taken twice."""

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.commerce import balance
from engine.commerce.orders import pay_with_balance
from engine.errors import DomainError
from tests.conftest import Course, Learner, build_course, new_learner

Payload = Callable[..., dict[str, Any]]


async def activate(client: TestClient, learner: Learner, plan_id: int) -> None:
    response = await client.post(f"/api/v1/plans/{plan_id}/activate", headers=learner.headers)
    assert response.status == 200


async def add(client: TestClient, learner: Learner, plan_id: int, course_id: int) -> Any:
    return await client.post(
        "/api/v1/cart/items",
        json={"plan_id": plan_id, "course_id": course_id},
        headers=learner.headers,
    )


async def credit(database_url: str, learner_id: int, amount_fen: int) -> None:
    """Put money on the balance the way a study card does."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            card_id = await connection.fetchval(
                """WITH batch AS (INSERT INTO card_batches (name, card_count, value_fen)
                                  VALUES ('test', 1, $2) RETURNING id)
                   INSERT INTO study_cards (card_no, password_hash, value_fen, batch_id, status,
                                            used_by, used_at)
                   SELECT $1, 'x', $2, id, 'used', $3, now() FROM batch RETURNING id""",
                f"T{learner_id}-{amount_fen}",
                amount_fen,
                learner_id,
            )
            await balance.move(connection, learner_id, amount_fen, "recharge", card_id=card_id)
    finally:
        await connection.close()


async def extra_course(database_url: str, plan_id: int, title: str, hour_tenths: int) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        course_id: int = await connection.fetchval(
            "INSERT INTO courses (code, title, hour_tenths) VALUES ($1, $2, $3) RETURNING id",
            f"c-{plan_id}-{title}",
            title,
            hour_tenths,
        )
        await connection.execute(
            "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2)", plan_id, course_id
        )
        return course_id
    finally:
        await connection.close()


@pytest.fixture
async def learner(client: TestClient, registration: Payload) -> Learner:
    return await new_learner(client, registration)


@pytest.fixture
async def plan(database_url: str) -> Course:
    return await build_course(database_url, hour_tenths=60)


async def test_cart_refusals_say_why(
    client: TestClient, learner: Learner, plan: Course, database_url: str
) -> None:
    response = await add(client, learner, plan.plan_id, plan.course_id)
    assert response.status == 409
    assert (await response.json())["error"]["message"] == "请先激活该培训计划"
    await activate(client, learner, plan.plan_id)
    assert (await add(client, learner, plan.plan_id, plan.course_id)).status == 201
    again = await add(client, learner, plan.plan_id, plan.course_id)
    assert (await again.json())["error"]["message"] == "这门课程已在购物车中"
    order = await (await client.post("/api/v1/orders", headers=learner.headers)).json()
    assert order["order"]["status"] == "unpaid"
    pending = await add(client, learner, plan.plan_id, plan.course_id)
    assert (await pending.json())["error"]["code"] == "in_unpaid_order"
    missing = await add(client, learner, plan.plan_id, 999999)
    assert (await missing.json())["error"]["message"] == "该培训计划中没有这门课程"
    compulsory = await build_course(database_url, compulsory=True)
    await activate(client, learner, compulsory.plan_id)
    refused = await add(client, learner, compulsory.plan_id, compulsory.course_id)
    assert (await refused.json())["error"]["message"] == "必修课已自动选入，无需购买"
    unknown_plan = await add(client, learner, 999999, plan.course_id)
    assert unknown_plan.status == 404


async def test_checkout_snapshots_prices_and_empties_the_cart(
    client: TestClient, learner: Learner, plan: Course, database_url: str
) -> None:
    second = await extra_course(database_url, plan.plan_id, "数字经济概论", 15)
    await activate(client, learner, plan.plan_id)
    await add(client, learner, plan.plan_id, plan.course_id)
    await add(client, learner, plan.plan_id, second)
    cart = (await (await client.get("/api/v1/cart", headers=learner.headers)).json())["cart"]
    assert cart["total_fen"] == 3000 + 750
    response = await client.post("/api/v1/orders", headers=learner.headers)
    assert response.status == 201
    order = (await response.json())["order"]
    assert order["amount_fen"] == 3750
    assert sorted(item["price_fen"] for item in order["items"]) == [750, 3000]
    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "UPDATE plans SET price_per_hour_fen = 900 WHERE id = $1", plan.plan_id
    )
    await connection.close()
    same = await client.get(f"/api/v1/orders/{order['id']}", headers=learner.headers)
    assert (await same.json())["order"]["amount_fen"] == 3750
    assert (await (await client.get("/api/v1/cart", headers=learner.headers)).json())["cart"] == {
        "items": [],
        "total_fen": 0,
    }
    empty = await client.post("/api/v1/orders", headers=learner.headers)
    assert empty.status == 400
    assert (await empty.json())["error"]["message"] == "购物车是空的，请先选课"


async def test_fifty_concurrent_payments_with_balance_for_three(
    client: TestClient, learner: Learner, database_url: str
) -> None:
    plan = await build_course(database_url, hour_tenths=60)
    courses = [plan.course_id] + [
        await extra_course(database_url, plan.plan_id, f"课程{n}", 60) for n in range(49)
    ]
    await activate(client, learner, plan.plan_id)
    order_ids = []
    for course_id in courses:
        assert (await add(client, learner, plan.plan_id, course_id)).status == 201
        order = await (await client.post("/api/v1/orders", headers=learner.headers)).json()
        assert order["order"]["amount_fen"] == 3000
        order_ids.append(order["order"]["id"])
    await credit(database_url, learner.id, 10000)

    async def pay(order_id: int) -> str:
        try:
            await pay_with_balance(client.app[DB], learner.id, order_id)
        except DomainError as exc:
            return exc.code
        return "paid"

    outcomes = await asyncio.gather(*(pay(order_id) for order_id in order_ids))
    assert outcomes.count("paid") == 3
    assert outcomes.count("insufficient_balance") == 47
    connection = await asyncpg.connect(database_url)
    try:
        assert (
            await connection.fetchval(
                "SELECT balance_fen FROM accounts WHERE learner_id = $1", learner.id
            )
            == 1000
        )
        assert (
            await connection.fetchval(
                "SELECT sum(amount_fen) FROM ledger WHERE learner_id = $1", learner.id
            )
            == 1000
        )
        assert (
            await connection.fetchval(
                "SELECT count(*) FROM selections WHERE learner_id = $1 AND source = 'purchase'",
                learner.id,
            )
            == 3
        )
    finally:
        await connection.close()


async def test_another_learners_order_is_not_found(
    client: TestClient, registration: Payload, learner: Learner, plan: Course
) -> None:
    await activate(client, learner, plan.plan_id)
    await add(client, learner, plan.plan_id, plan.course_id)
    order = (await (await client.post("/api/v1/orders", headers=learner.headers)).json())["order"]
    other = await new_learner(client, registration)
    for method, path in (
        ("GET", f"/api/v1/orders/{order['id']}"),
        ("DELETE", f"/api/v1/orders/{order['id']}"),
    ):
        response = await client.request(method, path, headers=other.headers)
        assert response.status == 404
        assert (await response.json())["error"]["message"] == "订单不存在"
    listed = await (await client.get("/api/v1/orders", headers=other.headers)).json()
    assert listed["orders"] == []


async def test_only_unpaid_orders_can_be_deleted_and_their_courses_chosen_again(
    client: TestClient, learner: Learner, plan: Course
) -> None:
    await activate(client, learner, plan.plan_id)
    await add(client, learner, plan.plan_id, plan.course_id)
    order = (await (await client.post("/api/v1/orders", headers=learner.headers)).json())["order"]
    deleted = await client.delete(f"/api/v1/orders/{order['id']}", headers=learner.headers)
    assert (await deleted.json())["order"]["status"] == "cancelled"
    again = await client.delete(f"/api/v1/orders/{order['id']}", headers=learner.headers)
    assert again.status == 409
    assert (await add(client, learner, plan.plan_id, plan.course_id)).status == 201


async def test_orders_filter_by_status_course_name_and_date(
    client: TestClient, learner: Learner, plan: Course, database_url: str
) -> None:
    second = await extra_course(database_url, plan.plan_id, "人工智能与大数据应用", 10)
    await activate(client, learner, plan.plan_id)
    await add(client, learner, plan.plan_id, plan.course_id)
    first = (await (await client.post("/api/v1/orders", headers=learner.headers)).json())["order"]
    await client.delete(f"/api/v1/orders/{first['id']}", headers=learner.headers)
    await add(client, learner, plan.plan_id, second)
    await client.post("/api/v1/orders", headers=learner.headers)

    async def ids(query: str) -> list[int]:
        body = await (await client.get(f"/api/v1/orders?{query}", headers=learner.headers)).json()
        return [order["id"] for order in body["orders"]]

    assert len(await ids("")) == 2
    assert await ids("status=cancelled") == [first["id"]]
    assert len(await ids("q=大数据")) == 1
    assert await ids("q=测试") == [first["id"]]
    assert await ids("q=50%25") == []
    assert len(await ids("from=2000-01-01&to=2999-12-31")) == 2
    assert await ids("from=2999-01-01") == []
    bad = await client.get("/api/v1/orders?status=lost", headers=learner.headers)
    assert bad.status == 400
    bad_date = await client.get("/api/v1/orders?from=yesterday", headers=learner.headers)
    assert bad_date.status == 400
