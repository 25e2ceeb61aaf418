"""Websockets and logins: an ended login closes its sockets at once, on every node."""

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import HUB, REDIS, SOCKET_CAPS
from engine.sessions.caps import LEASE_MS, SocketCaps
from engine.sessions.endpoint import GARBAGE_LIMIT
from engine.sessions.keys import learner_sockets_key
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


async def refused_status(client: TestClient, learner: Learner) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers=learner.headers)
    return refused.value.status


async def opened_again(client: TestClient, learner: Learner) -> aiohttp.ClientWebSocketResponse:
    """A socket, once the server has given a closed one's lease back."""
    for _ in range(50):
        try:
            return await opened(client, learner)
        except aiohttp.WSServerHandshakeError as refused:
            status = refused.status
        assert status == 429
        await asyncio.sleep(0.02)
    raise AssertionError("the closed socket's lease was never given back")


async def test_a_learner_may_hold_only_so_many_sockets_across_nodes(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload
) -> None:
    first = await node(aiohttp_client, settings, clock, ws_max_per_learner=2)
    second = await node(aiohttp_client, settings, clock, ws_max_per_learner=2)
    learner = await new_learner(first, registration)
    one, _ = await opened(first, learner), await opened(second, learner)
    assert await refused_status(first, learner) == 429
    assert await refused_status(second, learner) == 429
    # The refusal says why, in Chinese, before any upgrade.
    response = await first.get("/ws", headers=learner.headers)
    assert response.status == 429
    assert "页面过多" in await response.text()
    await one.close()
    await opened_again(second, learner)


async def test_sockets_the_server_closes_give_their_leases_back(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload
) -> None:
    """Found by the websocket fuzz: after a close of the server's own (1008 for garbage,
    4001 at logout) the handler was cancelled while finishing and kept the lease, so a
    learner closed this way a few times could open no socket for 90 s."""
    first = await node(aiohttp_client, settings, clock, ws_max_per_learner=1)
    learner = await new_learner(first, registration)
    garbage = await opened(first, learner)
    for _ in range(GARBAGE_LIMIT):
        await garbage.send_str("not json")
    assert await closed_with(garbage, within_s=5) == aiohttp.WSCloseCode.POLICY_VIOLATION
    again = await opened_again(first, learner)
    response = await first.post("/api/v1/auth/logout", headers=learner.headers)
    assert response.status == 200
    assert await closed_with(again) == 4001
    for _ in range(50):
        if await first.app[REDIS].zcard(learner_sockets_key(learner.id)) == 0:
            break
        await asyncio.sleep(0.02)
    assert await first.app[REDIS].zcard(learner_sockets_key(learner.id)) == 0


async def test_an_address_may_hold_only_so_many_sockets(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload
) -> None:
    first = await node(aiohttp_client, settings, clock, ws_max_per_address=2)
    learner, neighbour = (
        await new_learner(first, registration),
        await new_learner(first, registration),
    )
    one, _ = await opened(first, learner), await opened(first, learner)
    assert await refused_status(first, neighbour) == 429
    await one.close()
    await opened_again(first, neighbour)


async def test_the_sockets_of_a_node_gone_without_a_word_age_out(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload
) -> None:
    first = await node(aiohttp_client, settings, clock, ws_max_per_learner=1)
    learner = await new_learner(first, registration)
    crashed = SocketCaps(first.app[REDIS], clock, "crashed", per_learner=1, per_address=200)
    await crashed.claim("never-released", learner.id, "203.0.113.9")
    assert await refused_status(first, learner) == 429
    clock.advance(LEASE_MS / 1000 + 1)
    await opened(first, learner)


async def test_a_live_sockets_lease_is_renewed(
    aiohttp_client: Any, settings: Settings, clock: Clock, registration: Payload
) -> None:
    first = await node(aiohttp_client, settings, clock, ws_max_per_learner=1)
    learner = await new_learner(first, registration)
    await opened(first, learner)
    for _ in range(3):
        clock.advance(LEASE_MS / 1000 * 2 / 3)
        await first.app[SOCKET_CAPS].renew(list(first.app[HUB].connections.values()))
    assert await refused_status(first, learner) == 429
