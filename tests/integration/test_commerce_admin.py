"""Study-card batches and orders administered within an organisation subtree: each use case
called as super, admin of A, admin of B, teacher and learner on objects of A and B; what is
refused changes nothing, what is done is audited (never with a card's password or hash)."""

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.accounts.passwords import verify_password
from engine.admin.scope import Scope, scope_of
from engine.appkeys import CARD_THROTTLE, DB
from engine.clock import CHINA
from engine.commerce import admin, balance, cards, orders
from engine.commerce.types import NewBatch, OrderQuery
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.settings import Settings
from tests.conftest import build_course, unpaid_order
from tests.integration.test_cart_orders import credit
from web import admin_cli

TODAY = datetime.now(CHINA).date()


@dataclass(frozen=True)
class World:
    root: int
    a: int
    a1: int
    b: int
    scopes: dict[str, Scope]
    learners: dict[str, int]  # learner_a (in A1), learner_b (in B)


async def insert_org(connection: asyncpg.Connection, code: str, parent: int | None) -> int:
    org_id: int = await connection.fetchval(
        "INSERT INTO orgs (code, name, parent_id) VALUES ($1, $2, $3) RETURNING id",
        code,
        f"单位{code}",
        parent,
    )
    return org_id


async def insert_user(
    connection: asyncpg.Connection, username: str, role: str, org_id: int, id_number: str
) -> int:
    user_id: int = await connection.fetchval(
        """INSERT INTO users (username, password_hash, role, org_id, real_name, phone, id_type,
                              id_number)
           VALUES ($1, 'x', $2, $3, $4, '13800000000', 'passport', $5) RETURNING id""",
        username,
        role,
        org_id,
        f"姓名{username}",
        id_number,
    )
    return user_id


@pytest.fixture
async def world(database_url: str) -> World:
    connection = await asyncpg.connect(database_url)
    try:
        root = await insert_org(connection, "root", None)
        a = await insert_org(connection, "a", root)
        a1 = await insert_org(connection, "a1", a)
        b = await insert_org(connection, "b", root)
        scopes = {}
        for name, role, org in (
            ("super", "super", root),
            ("admin_a", "admin", a),
            ("admin_b", "admin", b),
            ("teacher", "teacher", a),
        ):
            user_id = await insert_user(connection, name, role, org, f"P{name.upper()}")
            scopes[name] = scope_of(user_id, name, role, org)
        learners = {
            "learner_a": await insert_user(connection, "learner_a", "learner", a1, "E1234567"),
            "learner_b": await insert_user(connection, "learner_b", "learner", b, "E7654321"),
        }
    finally:
        await connection.close()
    return World(root, a, a1, b, scopes, learners)


def new_batch(org_id: int | None, count: int = 2, **fields: Any) -> NewBatch:
    return NewBatch(
        name=fields.pop("name", "2026年第一批"),
        count=count,
        value_fen=fields.pop("value_fen", 3000),
        org_id=org_id,
        **fields,
    )


async def redeem(client: TestClient, learner_id: int, card: tuple[str, str]) -> int:
    return await cards.redeem(
        client.app[DB], client.app[CARD_THROTTLE], learner_id, card[0], card[1], "127.0.0.1"
    )


async def rows(pool: asyncpg.Pool, query: str, *args: object) -> list[dict[str, Any]]:
    return [dict(row) for row in await pool.fetch(query, *args)]


async def snapshot(pool: asyncpg.Pool) -> tuple[list[dict[str, Any]], ...]:
    """Everything a refused call must leave as it was."""
    return (
        await rows(pool, "SELECT * FROM card_batches ORDER BY id"),
        await rows(pool, "SELECT * FROM study_cards ORDER BY id"),
        await rows(pool, "SELECT id, status, closed_at FROM orders ORDER BY id"),
        await rows(pool, "SELECT * FROM ledger ORDER BY id"),
        await rows(pool, "SELECT id FROM audit_log ORDER BY id"),
    )


