"""我的账户 and study cards: recharge once, throttled guessing, records, refunds."""

import asyncio
import csv
import re
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.commerce import cards, keys, orders
from engine.commerce.cart import add, checkout
from engine.commerce.types import Order
from engine.errors import Conflict
from engine.kv import create_redis
from engine.settings import Settings, load_settings
from tests.conftest import Learner, build_course, new_learner, origin_of
from web import admin_cli
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]


async def make_cards(
    client: TestClient, count: int = 1, value_fen: int = 3000
) -> list[tuple[str, str]]:
    return await cards.generate(client.app[DB], count, value_fen, "test")


@pytest.fixture
async def cli_admin(database_url: str, org_id: int) -> int:
    """The administrator the `jixu` commands act as by default (the base data's)."""
    connection = await asyncpg.connect(database_url)
    try:
        user_id: int = await connection.fetchval(
            """INSERT INTO users (username, password_hash, role, org_id, real_name, phone,
                                  id_type, id_number)
               VALUES ('admin', 'x', 'super', $1, '管理员', '13800000000', 'passport', 'A1')
               RETURNING id""",
            org_id,
        )
    finally:
        await connection.close()
    return user_id


async def recharge(client: TestClient, learner: Learner, card_no: str, password: str) -> Any:
    return await client.post(
        "/api/v1/account/recharge",
        json={"card_no": card_no, "card_password": password},
        headers=learner.headers,
    )


async def account(client: TestClient, learner: Learner) -> dict[str, Any]:
    response = await client.get("/api/v1/account", headers=learner.headers)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = (await response.json())["error"]
    return error


async def failures(redis_url: str, learner_id: int, address: str = "127.0.0.1") -> tuple[int, int]:
    redis = create_redis(redis_url)
    try:
        # Two GETs: the keys lie in different Redis Cluster slots.
        counts = [
            await redis.get(keys.learner_card_failures_key(learner_id)),
            await redis.get(keys.address_card_failures_key(address)),
        ]
    finally:
        await redis.aclose()
    return int(counts[0] or 0), int(counts[1] or 0)


async def paid_order(client: TestClient, database_url: str, learner: Learner) -> Order:
    """A ¥10.00 elective bought with the balance."""
    course = await build_course(database_url)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2)",
            learner.id,
            course.plan_id,
        )
    finally:
        await connection.close()
    pool, now = client.app[DB], datetime.now(UTC)
    await add(pool, learner.id, course.plan_id, course.course_id, now)
    order = await checkout(pool, learner.id, now)
    assert order.amount_fen == 1000
    return await orders.pay_with_balance(pool, learner.id, order.id)


async def test_recharge_credits_the_balance_once(client: TestClient, registration: Payload) -> None:
    learner = await new_learner(client, registration)
    [(card_no, password)] = await make_cards(client)
    # As people type it: groups, a full-width digit, lower case.
    typed = f"{card_no[:4]} {card_no[4:8]}-{card_no[8:15]}{chr(0xFF10 + int(card_no[15]))}"
    response = await recharge(client, learner, typed, password.lower())
    assert response.status == 200
    assert await response.json() == {"balance_fen": 3000}
    again = await recharge(client, learner, card_no, password)
    assert again.status == 409
    assert await error_of(again) == {"code": "card_used", "message": "该学习卡已被使用"}
    assert (await account(client, learner))["balance_fen"] == 3000


