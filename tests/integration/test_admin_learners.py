"""学员管理: search within the scope, password reset forcing a change at the next login,
lock and unlock ending the learner's logins; each change audited without secrets."""

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
from aiohttp.test_utils import TestClient

from tests.admin_client import Browser
from tests.admin_world import insert_org, insert_user
from tests.conftest import new_learner, origin_of
from tests.integration.test_sockets import closed_with, opened


async def admin_of(database_url: str, org_id: int, role: str = "admin") -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return await insert_user(connection, org_id, role=role)
    finally:
        await connection.close()


async def other_org(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return await insert_org(connection, "另一组织", None)
    finally:
        await connection.close()


async def test_search_by_each_field_within_the_scope(
    client: TestClient,
    database_url: str,
    org_id: int,
    registration: Callable[..., dict[str, Any]],
) -> None:
    wang = registration(real_name="王小明", phone="13911112222", username="wang_xm")
    li = registration(real_name="李华", phone="13733334444")
    for payload in (wang, li):
        assert (await client.post("/api/v1/auth/register", json=payload)).status == 201
    admin = await Browser.of(client, await admin_of(database_url, org_id))
    for query in ("小明", "WANG_x", wang["id_number"][-6:], "1391111"):
        page = await (await admin.get("/admin/learners", q=query)).text()
        assert "王小明" in page, query
        assert "李华" not in page, query
    page = await (await admin.get("/admin/learners")).text()
    assert "王小明" in page
    assert "李华" in page
    assert "共 2 条" in page
    page = await (await admin.get("/admin/learners", locked="1")).text()
    assert "共 0 条" in page

    outsider = await Browser.of(client, await admin_of(database_url, await other_org(database_url)))
    page = await (await outsider.get("/admin/learners", q="小明")).text()
    assert "王小明" not in page
    assert "共 0 条" in page
    page = await (await outsider.get("/admin/learners", org_id=str(org_id))).text()
    assert "共 0 条" in page


async def test_a_list_is_paged_on_the_server(
    client: TestClient, database_url: str, org_id: int
) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        for _ in range(23):
            await insert_user(connection, org_id)
    finally:
        await connection.close()
    admin = await Browser.of(client, await admin_of(database_url, org_id))
    first = await (await admin.get("/admin/learners")).text()
    assert "共 23 条" in first
    assert "第 1 / 2 页" in first
    assert 'rel="next"' in first
    second = await (await admin.get("/admin/learners", page="2")).text()
    assert second.count("/admin/learners/") == 3
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second


async def test_a_reset_password_must_be_changed_at_the_next_login(
    client: TestClient,
    database_url: str,
    org_id: int,
    registration: Callable[..., dict[str, Any]],
) -> None:
    learner = await new_learner(client, registration)
    admin = await Browser.of(client, await admin_of(database_url, org_id))
    page = await (await admin.post(f"/admin/learners/{learner.id}/password")).text()
    found = re.search(r'id="temporary-password">([^<]+)<', page)
    assert found is not None
    temporary = found[1]
    # The learner's logins ended.
    assert (await client.get("/api/v1/me", headers=learner.headers)).status == 401

    username = await (await client.get("/api/v1/me", headers=admin_bearer(admin))).text()
    me = msgspec.json.decode(username)
    assert me["user"]["must_change_password"] is False
    name = await learner_name(database_url, learner.id)
    old = await client.post(
        "/api/v1/auth/login",
        json={"username": name, "password": "Study2018go"},
        headers=origin_of(client),
    )
    assert old.status == 401
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": name, "password": temporary},
        headers=origin_of(client),
    )
    assert login.status == 200
    body = await login.json()
    assert body["user"]["must_change_password"] is True
    client.session.cookie_jar.clear()
    bearer = {"Authorization": f"Bearer {body['token']}"}
    refused = await client.get("/api/v1/plans", headers=bearer)
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "password_change_required"
    assert (await client.get("/api/v1/me", headers=bearer)).status == 200
    profile = await client.patch("/api/v1/me", json={"phone": "13900000000"}, headers=bearer)
    assert profile.status == 403
    browser = Browser(client, body["token"])
    assert (await browser.get("/plans")).headers["Location"] == "/settings/password"
    assert (await browser.get("/settings/password")).status == 200
    changed = await browser.post(
        "/settings/password",
        old_password=temporary,
        new_password="NewStudy2026x",
        confirm_password="NewStudy2026x",
    )
    assert changed.status == 200
    assert (await browser.get("/plans")).status == 200

    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            "SELECT actor_role, before, after FROM audit_log WHERE action = 'learner.reset_password'"
        )
    finally:
        await connection.close()
    assert row["actor_role"] == "admin"
    before, after = msgspec.json.decode(row["before"]), msgspec.json.decode(row["after"])
    assert (before["must_change_password"], after["must_change_password"]) == (False, True)
    assert "hash" not in row["before"] + row["after"]
    assert temporary not in row["after"]


