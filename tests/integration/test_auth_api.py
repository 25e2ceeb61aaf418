"""PROTOCOL.md § Authentication against real PostgreSQL and Redis."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.accounts import keys
from engine.appkeys import REDIS
from tests.conftest import origin_of

Payload = Callable[..., dict[str, Any]]


async def register(client: TestClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status == 201, await response.text()
    return (await response.json())["user"]


async def login(client: TestClient, username: str, password: str) -> str:
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        headers=origin_of(client),
    )
    assert response.status == 200, await response.text()
    return (await response.json())["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_register_returns_the_user_with_facts_from_the_id_number(
    client: TestClient, registration: Payload
) -> None:
    payload = registration(id_number="11010519491231002X")
    user = await register(client, payload)
    assert user["username"] == payload["username"]
    assert user["birth_date"] == "1949-12-31"
    assert user["gender"] == "female"
    assert user["org_name"] == "测试组织"
    assert "password" not in user
    assert "password_hash" not in user


async def test_register_refuses_bad_fields_with_a_message_each(
    client: TestClient, registration: Payload
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json=registration(username="ab", phone="12345", id_number="110105194912310021"),
    )
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"username", "phone", "id_number"}
    assert error["fields"]["id_number"] == "身份证号校验位不正确，请核对"


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'"text"'], ids=["garbage", "array", "string"]
)
async def test_register_refuses_a_body_that_is_not_a_json_object(
    client: TestClient, body: bytes
) -> None:
    response = await client.post(
        "/api/v1/auth/register", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["error"]["message"] == "请求内容应为JSON对象"


async def test_register_refuses_an_unknown_organisation(
    client: TestClient, registration: Payload
) -> None:
    response = await client.post("/api/v1/auth/register", json=registration(org_id=999999))
    assert response.status == 400
    assert (await response.json())["error"]["fields"] == {"org_id": "所选组织机构不存在"}


async def test_username_is_unique_ignoring_case(client: TestClient, registration: Payload) -> None:
    await register(client, registration(username="Zhang_San"))
    response = await client.post("/api/v1/auth/register", json=registration(username="zhang_san"))
    assert response.status == 409
    assert (await response.json())["error"]["fields"] == {"username": "该用户名已被注册"}


async def test_one_account_per_identity_document(client: TestClient, registration: Payload) -> None:
    first = registration()
    await register(client, first)
    response = await client.post(
        "/api/v1/auth/register", json=registration(id_number=first["id_number"].lower())
    )
    assert response.status == 409
    assert "id_number" in (await response.json())["error"]["fields"]


async def test_two_simultaneous_registrations_of_one_username(
    client: TestClient, registration: Payload
) -> None:
    payloads = [registration(username="same_name"), registration(username="SAME_NAME")]
    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/register", json=payload) for payload in payloads)
    )
    assert sorted(response.status for response in responses) == [201, 409]


async def test_login_returns_a_token_and_sets_an_http_only_cookie(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    await register(client, payload)
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": payload["username"].upper(), "password": payload["password"]},
    )
    assert response.status == 200
    body = await response.json()
    assert body["user"]["username"] == payload["username"]
    cookie = response.cookies["jixu_session"]
    assert cookie.value == body["token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]
    me = await client.get("/api/v1/me")
    assert (await me.json())["user"]["username"] == payload["username"]


async def test_login_with_a_wrong_password_is_refused(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    await register(client, payload)
    response = await client.post(
        "/api/v1/auth/login", json={"username": payload["username"], "password": "Wrong2018x"}
    )
    assert response.status == 401
    assert (await response.json())["error"] == {
        "code": "bad_credentials",
        "message": "用户名或密码错误",
    }


async def test_every_login_gets_a_new_session_and_ends_the_one_it_replaces(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    await register(client, payload)
    first = await login(client, payload["username"], payload["password"])
    second = await login(client, payload["username"], payload["password"])
    assert first != second
    assert (await client.get("/api/v1/me", headers=bearer(first))).status == 401
    assert (await client.get("/api/v1/me", headers=bearer(second))).status == 200


async def test_bearer_token_authenticates_api_calls(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    await register(client, payload)
    token = await login(client, payload["username"], payload["password"])
    client.session.cookie_jar.clear()
    assert (await client.get("/api/v1/me")).status == 401
    response = await client.get("/api/v1/me", headers=bearer(token))
    assert response.status == 200
    assert (
        await client.get("/api/v1/me", headers=bearer("1.forged-token-forged-token"))
    ).status == 401


async def test_logout_ends_the_session(client: TestClient, registration: Payload) -> None:
    payload = registration()
    await register(client, payload)
    token = await login(client, payload["username"], payload["password"])
    response = await client.post("/api/v1/auth/logout", headers=origin_of(client))
    assert response.status == 200
    assert (await client.get("/api/v1/me")).status == 401
    assert (await client.get("/api/v1/me", headers=bearer(token))).status == 401


async def test_session_expires_after_idle_timeout(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    user = await register(client, payload)
    token = await login(client, payload["username"], payload["password"])
    redis = client.app[REDIS]
    [digest] = await redis.smembers(keys.sessions_index_key(user["id"]))
    key = keys.session_key(user["id"], digest)
    assert 0 < await redis.pttl(key) <= 30 * 60 * 1000
    # An absolute lifetime already spent ends the session even though it is in use.
    await redis.hset(key, "created_ms", 0)
    assert (await client.get("/api/v1/me", headers=bearer(token))).status == 401
    assert await redis.exists(key) == 0


async def test_changing_the_password_needs_the_old_one_and_ends_other_sessions(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    await register(client, payload)
    current = await login(client, payload["username"], payload["password"])
    # A second device: without the first one's cookie, its login leaves `current` alive.
    client.session.cookie_jar.clear()
    other = await login(client, payload["username"], payload["password"])
    change = {
        "old_password": "Wrong2018x",
        "new_password": "Fresh2019go",
        "confirm_password": "Fresh2019go",
    }
    refused = await client.post("/api/v1/me/password", json=change, headers=bearer(current))
    assert refused.status == 400
    assert (await refused.json())["error"]["fields"] == {"old_password": "旧密码不正确"}
    change["old_password"] = payload["password"]
    accepted = await client.post("/api/v1/me/password", json=change, headers=bearer(current))
    assert accepted.status == 200
    assert (await client.get("/api/v1/me", headers=bearer(current))).status == 200
    assert (await client.get("/api/v1/me", headers=bearer(other))).status == 401
    old = await client.post(
        "/api/v1/auth/login",
        json={"username": payload["username"], "password": payload["password"]},
        headers=origin_of(client),
    )
    assert old.status == 401
    await login(client, payload["username"], "Fresh2019go")


async def test_profile_update_keeps_username_and_document(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    user = await register(client, payload)
    token = await login(client, payload["username"], payload["password"])
    changes = {
        "org_id": payload["org_id"],
        "real_name": "李华华",
        "phone": "+86 139 1234 5678",
        "id_number": "110105194912310021",
        "username": "renamed",
        "education": "master",
        "political_status": "13",
    }
    response = await client.patch("/api/v1/me", json=changes, headers=bearer(token))
    assert response.status == 200, await response.text()
    updated = (await response.json())["user"]
    assert updated["real_name"] == "李华华"
    assert updated["phone"] == "13912345678"
    assert updated["education"] == "master"
    assert updated["username"] == user["username"]
    assert updated["id_number"] == user["id_number"]


async def test_reference_data(client: TestClient, org_id: int) -> None:
    orgs = (await (await client.get("/api/v1/orgs")).json())["orgs"]
    assert {"id": org_id, "name": "测试组织", "parent_id": None} in orgs
    options = await (await client.get("/api/v1/options")).json()
    assert len(options["ethnicity"]) == 56
    assert {"value": "id_card", "label": "身份证"} in options["id_type"]
