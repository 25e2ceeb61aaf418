"""Schemathesis against a live portal: every operation of /api/v1/openapi.json, fuzzed from
the document itself as an authenticated learner: no 5xx, and every answer as documented
(status, content type, headers, body)."""

import asyncio
from collections.abc import Callable
from typing import Any

import hypothesis
import msgspec
import pytest
import requests
import schemathesis
from aiohttp import ClientSession
from aiohttp.test_utils import unused_port
from hypothesis import HealthCheck, Phase
from schemathesis import Case, GenerationMode, checks
from schemathesis.specs.openapi import checks as openapi_checks

from engine.settings import Settings
from tests.conftest import build_course, enrol, unpaid_order
from tests.integration.fuzzing import DERANDOMIZE
from web.app import create_portal
from web.routes import API

# Per operation, generated cases and cases with ids that exist (so successes are checked
# too): 479 requests over 33 operations, ~20-40 s on a 2-core host (argon2 behind login and
# register).
GENERATED_EXAMPLES = 8
KNOWN_EXAMPLES = 3
DOCUMENT = "/api/v1/openapi.json"
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.negative_data_rejection,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


class Run:
    """What the fuzz sent, per operation, and how the live learner authenticates."""

    def __init__(self, base_url: str, credentials: dict[str, str]) -> None:
        self.base_url = base_url
        self.credentials = credentials
        self.session = requests.Session()
        self.token = self.log_in()
        self.sent: dict[str, int] = {}
        self.statuses: dict[int, int] = {}

    def headers(self, case: Case) -> dict[str, str]:
        """The learner's bearer token; logging out ends a login of its own."""
        token = self.token
        if case.operation.path == "/api/v1/auth/logout":
            token = self.log_in()
        return {"Authorization": f"Bearer {token}"}

    def log_in(self) -> str:
        response = requests.post(
            f"{self.base_url}/api/v1/auth/login", json=self.credentials, timeout=10
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def call(self, case: Case) -> None:
        response = case.call_and_validate(
            base_url=self.base_url,
            session=self.session,
            headers=self.headers(case),
            checks=CHECKS,
            timeout=10,
        )
        self.session.cookies.clear()  # the learner authenticates by bearer token only
        label = case.operation.label
        self.sent[label] = self.sent.get(label, 0) + 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1


def fuzz(base_url: str, credentials: dict[str, str], known: dict[str, Any]) -> Run:
    """Every operation of the served document, generated and with known ids, in turn."""
    run = Run(base_url, credentials)
    schema = schemathesis.openapi.from_url(base_url + DOCUMENT)
    for result in schema.get_all_operations():
        operation = result.ok()
        # Negative cases need something to break: a path, a query or a body.
        inputs = len(operation.path_parameters) + len(operation.query) + len(operation.body)
        modes = list(GenerationMode) if inputs else [GenerationMode.POSITIVE]
        strategies = [(operation.as_strategy(mode), GENERATED_EXAMPLES) for mode in modes]
        if names := {parameter.name for parameter in operation.path_parameters}:
            fixed = {name: known[name] for name in names}
            strategies.append((operation.as_strategy(path_parameters=fixed), KNOWN_EXAMPLES))
        for strategy, examples in strategies:
            hypothesis.settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=DERANDOMIZE,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )(hypothesis.given(strategy)(run.call))()
    return run


@pytest.mark.timeout(150)
async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    settings: Settings, aiohttp_server: Any, registration: Callable[..., dict[str, Any]]
) -> None:
    port = unused_port()
    public = msgspec.structs.replace(settings, public_url=f"http://127.0.0.1:{port}")
    server = await aiohttp_server(create_portal(public), host="127.0.0.1", port=port)
    base_url = str(server.make_url("")).rstrip("/")
    payload = registration()
    credentials = {"username": payload["username"], "password": payload["password"]}
    course = await build_course(settings.database_url)
    watched = await build_course(settings.database_url)
    async with ClientSession() as http:
        registered = await http.post(f"{base_url}/api/v1/auth/register", json=payload)
        assert registered.status == 201, await registered.text()
        user_id = (await registered.json())["user"]["id"]
        await enrol(settings.database_url, user_id, watched)
        token = (await (await http.post(f"{base_url}/api/v1/auth/login", json=credentials)).json())[
            "token"
        ]
        noted = await http.post(
            f"{base_url}/api/v1/chapters/{watched.chapters[0]}/notes",
            json={"position_s": 1, "body": "笔记"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert noted.status == 201, await noted.text()
        note_id = (await noted.json())["note"]["id"]
    order = await unpaid_order(settings.database_url, user_id, course)
    known = {
        "plan_id": course.plan_id,
        "course_id": course.course_id,
        "chapter_id": watched.chapters[0],
        "note_id": note_id,
        "room": f"course:{watched.course_id}",
        "order_id": order.id,
        "exam_id": 1,
        "provider": "alipay",
    }
    # Schemathesis speaks `requests`, which blocks: off the loop that serves the portal.
    run = await asyncio.to_thread(fuzz, base_url, credentials, known)

    print(f"schemathesis: {sum(run.sent.values())} requests; {sorted(run.statuses.items())}")
    # Schemathesis leaves out the document it loaded its operations from (it was served).
    assert set(run.sent) == {
        f"{operation.method} {operation.path}" for operation in API if operation.path != DOCUMENT
    }
    assert all(status < 500 for status in run.statuses)