def admin_bearer(browser: Browser) -> dict[str, str]:
    return {"Authorization": f"Bearer {browser.token}"}


async def learner_name(database_url: str, user_id: int) -> str:
    connection = await asyncpg.connect(database_url)
    try:
        name: str = await connection.fetchval("SELECT username FROM users WHERE id = $1", user_id)
        return name
    finally:
        await connection.close()


async def test_a_locked_learner_is_logged_out_and_cannot_log_in_until_unlocked(
    client: TestClient,
    database_url: str,
    org_id: int,
    registration: Callable[..., dict[str, Any]],
) -> None:
    payload = registration()
    assert (await client.post("/api/v1/auth/register", json=payload)).status == 201
    credentials = {"username": payload["username"], "password": payload["password"]}
    login = await client.post("/api/v1/auth/login", json=credentials, headers=origin_of(client))
    body = await login.json()
    client.session.cookie_jar.clear()
    learner_id, bearer = body["user"]["id"], {"Authorization": f"Bearer {body['token']}"}
    admin = await Browser.of(client, await admin_of(database_url, org_id))

    locked = await admin.post(f"/admin/learners/{learner_id}/lock")
    assert locked.status == 302
    assert (await client.get("/api/v1/me", headers=bearer)).status == 401
    refused = await client.post("/api/v1/auth/login", json=credentials, headers=origin_of(client))
    assert refused.status == 401
    assert (await refused.json())["error"]["code"] == "locked"
    # A wrong password says nothing of the lock.
    wrong = await client.post(
        "/api/v1/auth/login",
        json={**credentials, "password": "Wrong2026pass"},
        headers=origin_of(client),
    )
    assert (await wrong.json())["error"]["code"] == "bad_credentials"
    assert (await admin.post(f"/admin/learners/{learner_id}/lock")).status == 409

    assert (await admin.post(f"/admin/learners/{learner_id}/unlock")).status == 302
    again = await client.post("/api/v1/auth/login", json=credentials, headers=origin_of(client))
    assert again.status == 200
    client.session.cookie_jar.clear()

    connection = await asyncpg.connect(database_url)
    try:
        actions = await connection.fetch(
            "SELECT action, before->>'locked_at' AS was, after->>'locked_at' AS now"
            " FROM audit_log ORDER BY id"
        )
    finally:
        await connection.close()
    assert [row["action"] for row in actions] == ["learner.lock", "learner.unlock"]
    assert actions[0]["was"] is None
    assert actions[0]["now"] is not None
    assert actions[1]["now"] is None


async def test_an_administrator_of_another_subtree_finds_no_learner(
    client: TestClient,
    database_url: str,
    registration: Callable[..., dict[str, Any]],
) -> None:
    learner = await new_learner(client, registration)
    outsider = await Browser.of(client, await admin_of(database_url, await other_org(database_url)))
    assert (await outsider.get(f"/admin/learners/{learner.id}")).status == 404
    assert (await outsider.post(f"/admin/learners/{learner.id}/lock")).status == 404
    assert (await client.get("/api/v1/me", headers=learner.headers)).status == 200


async def test_locking_closes_the_learners_sockets(
    client: TestClient,
    database_url: str,
    org_id: int,
    registration: Callable[..., dict[str, Any]],
) -> None:
    learner = await new_learner(client, registration)
    ws = await opened(client, learner)
    admin = await Browser.of(client, await admin_of(database_url, org_id))
    assert (await admin.post(f"/admin/learners/{learner.id}/lock")).status == 302
    assert await closed_with(ws) == 4001
