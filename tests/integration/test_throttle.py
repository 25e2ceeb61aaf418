"""Throttles under load and behind a proxy: attempts reserved before hashing, per-address
counts from the trusted proxy's X-Forwarded-For, no lockout of the owner, bounded keys."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest
import structlog
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.commerce import cards
from engine.kv import create_redis
from engine.settings import Settings
from tests.conftest import new_learner
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]
WRONG = "Wrong2018x"


@pytest.fixture
async def proxied(settings: Settings, aiohttp_client: Any) -> AsyncIterator[TestClient]:
    """The portal behind a reverse proxy at 127.0.0.1 (the test client's address)."""
    trusted = msgspec.structs.replace(
        settings, trusted_proxies=("127.0.0.1",), login_max_failures_per_account=8
    )
    portal = await aiohttp_client(create_portal(trusted))
    yield portal
    await portal.close()


def via(address: str) -> dict[str, str]:
    """The header the proxy adds: what the client claimed, then the address it saw."""
    return {"X-Forwarded-For": f"198.51.100.99, {address}"}


async def log_in(
    client: TestClient, username: str, password: str, headers: dict[str, str] | None = None
) -> int:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, headers=headers
    )
    await response.read()
    return response.status


async def test_parallel_wrong_passwords_pass_the_limit_only_limit_times(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    assert (await client.post("/api/v1/auth/register", json=payload)).status == 201
    statuses = await asyncio.gather(
        *(log_in(client, payload["username"], WRONG) for _ in range(200))
    )
    assert Counter(statuses) == {401: 5, 429: 195}


async def test_parallel_card_guesses_pass_the_limit_only_limit_times(
    client: TestClient, registration: Payload
) -> None:
    learner = await new_learner(client, registration)
    [(card_no, _)] = await cards.generate(client.app[DB], 1, 3000, "test")

    async def guess() -> int:
        response = await client.post(
            "/api/v1/account/recharge",
            json={"card_no": card_no, "card_password": "ABCDEFGHJK"},
            headers=learner.headers,
        )
        await response.read()
        return response.status

    statuses = await asyncio.gather(*(guess() for _ in range(200)))
    assert Counter(statuses) == {422: 5, 429: 195}


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(client: TestClient) -> None:
    for number in range(30):
        assert await log_in(client, f"user_{number:02}", WRONG, via(f"203.0.113.{number}")) == 401
    # All 30 came from the test client's own address, whatever the header claimed.
    assert await log_in(client, "user_30", WRONG, via("203.0.113.30")) == 429


async def test_forwarded_for_is_honoured_from_a_trusted_proxy(proxied: TestClient) -> None:
    for number in range(30):
        assert await log_in(proxied, f"user_{number:02}", WRONG, via("203.0.113.1")) == 401
    assert await log_in(proxied, "user_30", WRONG, via("203.0.113.1")) == 429
    assert await log_in(proxied, "user_30", WRONG, via("203.0.113.2")) == 401


async def test_an_attacker_elsewhere_does_not_lock_the_owner_out(
    proxied: TestClient, registration: Payload
) -> None:
    payload = registration()
    assert (await proxied.post("/api/v1/auth/register", json=payload)).status == 201
    username = payload["username"]
    for _ in range(5):
        assert await log_in(proxied, username, WRONG, via("203.0.113.1")) == 401
    assert await log_in(proxied, username, WRONG, via("203.0.113.1")) == 429
    assert await log_in(proxied, username, payload["password"], via("192.0.2.7")) == 200
    proxied.session.cookie_jar.clear()
    # Guesses spread over addresses meet the account's own, higher ceiling (8 here).
    statuses = [await log_in(proxied, username, WRONG, via(f"203.0.113.{n}")) for n in range(2, 12)]
    assert statuses == [401] * 8 + [429] * 2
    assert await log_in(proxied, username, payload["password"], via("192.0.2.7")) == 429


async def test_registration_is_throttled_per_address(
    settings: Settings, aiohttp_client: Any, registration: Payload
) -> None:
    limited = msgspec.structs.replace(settings, registration_max_per_address=3)
    client = await aiohttp_client(create_portal(limited))
    taken = registration()
    assert (await client.post("/api/v1/auth/register", json=taken)).status == 201
    again = registration(id_number=taken["id_number"])
    response = await client.post("/api/v1/auth/register", json=again)
    assert response.status == 409
    assert (await client.post("/api/v1/auth/register", json=registration())).status == 201
    response = await client.post("/api/v1/auth/register", json=registration())
    assert response.status == 429
    assert (await response.json())["error"]["message"].startswith("注册过于频繁")
    await client.close()


async def test_wrong_old_passwords_are_throttled_per_user(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    assert (await client.post("/api/v1/auth/register", json=payload)).status == 201
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": payload["username"], "password": payload["password"]},
    )
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    client.session.cookie_jar.clear()

    async def change(old: str) -> Any:
        change = {
            "old_password": old,
            "new_password": "Fresh2019go",
            "confirm_password": "Fresh2019go",
        }
        return await client.post("/api/v1/me/password", json=change, headers=headers)

    for _ in range(5):
        assert (await change(WRONG)).status == 400
    response = await change(payload["password"])
    assert response.status == 429
    assert (await response.json())["error"]["message"].startswith("旧密码错误次数过多")


async def test_a_huge_username_makes_no_huge_key_or_log_field(
    client: TestClient, redis_url: str
) -> None:
    username = "x" * 100_000
    with structlog.testing.capture_logs() as logs:
        assert await log_in(client, username, WRONG) == 401
    redis = create_redis(redis_url)
    try:
        names = [key async for key in redis.scan_iter()]
    finally:
        await redis.aclose()
    assert names
    assert max(len(name) for name in names) < 100
    [failed] = [entry for entry in logs if entry["event"] == "login failed"]
    assert len(str(failed)) < 300
