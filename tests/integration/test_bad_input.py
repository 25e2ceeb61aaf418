"""Hostile or malformed input gets a clear 4xx with a Chinese message, never a 500."""

import io
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import origin_of

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
