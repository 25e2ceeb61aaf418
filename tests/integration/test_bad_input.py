"""Hostile or malformed input gets a clear 4xx with a Chinese message, never a 500."""

import io
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import build_course, enrol, new_learner, origin_of
from tests.integration.test_shop_pages import log_in, post_form

Payload = Callable[..., dict[str, Any]]

NASTY_VALUES = [
    pytest.param("a\x00b", id="nul"),
    pytest.param("x" * 10_000, id="long"),
    pytest.param("😀😀😀😀", id="emoji"),
    pytest.param(["list"], id="list"),
    pytest.param({"nested": {"deep": 1}}, id="object"),
    pytest.param(12345, id="number"),
    pytest.param(2**80, id="huge-number"),
    pytest.param(None, id="null"),
    pytest.param(True, id="bool"),
    pytest.param("<script>alert(1)</script>", id="markup"),
]
FIELDS = ["username", "password", "org_id", "real_name", "phone", "id_type", "id_number",
          "birth_date", "gender", "ethnicity", "title_date", "education"]  # fmt: skip


@pytest.mark.parametrize("value", NASTY_VALUES)
async def test_register_api_never_fails_on_a_nasty_value(
    client: TestClient, registration: Payload, value: Any
) -> None:
    for field in FIELDS:
        response = await client.post("/api/v1/auth/register", json=registration(**{field: value}))
        assert response.status in (201, 400), (field, response.status, await response.text())
        if response.status == 400:
            error = (await response.json())["error"]
            assert error["message"]


@pytest.mark.parametrize("value", NASTY_VALUES)
async def test_login_api_never_fails_on_a_nasty_value(client: TestClient, value: Any) -> None:
    for body in (
        {"username": value, "password": "Study2018go"},
        {"username": "someone", "password": value},
    ):
        response = await client.post("/api/v1/auth/login", json=body)
        assert response.status in (400, 401), (body, response.status, await response.text())


async def test_register_form_with_nasty_text_is_refused_politely(client: TestClient) -> None:
    page = await client.get("/register")
    token = page.cookies["jixu_csrf"].value
    for value in ("a\x00b", "x" * 10_000, "<script>"):
        response = await client.post(
            "/register",
            data={"csrf_token": token, **{field: value for field in FIELDS}},
            headers=origin_of(client),
        )
        assert response.status == 400
        html = await response.text()
        assert "请根据提示修改填写的信息" in html
        assert "<script>" not in html.split("<body", 1)[1].replace('<script type="module"', "")


async def test_oversized_body_is_refused(client: TestClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        data=io.BytesIO(b"{" + b" " * (2 * 1024 * 1024) + b"}"),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert (await response.json())["error"]["message"] == "提交的内容过大"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"plan_id": "编号不正确"}),
        ({"plan_id": 1}, {"course_id": "编号不正确"}),
        ({"plan_id": "1", "course_id": 1}, {"plan_id": "编号不正确"}),
        ({"plan_id": 0, "course_id": 1}, {"plan_id": "编号不正确"}),
        ({"plan_id": 2**80, "course_id": 1}, {"plan_id": "编号不正确"}),
        ({"plan_id": 1, "course_id": True}, {"course_id": "编号不正确"}),
    ],
)
async def test_cart_api_names_the_bad_id(
    client: TestClient, registration: Payload, body: dict[str, Any], fields: dict[str, str]
) -> None:
    learner = await new_learner(client, registration)
    response = await client.post("/api/v1/cart/items", json=body, headers=learner.headers)
    assert response.status == 400
    assert (await response.json())["error"]["fields"] == fields


async def test_mistyped_json_fields_are_named(client: TestClient, registration: Payload) -> None:
    learner = await new_learner(client, registration)
    for path, body, field in (
        ("/api/v1/account/recharge", {"card_no": 1234}, "card_no"),
        ("/api/v1/me/password", {"old_password": ["x"]}, "old_password"),
        ("/api/v1/orders/1/pay", {"method": "bank", "bank": 7}, "bank"),
    ):
        response = await client.post(path, json=body, headers=learner.headers)
        assert response.status == 400, path
        assert (await response.json())["error"]["fields"] == {field: "格式不正确"}


@pytest.mark.parametrize("value", ["", "x", "٣", "1e3", "9" * 19])
async def test_ids_in_paths_and_queries(
    client: TestClient, registration: Payload, value: str
) -> None:
    learner = await new_learner(client, registration)
    if value:
        page = await client.get(f"/api/v1/orders/{value}", headers=learner.headers)
        assert (page.status, (await page.json())["error"]["message"]) == (404, "页面不存在")
    removed = await client.delete(f"/api/v1/cart/items/1?plan_id={value}", headers=learner.headers)
    assert removed.status == 400
    assert (await removed.json())["error"]["fields"] == {"plan_id": "请指定培训计划"}
    account = await client.get(f"/api/v1/account?before={value}", headers=learner.headers)
    assert account.status == (200 if value == "" else 400)


async def test_a_repeated_query_parameter_is_refused(
    client: TestClient, registration: Payload
) -> None:
    """Found by schemathesis: `?q=a&q=b` was read as `a`, while a proxy or cache may read `b`."""
    learner = await new_learner(client, registration)
    for path, field in (
        ("/api/v1/orders?q=a&q=b", "q"),
        ("/api/v1/orders?from=2018-01-01&from=2018-02-01", "from"),
        ("/api/v1/account?limit=5&limit=6", "limit"),
        ("/api/v1/cart/items/1?plan_id=1&plan_id=2", "plan_id"),
    ):
        method = client.delete if "cart" in path else client.get
        response = await method(path, headers=learner.headers)
        assert response.status == 400, path
        assert (await response.json())["error"]["fields"] == {field: "只能指定一次"}
    once = await client.get("/api/v1/orders?q=a", headers=learner.headers)
    assert once.status == 200


async def test_a_search_with_a_nul_character_finds_nothing(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    """Found by schemathesis: `?q=%00` reached PostgreSQL, which refuses NUL in text: a 500."""
    learner = await new_learner(client, registration)
    course = await build_course(database_url)
    await enrol(database_url, learner.id, course)
    for path, key in (
        ("/api/v1/orders?q=a%00b", "orders"),
        (f"/api/v1/plans/{course.plan_id}/courses?q=%00", "courses"),
    ):
        response = await client.get(path, headers=learner.headers)
        assert response.status == 200, path
        assert (await response.json())[key] == []
    page = await client.get("/orders?q=%00", headers=learner.headers)
    assert page.status == 200


async def test_a_form_with_a_bad_id_is_refused(client: TestClient, registration: Payload) -> None:
    await log_in(client, registration)
    response = await post_form(client, "/cart/items", {"plan_id": "1", "course_id": "x"})
    assert response.status == 400
    assert "请检查填写的信息" in await response.text()
