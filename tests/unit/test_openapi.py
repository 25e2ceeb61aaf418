"""The OpenAPI document: generated from the route table, covering every /api/v1 route."""

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from aiohttp import web

from web.bodies import RegistrationBody
from web.openapi import OPENAPI_DOCUMENT
from web.routes import API, setup_routes


@pytest.fixture(scope="module")
def router_and_document() -> tuple[web.UrlDispatcher, dict[str, Any]]:
    app = web.Application()
    setup_routes(app)
    return app.router, msgspec.json.decode(app[OPENAPI_DOCUMENT])


def test_every_api_route_of_the_router_is_documented(
    router_and_document: tuple[web.UrlDispatcher, dict[str, Any]],
) -> None:
    router, document = router_and_document
    routed = {
        (route.method.lower(), route.resource.canonical)
        for route in router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"  # aiohttp adds HEAD beside each GET
    }
    documented = {
        (method, path) for path, methods in document["paths"].items() for method in methods
    }
    assert routed == documented
    assert len(documented) == len(API)
    assert all(path.startswith("/api/v1/") for _, path in documented)


def test_schemas_come_from_the_structs(
    router_and_document: tuple[web.UrlDispatcher, dict[str, Any]],
) -> None:
    _, document = router_and_document
    assert document["openapi"] == "3.1.0"
    register = document["paths"]["/api/v1/auth/register"]["post"]
    body = register["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/RegistrationBody"}
    properties = document["components"]["schemas"]["RegistrationBody"]["properties"]
    assert set(properties) == {field.name for field in msgspec.structs.fields(RegistrationBody)}
    # Ids are what parse_id and the Id type accept: positive, at most 18 digits.
    assert properties["org_id"]["anyOf"][0] == {
        "type": "integer",
        "minimum": 1,
        "exclusiveMaximum": 10**18,
    }


def test_every_reference_resolves(
    router_and_document: tuple[web.UrlDispatcher, dict[str, Any]],
) -> None:
    _, document = router_and_document
    for reference in _references(document):
        section, name = re.fullmatch(r"#/components/(\w+)/(.+)", reference).groups()  # type: ignore[union-attr]
        assert name in document["components"][section], reference


def test_errors_auth_and_parameters(
    router_and_document: tuple[web.UrlDispatcher, dict[str, Any]],
) -> None:
    _, document = router_and_document
    paths = document["paths"]
    error = document["components"]["responses"]["error401"]["content"]["application/json"]
    assert error["schema"] == {"$ref": "#/components/schemas/ErrorReply"}
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message"}
    assert set(document["components"]["securitySchemes"]) == {"bearer", "cookie"}
    assert document["components"]["securitySchemes"]["cookie"]["name"] == "jixu_session"

    me = paths["/api/v1/me"]["get"]
    assert me["security"] == [{"bearer": []}, {"cookie": []}]
    assert set(me["responses"]) == {"200", "401", "503"}
    assert paths["/api/v1/auth/login"]["post"]["security"] == []

    pay = paths["/api/v1/orders/{order_id}/pay"]["post"]
    assert [(p["name"], p["in"], p["required"]) for p in pay["parameters"]] == [
        ("order_id", "path", True)
    ]
    assert {"400", "401", "403", "404", "409", "413", "422", "503"} <= set(pay["responses"])
    orders = paths["/api/v1/orders"]["get"]
    assert [p["name"] for p in orders["parameters"]] == ["status", "q", "from", "to"]
    assert orders["parameters"][2]["schema"] == {
        "anyOf": [{"type": "string", "format": "date"}, {"const": ""}]
    }
    notify = paths["/api/v1/payments/{provider}/notify"]["post"]
    assert "application/x-www-form-urlencoded" in notify["requestBody"]["content"]
    assert notify["responses"]["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)