async def test_a_batch_hands_out_its_passwords_once_and_stores_only_hashes(
    client: TestClient, world: World
) -> None:
    pool = client.app[DB]
    created = await admin.create_batch(
        pool, world.scopes["admin_a"], new_batch(world.a1, 3, valid_until=TODAY), TODAY
    )
    assert (created.batch.org_id, created.batch.card_count, created.batch.state) == (
        world.a1,
        3,
        "active",
    )
    table = list(csv.DictReader(io.StringIO(cards.cards_csv(created.batch, created.cards))))
    assert [(row["card_no"], row["password"]) for row in table] == created.cards
    assert {(row["value_fen"], row["batch"], row["valid_until"]) for row in table} == {
        ("3000", "2026年第一批", TODAY.isoformat())
    }
    stored = await rows(
        pool, "SELECT card_no, password_hash FROM study_cards WHERE batch_id = $1", created.batch.id
    )
    hashes = {row["card_no"]: row["password_hash"] for row in stored}
    for card_no, password in created.cards:
        assert hashes[card_no] != password
        assert await verify_password(hashes[card_no], password)

    # Nothing shows a password again: the cards' listing has none, the audit row neither.
    listed = await admin.batch_cards(
        pool, world.scopes["admin_a"], created.batch.id, state=None, card_no=None, page=1
    )
    assert [card.card_no for card in listed.items] == [card_no for card_no, _ in created.cards]
    assert not {"password", "password_hash"} & set(type(listed.items[0]).__struct_fields__)
    [entry] = await rows(pool, "SELECT actor_name, action, org_id, after::text FROM audit_log")
    assert (entry["actor_name"], entry["action"], entry["org_id"]) == (
        "admin_a",
        "card_batch.create",
        world.a1,
    )
    for card_no, password in created.cards:
        assert password not in entry["after"]
        assert card_no not in entry["after"]
    assert "argon2" not in entry["after"]

    # Learners of the batch's subtree redeem its cards; another organisation's cannot.
    assert await redeem(client, world.learners["learner_a"], created.cards[0]) == 3000
    with pytest.raises(Conflict) as elsewhere:
        await redeem(client, world.learners["learner_b"], created.cards[1])
    assert elsewhere.value.message == cards.ELSEWHERE


async def test_who_may_create_a_batch_and_for_whom(client: TestClient, world: World) -> None:
    pool = client.app[DB]
    before = await snapshot(pool)
    for who, org, error in (
        ("admin_b", world.a, NotFound),
        ("admin_a", world.b, NotFound),
        ("admin_a", None, InvalidInput),  # the platform's batches are the super's
        ("teacher", world.a, Forbidden),
    ):
        with pytest.raises(error):
            await admin.create_batch(pool, world.scopes[who], new_batch(org), TODAY)
    with pytest.raises(InvalidInput) as bad:
        await admin.create_batch(
            pool,
            world.scopes["admin_a"],
            new_batch(world.a, 0, name=" ", value_fen=0, valid_until=TODAY - timedelta(days=1)),
            TODAY,
        )
    assert set(bad.value.fields) == {"count", "value_fen", "name", "valid_until"}
    with pytest.raises(Forbidden):
        scope_of(world.learners["learner_a"], "learner_a", "learner", world.a1)
    assert await snapshot(pool) == before

    platform = await admin.create_batch(pool, world.scopes["super"], new_batch(None, 1), TODAY)
    assert platform.batch.org_name is None
    # A platform batch lies outside every administrator's scope but the super's; its cards
    # are every learner's.
    with pytest.raises(NotFound):
        await admin.get_batch(pool, world.scopes["admin_a"], platform.batch.id)
    assert await redeem(client, world.learners["learner_b"], platform.cards[0]) == 3000


