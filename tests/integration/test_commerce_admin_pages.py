"""学习卡 and 订单 admin pages: a batch created in the browser answers its CSV once, a card
voided there is refused at 充值, an order found by its learner is refunded from its page."""

import csv
import io
from collections.abc import Callable
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.commerce import orders
from tests.admin_client import Browser
from tests.admin_world import insert_org, insert_user
from tests.conftest import build_course, new_learner, unpaid_order
from tests.integration.test_cart_orders import credit

Payload = Callable[..., dict[str, Any]]


async def admins(database_url: str, org_id: int) -> tuple[int, int]:
    """An administrator of `org_id` and one of an unrelated organisation."""
    connection = await asyncpg.connect(database_url)
    try:
        other = await insert_org(connection, "另一组织", None)
        return (
            await insert_user(connection, org_id, role="admin"),
            await insert_user(connection, other, role="admin"),
        )
    finally:
        await connection.close()


async def test_a_batch_made_in_the_browser_and_a_card_voided_there(
    client: TestClient, database_url: str, org_id: int, registration: Payload
) -> None:
    mine, theirs = await admins(database_url, org_id)
    admin, outsider = await Browser.of(client, mine), await Browser.of(client, theirs)
    form = await (await admin.get("/admin/card-batches/new")).text()
    assert "只在生成时下载一次" in form
    assert '<label for="value">面值（元）' in form

    bad = await admin.post(
        "/admin/card-batches", name="第一批", count="2", value="三十", org_id=str(org_id)
    )
    assert bad.status == 400
    assert "面值应为金额" in await bad.text()
    too_many = await admin.post(
        "/admin/card-batches", name="第一批", count="2001", value="30", org_id=str(org_id)
    )
    assert too_many.status == 400
    assert "网页上每批最多生成2000张" in await too_many.text()
    assert await client.app[DB].fetchval("SELECT count(*) FROM card_batches") == 0

    answer = await admin.post(
        "/admin/card-batches",
        name="第一批",
        count="3",
        value="30.50",
        valid_until="2100-12-31",
        org_id=str(org_id),
    )
    assert answer.status == 200
    assert answer.content_type == "text/csv"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert answer.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(await answer.text())))
    assert len(rows) == 3
    assert {(row["value_fen"], row["valid_until"]) for row in rows} == {("3050", "2100-12-31")}
    batch_id = await client.app[DB].fetchval("SELECT id FROM card_batches")

    page = await (await admin.get(f"/admin/card-batches/{batch_id}")).text()
    assert all(row["card_no"] in page for row in rows)
    assert not any(row["password"] in page for row in rows)
    assert "无法再次下载" in page
    assert (await outsider.get(f"/admin/card-batches/{batch_id}")).status == 404

    found = await admin.get("/admin/cards", card_no=rows[0]["card_no"])
    assert found.status == 302
    card_url = found.headers["Location"]
    voided = await admin.post(f"{card_url}/void", reason="学员报告遗失")
    assert (voided.status, voided.headers["Location"]) == (302, card_url)
    assert "学员报告遗失" in await (await admin.get(card_url)).text()
    assert (await outsider.post(f"{card_url}/void", reason="x")).status == 404

    learner = await new_learner(client, registration)
    for row, status in ((rows[0], 409), (rows[1], 200)):
        response = await client.post(
            "/api/v1/account/recharge",
            json={"card_no": row["card_no"], "card_password": row["password"]},
            headers=learner.headers,
        )
        assert response.status == status
    history = await (await admin.get(f"/admin/card-batches/{batch_id}/redemptions")).text()
    assert rows[1]["card_no"] in history
    assert rows[0]["card_no"] not in history


async def test_an_order_found_by_its_learner_is_refunded_from_its_page(
    client: TestClient, database_url: str, org_id: int, registration: Payload
) -> None:
    mine, theirs = await admins(database_url, org_id)
    admin, outsider = await Browser.of(client, mine), await Browser.of(client, theirs)
    payload = registration(real_name="王小明")
    learner = await new_learner(client, lambda: payload)
    pool = client.app[DB]
    await credit(database_url, learner.id, 100_000)
    order = await unpaid_order(database_url, learner.id, await build_course(database_url))
    order = await orders.pay_with_balance(pool, learner.id, order.id)

    listing = await (await admin.get("/admin/orders", learner="小明", status="paid")).text()
    assert order.out_trade_no in listing
    assert "共 1 条" in listing
    elsewhere = await (await outsider.get("/admin/orders", learner="小明")).text()
    assert order.out_trade_no not in elsewhere
    assert (await admin.get("/admin/orders", since="昨天")).status == 400

    url = f"/admin/orders/{order.id}"
    detail = await (await admin.get(url)).text()
    assert "账户流水" in detail
    assert "退款至学员账户余额" in detail
    assert (await outsider.get(url)).status == 404
    assert (await outsider.post(f"{url}/refund")).status == 404
    assert (await orders.get_order(pool, learner.id, order.id)).status == "paid"

    refunded = await admin.post(f"{url}/refund")
    assert (refunded.status, refunded.headers["Location"]) == (302, url)
    assert (await orders.get_order(pool, learner.id, order.id)).status == "refunded"
    again = await admin.post(f"{url}/refund")
    assert again.status == 302
    assert "jixu_flash" in again.cookies
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'order.refund'") == 1
