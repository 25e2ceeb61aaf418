"""Hypothesis fuzz of the forms that take strangers' input: 注册, 充值 with a study card, and
the gateways' notifications (and the sandbox 收银台's confirmation). No 5xx; people get a
clear Chinese message; nothing is stored from a refused input."""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec
from aiohttp.test_utils import TestClient
from hypothesis import strategies as st

from engine.appkeys import DB, REDIS
from engine.commerce import cards
from engine.settings import Settings
from tests.conftest import Clock, build_course, id_card_number, origin_of, unpaid_order
from tests.integration.fuzzing import form_text, fuzz, stored
from web.app import create_portal
from web.bodies import RegistrationBody

EXAMPLES = 100
CHINESE = re.compile(r"[\u4e00-\u9fff]")
MESSAGES = re.compile(r'<(?:p class="(?:field-error|form-error)"[^>]*|h1)>([^<]+)<')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
REGISTRATION_FIELDS = [field.name for field in msgspec.structs.fields(RegistrationBody)]


def messages(page: str) -> list[str]:
    """The messages a refused form shows: the form's, each field's, or the error page's."""
    return [text.strip() for text in MESSAGES.findall(page)]


def assert_told_in_chinese(status: int, page: str) -> None:
    assert status < 500, page
    shown = messages(page)
    assert shown, page
    assert all(CHINESE.search(text) for text in shown), shown
    # A form that says "see the hints" must show at least one hint.
    if "请根据提示修改填写的信息" in shown:
        assert len(shown) > 1, page


async def csrf_token(session: aiohttp.ClientSession | TestClient, url: Any) -> str:
    page = await session.get(url)
    found = CSRF_FIELD.search(await page.text())
    assert found is not None
    return found[1]


async def portal(aiohttp_client: Any, settings: Settings, clock: Clock) -> TestClient:
    """The portal with its throttles out of the way: they would refuse most examples with 429."""
    open_doors = msgspec.structs.replace(
        settings,
        registration_max_per_address=1_000_000,
        card_max_failures_per_account=1_000_000,
        card_max_failures_per_address=1_000_000,
    )
    client: TestClient = await aiohttp_client(create_portal(open_doors, clock=clock))
    return client


async def test_registration_form(
    aiohttp_client: Any,
    settings: Settings,
    clock: Clock,
    registration: Callable[..., dict[str, Any]],
) -> None:
    client = await portal(aiohttp_client, settings, clock)
    pool, redis = client.app[DB], client.app[REDIS]
    outcomes: dict[int, int] = {}
    # A jar that keeps cookies of an IP address (127.0.0.1): the anonymous CSRF cookie.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        token = await csrf_token(browser, client.make_url("/register"))

        async def check(changes: dict[str, str | None]) -> None:
            form = {
                key: str(value) for key, value in registration(id_number=id_card_number()).items()
            }
            for field, value in changes.items():
                if value is None:
                    form.pop(field, None)
                else:
                    form[field] = value
            before = await stored(pool, redis)
            response = await browser.post(
                client.make_url("/register"),
                data=form | {"csrf_token": token},
                allow_redirects=False,
            )
            outcomes[response.status] = outcomes.get(response.status, 0) + 1
            if response.status == 302:
                assert response.headers["Location"].startswith("/register/done")
                return
            assert_told_in_chinese(response.status, await response.text())
            assert await stored(pool, redis) == before

        changes = st.dictionaries(
            st.sampled_from([*REGISTRATION_FIELDS, "unknown"]),
            form_text | st.none(),
            min_size=1,
            max_size=5,
        )
        ran = await fuzz(changes, check, examples=EXAMPLES)
    print(f"registration fuzz: {ran} forms; statuses {outcomes}")
    assert sum(outcomes.values()) == ran


