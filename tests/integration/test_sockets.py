"""Websockets and logins: an ended login closes its sockets at once, on every node."""

from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec
from aiohttp.test_utils import TestClient

from engine.settings import Settings
from tests.conftest import Clock, Learner, new_learner, origin_of
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]


async def node(aiohttp_client: Any, settings: Settings, clock: Clock, **changes: Any) -> TestClient:
    """A portal of the test's own on the shared stores (a second node, or other settings)."""
    client: TestClient = await aiohttp_client(
        create_portal(msgspec.structs.replace(settings, **changes), clock=clock)
    )
    return client


async def opened(client: TestClient, learner: Learner) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect("/ws", headers=learner.headers)
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json(timeout=5))["type"] == "pong"
    return ws


async def closed_with(ws: aiohttp.ClientWebSocketResponse, within_s: float = 1.0) -> Any:
    """The code in the close frame the server ends an idle socket with, within `within_s`.
    (The frame's, not `ws.close_code`: the client's answering close may find the transport
    already closed and record 1006.)"""
    while True:
        message = await ws.receive(timeout=within_s)
        if message.type is aiohttp.WSMsgType.CLOSE:
            return message.data
        assert message.type is not aiohttp.WSMsgType.CLOSED, "closed without a close frame"


async def test_logout_closes_idle_sockets_at_once_on_every_node(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload
) -> None:
    first = await node(aiohttp_client, settings, clock)
    second = await node(aiohttp_client, settings, clock)
    learner = await new_learner(first, registration)
    here, there = await opened(first, learner), await opened(second, learner)
    response = await first.post("/api/v1/auth/logout", headers=learner.headers)
    assert response.status < 400
    assert await closed_with(here) == 4001
    assert await closed_with(there) == 4001


async def test_a_password_change_closes_the_other_logins_sockets(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload
) -> None:
    first = await node(aiohttp_client, settings, clock)
    second = await node(aiohttp_client, settings, clock)
    payload = registration()
    assert (await first.post("/api/v1/auth/register", json=payload)).status == 201

    async def log_in() -> Learner:
        response = await first.post(
            "/api/v1/auth/login",
            json={"username": payload["username"], "password": payload["password"]},
            headers=origin_of(first),
        )
        body = await response.json()
        first.session.cookie_jar.clear()
        return Learner(body["user"]["id"], body["token"])

    current, other = await log_in(), await log_in()
    kept, ended = await opened(first, current), await opened(second, other)
    change = {
        "old_password": payload["password"],
        "new_password": "Fresh2019go",
        "confirm_password": "Fresh2019go",
    }
    response = await first.post("/api/v1/me/password", json=change, headers=current.headers)
    assert response.status == 200
    assert await closed_with(ended) == 4001
    await kept.send_json({"type": "ping"})
    assert (await kept.receive_json(timeout=5))["type"] == "pong"
    await kept.close()