async def test_twenty_concurrent_redeems_of_one_card_credit_it_once(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learners = [await new_learner(client, registration) for _ in range(4)]
    [(card_no, password)] = await make_cards(client, value_fen=5000)
    responses = await asyncio.gather(
        *(recharge(client, learners[i % 4], card_no, password) for i in range(20))
    )
    statuses = sorted(response.status for response in responses)
    assert statuses == [200] + [409] * 19
    for response in responses:
        if response.status == 409:
            assert (await error_of(response))["message"] == "该学习卡已被使用"
    balances = [(await account(client, learner))["balance_fen"] for learner in learners]
    assert sorted(balances) == [0, 0, 0, 5000]
    connection = await asyncpg.connect(database_url)
    try:
        card = await connection.fetchrow(
            "SELECT id, status, used_by FROM study_cards WHERE card_no = $1", card_no
        )
        rows = await connection.fetch(
            "SELECT learner_id FROM ledger WHERE card_id = $1", card["id"]
        )
    finally:
        await connection.close()
    winner = learners[balances.index(5000)].id
    assert card["status"] == "used"
    assert card["used_by"] == winner
    assert [row["learner_id"] for row in rows] == [winner]


async def test_wrong_number_or_password_is_refused_and_counts(
    client: TestClient, registration: Payload, redis_url: str
) -> None:
    learner = await new_learner(client, registration)
    [(card_no, password), (used_no, used_password)] = await make_cards(client, count=2)
    assert (await recharge(client, learner, used_no, used_password)).status == 200

    wrong = await recharge(client, learner, card_no, "ABCDEFGHJK")
    assert wrong.status == 422
    assert await error_of(wrong) == {"code": "card_invalid", "message": "学习卡卡号或密码错误"}
    payload = "9" + card_no[1:15] if card_no[0] != "9" else "8" + card_no[1:15]
    unknown = await recharge(client, learner, payload + cards.check_digit(payload), password)
    assert (await error_of(unknown))["message"] == "学习卡卡号或密码错误"
    # A used card is not named to someone who does not know its password.
    guessed = await recharge(client, learner, used_no, "ABCDEFGHJK")
    assert (await error_of(guessed))["message"] == "学习卡卡号或密码错误"
    assert await failures(redis_url, learner.id) == (3, 3)

    # Not guesses: a mistyped check digit (public), empty fields, a used card with its password.
    typo = card_no[:15] + str((int(card_no[15]) + 1) % 10)
    mistyped = await recharge(client, learner, typo, password)
    assert mistyped.status == 400
    assert (await error_of(mistyped))["fields"] == {"card_no": "学习卡卡号有误，请核对后重新输入"}
    empty = await recharge(client, learner, "", "")
    assert (await error_of(empty))["fields"] == {
        "card_no": "请输入学习卡卡号",
        "card_password": "请输入学习卡密码",
    }
    assert (await recharge(client, learner, used_no, used_password)).status == 409
    assert await failures(redis_url, learner.id) == (3, 3)
    assert (await account(client, learner))["balance_fen"] == 3000


async def test_a_void_card_says_so(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    [(card_no, password)] = await make_cards(client)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            """UPDATE study_cards SET status = 'void', voided_at = now(), void_reason = '遗失'
               WHERE card_no = $1""",
            card_no,
        )
    finally:
        await connection.close()
    response = await recharge(client, learner, card_no, password)
    assert response.status == 409
    assert await error_of(response) == {"code": "card_void", "message": "该学习卡已作废"}
    assert (await account(client, learner))["balance_fen"] == 0


async def test_guessing_is_throttled_per_account(client: TestClient, registration: Payload) -> None:
    learner, other = (
        await new_learner(client, registration),
        await new_learner(client, registration),
    )
    [(card_no, password)] = await make_cards(client)
    for _ in range(5):
        assert (await recharge(client, learner, card_no, "ABCDEFGHJK")).status == 422
    # Throttled before checking: even the right password is not tried.
    response = await recharge(client, learner, card_no, password)
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60 * 60
    assert (await error_of(response))["message"].startswith("学习卡充值失败次数过多")
    assert (await account(client, learner))["balance_fen"] == 0
    # The address (limit 20) is not yet throttled: another learner there still recharges.
    assert (await recharge(client, other, card_no, password)).status == 200


async def test_guessing_is_throttled_per_address(
    aiohttp_client: Any, database_url: str, redis_url: str, registration: Payload
) -> None:
    settings = load_settings(
        {},
        env="test",
        database_url=database_url,
        redis_url=redis_url,
        log_format="console",
        card_max_failures_per_address=3,
    )
    client = await aiohttp_client(create_portal(settings))
    [(card_no, password)] = await make_cards(client)
    for _ in range(3):
        learner = await new_learner(client, registration)
        assert (await recharge(client, learner, card_no, "ABCDEFGHJK")).status == 422
    fresh = await new_learner(client, registration)
    response = await recharge(client, fresh, card_no, password)
    assert response.status == 429
    assert "Retry-After" in response.headers
    await client.close()


async def test_account_api_lists_transactions_and_recharges_newest_first(
    client: TestClient,
    registration: Payload,
    database_url: str,
    settings: Settings,
    cli_admin: int,
) -> None:
    learner = await new_learner(client, registration)
    [(first_no, first_password), (second_no, second_password)] = await make_cards(client, 2, 1500)
    assert (await recharge(client, learner, first_no, first_password)).status == 200
    assert (await recharge(client, learner, second_no, second_password)).status == 200
    order = await paid_order(client, database_url, learner)
    await asyncio.to_thread(admin_cli.refund_order, settings, order.id)

    body = await account(client, learner)
    assert body["balance_fen"] == 3000
    assert [
        (entry["kind"], entry["amount_fen"], entry["balance_after_fen"], entry["order_id"])
        for entry in body["transactions"]
    ] == [
        ("refund", 1000, 3000, order.id),
        ("payment", -1000, 2000, order.id),
        ("recharge", 1500, 3000, None),
        ("recharge", 1500, 1500, None),
    ]
    assert [(entry["card_no"], entry["amount_fen"]) for entry in body["recharges"]] == [
        (second_no, 1500),
        (first_no, 1500),
    ]
    assert body["transactions_more"] is False

    # Paging back by ledger id.
    newest = body["transactions"][0]["id"]
    page = await client.get(f"/api/v1/account?before={newest}&limit=2", headers=learner.headers)
    older = await page.json()
    assert [entry["kind"] for entry in older["transactions"]] == ["payment", "recharge"]
    assert older["transactions_more"] is True
    assert [entry["card_no"] for entry in older["recharges"]] == [second_no, first_no]


async def csrf_token(client: TestClient, path: str) -> str:
    page = await client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert match is not None
    return match.group(1)


async def log_in_by_form(client: TestClient, registration: Payload) -> int:
    form = registration()
    assert (await client.post("/api/v1/auth/register", json=form)).status == 201
    token = await csrf_token(client, "/login")
    response = await client.post(
        "/login",
        data={"csrf_token": token, "username": form["username"], "password": form["password"]},
        allow_redirects=False,
    )
    assert response.status == 302
    me = await (await client.get("/api/v1/me")).json()
    user_id: int = me["user"]["id"]
    return user_id


async def test_account_page_shows_balance_records_and_recharges_by_form(
    client: TestClient, registration: Payload
) -> None:
    await log_in_by_form(client, registration)
    page = await client.get("/account")
    html = await page.text()
    for words in ("我的账户", "当前余额", "¥0.00", "学习卡卡号", "学习卡密码", "交易记录",
                  "充值记录", "暂无交易记录", 'href="/account"'):  # fmt: skip
        assert words in html, words
    assert html.count(">充值<") == 2  # the button that opens the form, and its submit

    [(card_no, password)] = await make_cards(client)
    token = await csrf_token(client, "/account")
    form = {"csrf_token": token, "card_no": card_no, "card_password": "ABCDEFGHJK"}
    refused = await client.post("/account/recharge", data=form)
    assert refused.status == 422
    html = await refused.text()
    assert "学习卡卡号或密码错误" in html
    assert card_no in html  # echoed for correction; the password is not
    assert "ABCDEFGHJK" not in html
    assert '<details class="recharge" id="recharge" open>' in html

    form["card_password"] = password
    done = await client.post("/account/recharge", data=form, allow_redirects=False)
    assert done.status == 302
    assert done.headers["Location"] == "/account?recharged=1"
    html = await (await client.get(done.headers["Location"])).text()
    assert "充值成功" in html
    assert '<dd class="money" id="balance">¥30.00</dd>' in html
    assert "<td>充值</td>" in html
    assert "+¥30.00" in html
    recharges = await (await client.get("/account?tab=recharges")).text()
    assert f"<td>{card_no}</td>" in recharges

    again = await client.post("/account/recharge", data=form)
    assert again.status == 409
    assert "该学习卡已被使用" in await again.text()


async def test_account_page_shows_the_throttle(client: TestClient, registration: Payload) -> None:
    await log_in_by_form(client, registration)
    [(card_no, _)] = await make_cards(client)
    token = await csrf_token(client, "/account")
    form = {"csrf_token": token, "card_no": card_no, "card_password": "ABCDEFGHJK"}
    for _ in range(5):
        assert (await client.post("/account/recharge", data=form)).status == 422
    response = await client.post("/account/recharge", data=form)
    assert response.status == 429
    assert "Retry-After" in response.headers
    assert "学习卡充值失败次数过多" in await response.text()


async def test_refund_returns_the_money_through_the_ledger_once(
    client: TestClient,
    registration: Payload,
    database_url: str,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    cli_admin: int,
) -> None:
    learner = await new_learner(client, registration)
    [(card_no, password)] = await make_cards(client)
    assert (await recharge(client, learner, card_no, password)).status == 200
    order = await paid_order(client, database_url, learner)
    assert (await account(client, learner))["balance_fen"] == 2000

    refunded = await asyncio.to_thread(admin_cli.refund_order, settings, order.id)
    assert refunded.status == "refunded"
    assert f"order {order.id} ({order.out_trade_no}) is refunded: ¥10.00" in capsys.readouterr().out
    assert (await account(client, learner))["balance_fen"] == 3000
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT kind, amount_fen FROM ledger WHERE order_id = $1 ORDER BY id", order.id
        )
        selected = await connection.fetchval(
            "SELECT count(*) FROM selections WHERE learner_id = $1", learner.id
        )
    finally:
        await connection.close()
    assert [(row["kind"], row["amount_fen"]) for row in rows] == [
        ("payment", -1000),
        ("refund", 1000),
    ]
    assert selected == 0

    with pytest.raises(Conflict) as second:
        await orders.refund(client.app[DB], order.id)
    assert second.value.status == 409
    with pytest.raises(SystemExit) as exited:
        await asyncio.to_thread(admin_cli.refund_order, settings, order.id)
    assert "该订单已退款，不能重复退款" in str(exited.value.code)
    assert (await account(client, learner))["balance_fen"] == 3000