async def test_recharge_form(
    aiohttp_client: Any,
    settings: Settings,
    clock: Clock,
    registration: Callable[..., dict[str, Any]],
) -> None:
    client = await portal(aiohttp_client, settings, clock)
    pool, redis = client.app[DB], client.app[REDIS]
    payload = registration()
    assert (await client.post("/api/v1/auth/register", json=payload)).status == 201
    credentials = {"username": payload["username"], "password": payload["password"]}
    login = await client.post("/api/v1/auth/login", json=credentials, headers=origin_of(client))
    assert login.status == 200
    token = await csrf_token(client, "/account")
    issued = await cards.generate(pool, 2, 5000, "fuzz")
    used_no, used_password = issued[0]
    redeemed = await client.post(
        "/account/recharge",
        data={"card_no": used_no, "card_password": used_password, "csrf_token": token},
        allow_redirects=False,
    )
    assert redeemed.status == 302
    outcomes: dict[int, int] = {}

    async def check(form: dict[str, str]) -> None:
        before = await stored(pool, redis)
        response = await client.post(
            "/account/recharge", data=form | {"csrf_token": token}, allow_redirects=False
        )
        outcomes[response.status] = outcomes.get(response.status, 0) + 1
        assert response.status != 302, form  # no card's password is guessed here
        assert_told_in_chinese(response.status, await response.text())
        assert await stored(pool, redis) == before

    numbers = form_text | st.sampled_from([number for number, _ in issued] + ["", " " * 20])
    passwords = form_text | st.just(used_password)
    forms = st.fixed_dictionaries({}, optional={"card_no": numbers, "card_password": passwords})
    ran = await fuzz(forms, check, examples=EXAMPLES)
    print(f"recharge fuzz: {ran} forms; statuses {outcomes}")
    assert sum(outcomes.values()) == ran


async def test_gateway_notifications_and_the_sandbox_confirmation(
    aiohttp_client: Any,
    settings: Settings,
    clock: Clock,
    registration: Callable[..., dict[str, Any]],
) -> None:
    client = await portal(aiohttp_client, settings, clock)
    pool, redis = client.app[DB], client.app[REDIS]
    payload = registration()
    registered = await client.post("/api/v1/auth/register", json=payload)
    learner_id = (await registered.json())["user"]["id"]
    order = await unpaid_order(
        settings.database_url, learner_id, await build_course(settings.database_url)
    )
    real = {
        "out_trade_no": order.out_trade_no,
        "total_amount": f"{order.amount_fen / 100:.2f}",
        "trade_no": "2018050122001",
        "trade_status": "TRADE_SUCCESS",
        "app_id": "sandbox",
        "sign_type": "RSA2",
    }
    token = await csrf_token(client, "/login")
    outcomes: dict[str, int] = {}

    async def check(sent: tuple[str, str, dict[str, str] | bytes]) -> None:
        target, provider, body = sent
        before = await stored(pool, redis)
        if target == "notify":
            path = f"/api/v1/payments/{quote(provider, safe='')}/notify"
            response = await client.post(path, data=body)
            text = await response.text()
            assert (response.status, text) == (400, "failure"), (sent, text)
        else:
            form = body | {"csrf_token": token} if isinstance(body, dict) else body
            response = await client.post("/sandbox/gateway", data=form, allow_redirects=False)
            assert_told_in_chinese(response.status, await response.text())
        key = f"{target} {response.status}"
        outcomes[key] = outcomes.get(key, 0) + 1
        assert await stored(pool, redis) == before

    params = st.dictionaries(st.sampled_from([*real, "sign", "bank", "x"]), form_text, max_size=8)
    forged = st.builds(
        lambda changes, sign: real | changes | {"sign": sign},
        st.dictionaries(st.sampled_from(list(real)), form_text, max_size=2),
        form_text,
    )
    raw = st.binary(max_size=200)
    sent = st.tuples(
        st.sampled_from(["notify", "notify", "notify", "sandbox"]),
        # Any provider the route can name (aiohttp's {provider} takes no "/", "{" or "}").
        st.sampled_from(["alipay", "bank"])
        | st.text(min_size=1, max_size=12).filter(
            lambda text: not set(text) & set("/{}") and text not in {".", ".."}
        ),
        params | forged | raw,
    )
    ran = await fuzz(sent, check, examples=EXAMPLES)
    print(f"notify fuzz: {ran} posts; outcomes {outcomes}")
    assert sum(outcomes.values()) == ran
