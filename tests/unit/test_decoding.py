"""web/decoding.py: bodies, forms and ids decoded at the edge, one error shape for all."""

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from engine.errors import InvalidInput
from web.bodies import CartItemBody, Credentials, PaymentChoice, RegistrationBody
from web.decoding import NOT_AN_OBJECT, parse_id, read_form, read_json

BODIES: dict[str, type[Any]] = {
    "cart": CartItemBody,
    "credentials": Credentials,
    "payment": PaymentChoice,
    "registration": RegistrationBody,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("007", 7),
        ("9" * 18, 10**18 - 1),
        ("9" * 19, None),
        ("0", None),
        ("000", None),
        ("", None),
        (None, None),
        ("-1", None),
        ("+1", None),
        ("1e3", None),
        ("5.0", None),
        (" 5", None),
        ("٣", None),  # Arabic-Indic three: str.isdigit() says yes, an id says no
        ("²", None),
    ],
)
def test_parse_id(text: str | None, expected: int | None) -> None:
    assert parse_id(text) == expected


async def decode(request: web.Request) -> web.Response:
    """Decodes the body as `/{json|form}/{body}` says, answering the struct or the error."""
    read = read_json if request.match_info["how"] == "json" else read_form
    try:
        body = await read(request, BODIES[request.match_info["body"]])
    except InvalidInput as exc:
        return web.json_response({"fields": exc.fields, "message": exc.message}, status=400)
    return web.json_response(msgspec.to_builtins(body))


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    app = web.Application()
    app.router.add_post("/{how}/{body}", decode)
    async with TestClient(TestServer(app)) as client:
        yield client


async def answer(client: TestClient, path: str, **kwargs: Any) -> tuple[int, Any]:
    response = await client.post(path, **kwargs)
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"plan_id": 3, "course_id": 4}, {"plan_id": 3, "course_id": 4}),
        ({"plan_id": 3}, {"course_id": "编号不正确"}),
        ({"plan_id": 0, "course_id": 4}, {"plan_id": "编号不正确"}),
        ({"plan_id": True, "course_id": 4}, {"plan_id": "编号不正确"}),
        ({"plan_id": 2.0, "course_id": 4}, {"plan_id": "编号不正确"}),
        ({"plan_id": None, "course_id": 4}, {"plan_id": "编号不正确"}),
        ({"plan_id": 2**63, "course_id": 4}, {"plan_id": "编号不正确"}),
        ({"plan_id": 3, "course_id": [4]}, {"course_id": "编号不正确"}),
    ],
)
async def test_json_ids(client: TestClient, body: Any, expected: dict[str, Any]) -> None:
    status, answered = await answer(client, "/json/cart", json=body)
    if status == 200:
        assert answered == expected
    else:
        assert (status, answered["fields"]) == (400, expected)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"username": 12345, "password": "x"}, {"username": "格式不正确"}),
        ({"username": "someone", "password": None}, {"password": "格式不正确"}),
        ({"username": "someone", "password": ["x"]}, {"password": "格式不正确"}),
    ],
)
async def test_json_mistyped_text(client: TestClient, body: Any, fields: dict[str, str]) -> None:
    status, answered = await answer(client, "/json/credentials", json=body)
    assert (status, answered["fields"]) == (400, fields)


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b"", b"null"])
async def test_json_that_is_not_an_object(client: TestClient, raw: bytes) -> None:
    status, answered = await answer(client, "/json/credentials", data=raw)
    assert (status, answered) == (400, {"fields": {}, "message": NOT_AN_OBJECT})


async def test_json_absent_optional_fields_take_their_defaults(client: TestClient) -> None:
    status, answered = await answer(client, "/json/payment", json={"method": "bank", "x": 1})
    assert (status, answered) == (200, {"method": "bank", "bank": None})


async def test_form_text_becomes_typed_and_empty_fields_are_absent(client: TestClient) -> None:
    form = {"org_id": "12", "real_name": "张三", "phone": "", "csrf_token": "t"}
    status, answered = await answer(client, "/form/registration", data=form)
    assert status == 200
    assert (answered["org_id"], answered["real_name"], answered["phone"]) == (12, "张三", None)


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        ({"plan_id": "3"}, {"course_id": "编号不正确"}),
        ({"plan_id": "3", "course_id": ""}, {"course_id": "编号不正确"}),
        ({"plan_id": "x", "course_id": "4"}, {"plan_id": "编号不正确"}),
        ({"plan_id": "1e3", "course_id": "4"}, {"plan_id": "编号不正确"}),
    ],
)
async def test_form_ids(client: TestClient, form: dict[str, str], fields: dict[str, str]) -> None:
    status, answered = await answer(client, "/form/cart", data=form)
    assert (status, answered["fields"]) == (400, fields)


async def test_form_registration_with_a_bad_organisation(client: TestClient) -> None:
    status, answered = await answer(client, "/form/registration", data={"org_id": "abc"})
    assert (status, answered["fields"]) == (400, {"org_id": "编号不正确"})