async def test_void_a_card_and_a_batch_within_the_scope_only(
    client: TestClient, world: World
) -> None:
    pool = client.app[DB]
    admin_a, admin_b = world.scopes["admin_a"], world.scopes["admin_b"]
    created = await admin.create_batch(pool, admin_a, new_batch(world.a, 4), TODAY)
    listed = await admin.batch_cards(
        pool, admin_a, created.batch.id, state=None, card_no=None, page=1
    )
    first, second, third, fourth = (card.id for card in listed.items)
    await redeem(client, world.learners["learner_a"], created.cards[3])

    before = await snapshot(pool)
    for who, error in (("admin_b", NotFound), ("teacher", Forbidden)):
        with pytest.raises(error):
            await admin.void_card(pool, world.scopes[who], first, "遗失")
        with pytest.raises(error):
            await admin.void_batch(pool, world.scopes[who], created.batch.id, "停用")
        with pytest.raises(error):
            await admin.redemptions(pool, world.scopes[who], created.batch.id, page=1)
    with pytest.raises(NotFound):
        await admin.find_card(pool, admin_b, created.cards[0][0])
    with pytest.raises(InvalidInput):
        await admin.void_card(pool, admin_a, first, "  ")
    with pytest.raises(Conflict) as used:
        await admin.void_card(pool, admin_a, fourth, "遗失")
    assert used.value.message == "该学习卡已被使用，不能作废"
    assert await snapshot(pool) == before

    voided = await admin.void_card(pool, admin_a, first, "学员报告遗失")
    assert (voided.state, voided.void_reason) == ("void", "学员报告遗失")
    with pytest.raises(Conflict) as void:
        await redeem(client, world.learners["learner_a"], created.cards[0])
    assert void.value.message == cards.VOID == "该学习卡已作废"
    with pytest.raises(Conflict):
        await admin.void_card(pool, admin_a, first, "再次")

    batch = await admin.void_batch(pool, world.scopes["super"], created.batch.id, "整批停用")
    assert (batch.state, batch.void_reason, batch.used_count) == ("void", "整批停用", 1)
    for card in created.cards[1:3]:
        with pytest.raises(Conflict) as void:
            await redeem(client, world.learners["learner_a"], card)
        assert void.value.message == "该学习卡已作废"
    with pytest.raises(Conflict):
        await admin.void_batch(pool, admin_a, created.batch.id, "again")
    assert [
        card.state
        for card in (
            await admin.batch_cards(
                pool, admin_a, created.batch.id, state=None, card_no=None, page=1
            )
        ).items
    ] == ["void", "void", "void", "used"]
    assert (await admin.get_card(pool, admin_a, second)).state == "void"
    assert (await admin.find_card(pool, admin_a, created.cards[2][0])).id == third

    audit = await rows(
        pool, "SELECT actor_name, action, object_id, before, after FROM audit_log ORDER BY id"
    )
    assert [(row["actor_name"], row["action"]) for row in audit] == [
        ("admin_a", "card_batch.create"),
        ("admin_a", "card.void"),
        ("super", "card_batch.void"),
    ]
    assert '"state": "active"' in audit[1]["before"]
    assert '"state": "void"' in audit[1]["after"]
    assert '"unused_cards_voided": 2' in audit[2]["after"]


async def test_an_expired_card_is_refused(client: TestClient, world: World) -> None:
    pool = client.app[DB]
    created = await admin.create_batch(
        pool, world.scopes["admin_a"], new_batch(world.a, 2, valid_until=TODAY), TODAY
    )
    # Valid through its last day (today); the day after, refused.
    assert await redeem(client, world.learners["learner_a"], created.cards[0]) == 3000
    await pool.execute(
        "UPDATE card_batches SET valid_until = $2 WHERE id = $1",
        created.batch.id,
        TODAY - timedelta(days=1),
    )
    with pytest.raises(Conflict) as expired:
        await redeem(client, world.learners["learner_a"], created.cards[1])
    assert expired.value.message == "该学习卡已过有效期"
    assert await balance.balance_of(pool, world.learners["learner_a"]) == 3000
    found = await admin.batches(
        pool, world.scopes["admin_a"], name="第一批", state="expired", page=1
    )
    assert [(batch.id, batch.used_count) for batch in found.items] == [(created.batch.id, 1)]