async def test_an_unpaid_or_cancelled_order_cannot_be_refunded(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(database_url)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2)",
            learner.id,
            course.plan_id,
        )
    finally:
        await connection.close()
    pool, now = client.app[DB], datetime.now(UTC)
    await add(pool, learner.id, course.plan_id, course.course_id, now)
    order = await checkout(pool, learner.id, now)
    with pytest.raises(Conflict) as unpaid:
        await orders.refund(pool, order.id)
    assert unpaid.value.status == 409
    await orders.cancel(pool, learner.id, order.id)
    with pytest.raises(Conflict):
        await orders.refund(pool, order.id)
    assert (await orders.get_order(pool, learner.id, order.id)).status == "cancelled"


async def test_another_learner_cannot_see_the_account(
    client: TestClient, registration: Payload
) -> None:
    owner, other = await new_learner(client, registration), await new_learner(client, registration)
    [(card_no, password)] = await make_cards(client)
    assert (await recharge(client, owner, card_no, password)).status == 200
    assert await account(client, other) == {
        "balance_fen": 0,
        "transactions": [],
        "recharges": [],
        "transactions_more": False,
        "recharges_more": False,
    }
    assert (await client.get("/api/v1/account")).status == 401
    anonymous = await client.post(
        "/api/v1/account/recharge",
        json={"card_no": card_no, "card_password": password},
        headers=origin_of(client),
    )
    assert anonymous.status == 401
    page = await client.get("/account", allow_redirects=False)
    assert page.status == 302
    assert page.headers["Location"].startswith("/login")


async def test_cli_writes_the_cards_to_a_new_private_csv(
    client: TestClient,
    registration: Payload,
    settings: Settings,
    tmp_path: Path,
    cli_admin: int,
) -> None:
    out = tmp_path / "cards.csv"
    written = await asyncio.to_thread(
        admin_cli.generate_cards, settings, count=3, value_fen=2000, batch="2018年第一批", out=out
    )
    assert written == out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 3
    assert {row["value_fen"] for row in rows} == {"2000"}
    assert {row["batch"] for row in rows} == {"2018年第一批"}
    assert all(cards.card_no_error(row["card_no"]) is None for row in rows)
    learner = await new_learner(client, registration)
    response = await recharge(client, learner, rows[0]["card_no"], rows[0]["password"])
    assert await response.json() == {"balance_fen": 2000}
    # Never overwritten: that file holds the only copy of the passwords.
    with pytest.raises(SystemExit):
        await asyncio.to_thread(
            admin_cli.generate_cards, settings, count=1, value_fen=2000, out=out
        )
    with out.open(encoding="utf-8") as file:
        assert len(file.readlines()) == 4
