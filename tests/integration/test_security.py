"""CSRF refusal, login throttling, security headers."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from engine.settings import load_settings
from tests.conftest import origin_of
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]


async def csrf_token(client: TestClient, path: str = "/login") -> str:
    page = await client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert match is not None
    return match.group(1)


async def test_form_without_the_csrf_token_is_refused(client: TestClient) -> None:
    await csrf_token(client)
    response = await client.post("/login", data={"username": "someone", "password": "x"})
    assert response.status == 403
    assert "页面已过期，请刷新后重试" in await response.text()


async def test_form_with_a_foreign_origin_is_refused(client: TestClient) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        data={"csrf_token": token, "username": "someone", "password": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status == 403


async def test_cookie_api_call_needs_a_matching_origin(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    assert (await client.post("/api/v1/auth/register", json=payload)).status == 201
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": payload["username"], "password": payload["password"]},
    )
    assert login.status == 200
    profile = {"org_id": payload["org_id"], "real_name": "王五", "phone": "13700000000"}
    for headers in ({}, {"Origin": "https://evil.example"}):
        response = await client.patch("/api/v1/me", json=profile, headers=headers)
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "csrf"
    response = await client.patch("/api/v1/me", json=profile, headers=origin_of(client))
    assert response.status == 200
    # A bearer call carries no ambient authority: no Origin needed.
    token = (await login.json())["token"]
    client.session.cookie_jar.clear()
    response = await client.patch(
        "/api/v1/me", json=profile, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 200


async def test_allowed_origins_setting_admits_a_listed_origin(
    aiohttp_client: Any, database_url: str, redis_url: str, registration: Payload
) -> None:
    settings = load_settings(
        {},
        database_url=database_url,
        redis_url=redis_url,
        allowed_origins=("https://portal.example",),
    )
    client = await aiohttp_client(create_portal(settings))
    response = await client.post(
        "/api/v1/auth/register",
        json=registration(),
        headers={"Origin": "https://portal.example"},
    )
    assert response.status == 201
    await client.close()


async def test_failed_logins_are_throttled_per_account(
    client: TestClient, registration: Payload
) -> None:
    payload = registration()
    await client.post("/api/v1/auth/register", json=payload)
    attempt = {"username": payload["username"], "password": "Wrong2018x"}
    for _ in range(5):
        assert (await client.post("/api/v1/auth/login", json=attempt)).status == 401
    attempt["password"] = payload["password"]
    response = await client.post("/api/v1/auth/login", json=attempt)
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert (await response.json())["error"]["message"].startswith("登录失败次数过多")


async def test_failed_logins_are_throttled_per_address(
    aiohttp_client: Any, database_url: str, redis_url: str
) -> None:
    settings = load_settings(
        {}, database_url=database_url, redis_url=redis_url, login_max_failures_per_address=3
    )
    client = await aiohttp_client(create_portal(settings))
    for name in ("user_one", "user_two", "user_three"):
        response = await client.post(
            "/api/v1/auth/login", json={"username": name, "password": "Wrong2018x"}
        )
        assert response.status == 401
    response = await client.post(
        "/api/v1/auth/login", json={"username": "user_four", "password": "Wrong2018x"}
    )
    assert response.status == 429
    await client.close()


async def test_throttle_survives_a_restart(
    aiohttp_client: Any, database_url: str, redis_url: str
) -> None:
    settings = load_settings({}, database_url=database_url, redis_url=redis_url)
    attempt = {"username": "someone", "password": "Wrong2018x"}
    first = await aiohttp_client(create_portal(settings))
    for _ in range(5):
        await first.post("/api/v1/auth/login", json=attempt)
    await first.close()
    second = await aiohttp_client(create_portal(settings))
    assert (await second.post("/api/v1/auth/login", json=attempt)).status == 429
    await second.close()


async def test_login_page_shows_the_throttle_message(client: TestClient) -> None:
    token = await csrf_token(client)
    form = {"csrf_token": token, "username": "someone", "password": "Wrong2018x"}
    for _ in range(5):
        assert (await client.post("/login", data=form)).status == 401
    response = await client.post("/login", data=form)
    assert response.status == 429
    assert "Retry-After" in response.headers
    assert "登录失败次数过多" in await response.text()


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/api/v1/options", "/nowhere"])
async def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    response = await client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


async def test_pages_carry_no_inline_script(client: TestClient) -> None:
    for path in ("/", "/login", "/register"):
        html = await (await client.get(path)).text()
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, f"inline script on {path}"
        assert re.search(r"\son[a-z]+=", html) is None, f"inline event handler on {path}"


async def test_unknown_path_is_a_chinese_404(client: TestClient) -> None:
    page = await client.get("/nowhere")
    assert page.status == 404
    assert "页面不存在" in await page.text()
    api = await client.get("/api/v1/nowhere")
    assert api.status == 404
    assert (await api.json())["error"]["message"] == "页面不存在"


OFFSITE_NEXT = ["/%09/evil.example", "/%5C/evil.example", "//evil.example", "https://evil.example"]


async def register_learner(client: TestClient, registration: Payload) -> dict[str, Any]:
    payload = registration()
    assert (await client.post("/api/v1/auth/register", json=payload)).status == 201
    return payload


@pytest.mark.parametrize("offsite", OFFSITE_NEXT)
async def test_login_never_sends_the_learner_off_site(
    client: TestClient, registration: Payload, offsite: str
) -> None:
    payload = await register_learner(client, registration)
    page = await client.get(f"/login?next={offsite}")
    html = await page.text()
    match = re.search(r'name="next" value="([^"]*)"', html)
    form = {
        "csrf_token": await csrf_token(client),
        "next": match.group(1) if match else "",
        "username": payload["username"],
        "password": payload["password"],
    }
    response = await client.post("/login", data=form, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/")
    # Already logged in, the login page sends the learner on at once.
    again = await client.get(f"/login?next={offsite}", allow_redirects=False)
    assert (again.status, again.headers["Location"]) == (302, "/")


async def test_login_follows_a_path_on_this_site(client: TestClient, registration: Payload) -> None:
    payload = await register_learner(client, registration)
    form = {
        "csrf_token": await csrf_token(client),
        "next": "/plans?year=2018",
        "username": payload["username"],
        "password": payload["password"],
    }
    response = await client.post("/login", data=form, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/plans?year=2018")


async def test_csrf_token_from_before_login_is_refused_after_it(
    client: TestClient, registration: Payload
) -> None:
    payload = await register_learner(client, registration)
    planted = await csrf_token(client)
    login = {"csrf_token": planted, **{k: payload[k] for k in ("username", "password")}}
    assert (await client.post("/login", data=login, allow_redirects=False)).status == 302
    profile = {"org_id": payload["org_id"], "real_name": "王五", "phone": "13700000000"}
    stale = await client.post("/settings/profile", data={"csrf_token": planted, **profile})
    assert stale.status == 403
    assert "页面已过期，请刷新后重试" in await stale.text()
    fresh = await csrf_token(client, "/settings/profile")
    assert fresh != planted
    saved = await client.post("/settings/profile", data={"csrf_token": fresh, **profile})
    assert saved.status == 200
    # Logging out ends the session's token too; the next anonymous form gets a new one.
    assert (await client.post("/logout", data={"csrf_token": fresh})).status == 200
    anonymous = await csrf_token(client)
    assert anonymous not in (planted, fresh)
    retry = await client.post("/login", data={**login, "csrf_token": fresh})
    assert retry.status == 403


async def test_csrf_token_is_bound_to_the_session_not_the_cookie(
    client: TestClient, registration: Payload
) -> None:
    payload = await register_learner(client, registration)
    login = {"csrf_token": await csrf_token(client), "username": payload["username"]}
    login["password"] = payload["password"]
    assert (await client.post("/login", data=login, allow_redirects=False)).status == 302
    # A cookie tossed in by a sibling site, echoed in the form, does not pass for a session.
    client.session.cookie_jar.update_cookies({"jixu_csrf": "tossed"}, client.make_url("/"))
    profile = {"org_id": payload["org_id"], "real_name": "王五", "phone": "13700000000"}
    forged = await client.post("/settings/profile", data={"csrf_token": "tossed", **profile})
    assert forged.status == 403


async def test_no_hsts_without_secure_cookies(client: TestClient) -> None:
    assert "Strict-Transport-Security" not in (await client.get("/login")).headers


async def test_hsts_when_cookies_are_secure(
    aiohttp_client: Any, database_url: str, redis_url: str
) -> None:
    settings = load_settings(
        {}, database_url=database_url, redis_url=redis_url, secure_cookies=True
    )
    client = await aiohttp_client(create_portal(settings))
    for path in ("/login", "/api/v1/options", "/nowhere", "/static/css/site.css"):
        response = await client.get(path)
        hsts = response.headers["Strict-Transport-Security"]
        assert hsts == "max-age=31536000; includeSubDomains", path
    await client.close()


async def test_pages_and_api_answers_are_never_stored(
    client: TestClient, registration: Payload
) -> None:
    payload = await register_learner(client, registration)
    login = {"username": payload["username"], "password": payload["password"]}
    assert (await client.post("/api/v1/auth/login", json=login)).status == 200
    for path in ("/settings/profile", "/account", "/api/v1/me", "/login", "/nowhere"):
        response = await client.get(path, allow_redirects=False)
        assert response.headers["Cache-Control"] == "no-store", path
    static = await client.get("/static/css/site.css")
    assert static.status == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")


async def test_metrics_only_for_allowed_addresses(
    aiohttp_client: Any, client: TestClient, database_url: str, redis_url: str
) -> None:
    # The test client connects from loopback, which the default allows.
    assert (await client.get("/metrics")).status == 200
    settings = load_settings(
        {}, database_url=database_url, redis_url=redis_url, metrics_allowed=("10.0.0.0/8",)
    )
    elsewhere = await aiohttp_client(create_portal(settings))
    response = await elsewhere.get("/metrics")
    assert response.status == 404
    assert "页面不存在" in await response.text()
    await elsewhere.close()