async def test_redemption_history_says_which_card_who_and_when(
    client: TestClient, world: World
) -> None:
    pool = client.app[DB]
    created = await admin.create_batch(pool, world.scopes["admin_a"], new_batch(world.a, 3), TODAY)
    await redeem(client, world.learners["learner_a"], created.cards[2])
    await redeem(client, world.learners["learner_a"], created.cards[0])
    history = await admin.redemptions(pool, world.scopes["super"], created.batch.id, page=1)
    assert history.total == 2
    assert [(card.card_no, card.used_by, card.used_by_username) for card in history.items] == [
        (created.cards[0][0], world.learners["learner_a"], "learner_a"),
        (created.cards[2][0], world.learners["learner_a"], "learner_a"),
    ]
    assert all(card.used_at is not None for card in history.items)
    # Each batch in scope lists with its counts; B's administrator sees none of A's.
    mine = await admin.batches(pool, world.scopes["admin_a"], name=None, state=None, page=1)
    assert [(batch.id, batch.used_count) for batch in mine.items] == [(created.batch.id, 2)]
    theirs = await admin.batches(pool, world.scopes["admin_b"], name=None, state=None, page=1)
    assert theirs.total == 0


async def paid_order(database_url: str, pool: asyncpg.Pool, learner_id: int) -> int:
    course = await build_course(database_url, hour_tenths=20)
    await credit(database_url, learner_id, 100_000)
    order = await unpaid_order(database_url, learner_id, course)
    return (await orders.pay_with_balance(pool, learner_id, order.id)).id


async def test_orders_are_searched_within_the_scope(
    client: TestClient, world: World, database_url: str
) -> None:
    pool = client.app[DB]
    a_order = await paid_order(database_url, pool, world.learners["learner_a"])
    b_order = await paid_order(database_url, pool, world.learners["learner_b"])
    a_unpaid = (
        await unpaid_order(
            database_url, world.learners["learner_a"], await build_course(database_url)
        )
    ).id
    admin_a = world.scopes["admin_a"]

    async def found(scope: Scope, **query: Any) -> list[int]:
        page = await admin.search_orders(pool, scope, OrderQuery(**query), page=1)
        assert page.total == len(page.items)
        return [order.id for order in page.items]

    assert await found(world.scopes["super"]) == [a_unpaid, b_order, a_order]
    assert await found(admin_a) == [a_unpaid, a_order]
    assert await found(world.scopes["admin_b"]) == [b_order]
    with pytest.raises(Forbidden):
        await found(world.scopes["teacher"])
    trade_no = (await admin.order_detail(pool, admin_a, a_order)).order.out_trade_no
    assert await found(admin_a, number=str(a_order)) == [a_order]
    assert await found(admin_a, number=trade_no.lower()) == [a_order]
    assert await found(admin_a, number=str(b_order)) == []
    assert await found(admin_a, learner="姓名learner") == [a_unpaid, a_order]
    assert await found(admin_a, learner="LEARNER_A") == [a_unpaid, a_order]
    assert await found(admin_a, learner="e1234567") == [a_unpaid, a_order]
    assert await found(admin_a, learner="E7654321") == []
    assert await found(admin_a, status="paid") == [a_order]
    assert await found(admin_a, method="balance") == [a_order]
    assert await found(admin_a, method="alipay") == []
    assert await found(admin_a, since=TODAY, until=TODAY) == [a_unpaid, a_order]
    assert await found(admin_a, until=TODAY - timedelta(days=1)) == []
    plan_id = await pool.fetchval("SELECT plan_id FROM order_items WHERE order_id = $1", a_order)
    assert await found(admin_a, plan_id=plan_id) == [a_order]
    assert await admin.order_plans(pool, admin_a) == [
        (row["id"], row["title"])
        for row in await pool.fetch(
            """SELECT DISTINCT p.id, p.title, p.year FROM plans p JOIN order_items i
               ON i.plan_id = p.id JOIN orders o ON o.id = i.order_id
               WHERE o.learner_id = $1 ORDER BY p.year DESC, p.id DESC""",
            world.learners["learner_a"],
        )
    ]
    with pytest.raises(InvalidInput) as bad:
        await found(admin_a, status="lost", method="cash", since=TODAY, until=date(2000, 1, 1))
    assert set(bad.value.fields) == {"status", "method", "until"}
    with pytest.raises(InvalidInput):
        await found(admin_a, learner="\x00")
    paged = await admin.search_orders(pool, world.scopes["super"], OrderQuery(), page=2)
    assert (paged.total, paged.items) == (3, [])


async def test_a_refund_within_the_scope_goes_through_the_ledger_and_is_audited(
    client: TestClient, world: World, database_url: str
) -> None:
    pool = client.app[DB]
    learner = world.learners["learner_a"]
    order_id = await paid_order(database_url, pool, learner)
    amount = await pool.fetchval("SELECT amount_fen FROM orders WHERE id = $1", order_id)
    assert amount > 0
    assert await balance.balance_of(pool, learner) == 100_000 - amount

    before = await snapshot(pool)
    for who, error in (("admin_b", NotFound), ("teacher", Forbidden)):
        with pytest.raises(error):
            await admin.refund_order(pool, world.scopes[who], order_id)
        with pytest.raises(error):
            await admin.order_detail(pool, world.scopes[who], order_id)
    assert await snapshot(pool) == before

    detail = await admin.refund_order(pool, world.scopes["admin_a"], order_id)
    assert detail.order.status == "refunded"
    assert detail.learner.username == "learner_a"
    assert [(entry.kind, entry.amount_fen) for entry in detail.ledger] == [
        ("payment", -amount),
        ("refund", amount),
    ]
    assert await balance.balance_of(pool, learner) == 100_000
    # The refund rule: the course is unselected, its hours no longer count.
    assert (
        await pool.fetchval("SELECT count(*) FROM selections WHERE learner_id = $1", learner) == 0
    )
    [entry] = await rows(
        pool,
        "SELECT actor_name, action, object_id, org_id, before, after FROM audit_log",
    )
    assert (entry["actor_name"], entry["action"], entry["object_id"], entry["org_id"]) == (
        "admin_a",
        "order.refund",
        str(order_id),
        world.a1,
    )
    assert '"status": "paid"' in entry["before"]
    assert '"status": "refunded"' in entry["after"]

    with pytest.raises(Conflict) as again:
        await admin.refund_order(pool, world.scopes["super"], order_id)
    assert again.value.message == "该订单已退款，不能重复退款"
    unpaid = await unpaid_order(database_url, learner, await build_course(database_url))
    with pytest.raises(Conflict) as not_paid:
        await admin.refund_order(pool, world.scopes["super"], unpaid.id)
    assert not_paid.value.message == "该订单尚未支付，不能退款"
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == 1


async def test_the_demos_cards_are_a_platform_batch_for_every_learner(
    client: TestClient, world: World
) -> None:
    pool = client.app[DB]
    issued = await cards.generate(pool, 2, 500, "demo")
    batch = await pool.fetchrow("SELECT org_id, name, card_count, valid_until FROM card_batches")
    assert dict(batch) == {"org_id": None, "name": "demo", "card_count": 2, "valid_until": None}
    assert await redeem(client, world.learners["learner_b"], issued[0]) == 500


async def test_the_cli_creates_a_batch_as_the_administrator_it_names(
    client: TestClient, world: World, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "a.csv"
    await asyncio.to_thread(
        admin_cli.generate_cards,
        settings,
        count=1,
        value_fen=100,
        batch="命令行",
        valid_until=TODAY,
        org=world.a,
        out=out,
        by="admin_a",
    )
    with out.open(encoding="utf-8", newline="") as file:
        [row] = list(csv.DictReader(file))
    assert (row["batch"], row["valid_until"]) == ("命令行", TODAY.isoformat())
    pool = client.app[DB]
    assert await pool.fetchval("SELECT actor_name FROM audit_log") == "admin_a（命令行）"

    refused = tmp_path / "b.csv"
    with pytest.raises(SystemExit) as exited:
        await asyncio.to_thread(
            admin_cli.generate_cards,
            settings,
            count=1,
            value_fen=100,
            org=world.a,
            out=refused,
            by="admin_b",
        )
    assert "单位不存在" in str(exited.value.code)
    assert not refused.exists()
    with pytest.raises(SystemExit) as teacher:
        await asyncio.to_thread(admin_cli.refund_order, settings, 1, by="teacher")
    assert "没有权限" in str(teacher.value.code)
    assert await pool.fetchval("SELECT count(*) FROM card_batches") == 1
