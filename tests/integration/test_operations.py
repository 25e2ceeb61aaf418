"""Health, metrics, migrations, and the production entry."""

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, unused_port

from engine import db
from engine.embedded import EmbeddedRedis
from engine.seed import seed_base
from engine.settings import load_settings
from tests.conftest import new_learner
from web.app import create_portal


@pytest.fixture
def private_redis() -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own, free to be stopped."""
    with tempfile.TemporaryDirectory(prefix="jixu-redis-") as folder:
        server = EmbeddedRedis(Path(folder))
        yield server
        server.stop()


async def test_healthz_is_ok_when_both_answer(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["checks"] == {
        "postgres": "ok",
        "redis": "ok",
        "flusher": "ok",
        "bus": "ok",
        "socket_leases": "ok",
        "exam_sweeper": "ok",
        "exam_ticker": "ok",
        "notice_feed": "ok",
        "live": "ok",
    }


async def test_healthz_names_redis_when_it_is_down(
    aiohttp_client: Any, database_url: str, private_redis: EmbeddedRedis
) -> None:
    settings = load_settings({}, database_url=database_url, redis_url=private_redis.start())
    client = await aiohttp_client(create_portal(settings))
    assert (await client.get("/healthz")).status == 200
    private_redis.stop()
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["failing"] == ["redis"]
    # The loops wait the outage out: at most degraded, under the threshold (30 s).
    assert body["checks"]["postgres"] == "ok"
    assert set(body["degraded"]) <= {"flusher", "bus", "exam_sweeper", "live"}
    await client.close()


async def test_metrics_count_requests_by_route(client: TestClient) -> None:
    await client.get("/login")
    await client.get("/login")
    text = await (await client.get("/metrics")).text()
    assert 'jixu_http_requests_total{method="GET",route="/login",status="200"} 2.0' in text
    assert "jixu_http_request_duration_seconds_bucket" in text


async def test_metrics_count_open_sockets_not_their_upgrades(
    client: TestClient, registration: Callable[..., dict[str, Any]]
) -> None:
    learner = await new_learner(client, registration)
    ws = await client.ws_connect("/ws", headers=learner.headers)
    text = await (await client.get("/metrics")).text()
    assert "jixu_websockets_open 1.0" in text
    assert 'route="/ws"' not in text
    await ws.close()


async def test_every_response_carries_a_request_id(client: TestClient) -> None:
    response = await client.get("/login", headers={"X-Request-ID": "trace-12345678"})
    assert response.headers["X-Request-ID"] == "trace-12345678"
    generated = await client.get("/login", headers={"X-Request-ID": "bad id"})
    assert generated.headers["X-Request-ID"] != "bad id"


async def test_migrations_apply_once(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        assert await db.migrate(connection) == []
        assert await db.pending_migrations(connection) == []
        versions = await connection.fetch("SELECT version FROM schema_migrations")
        assert [row["version"] for row in versions] == [v for v, _ in db.migration_files()]
    finally:
        await connection.close()


async def test_migrations_on_an_empty_database_then_again(
    server_urls: tuple[str, str],
) -> None:
    from tests.conftest import with_database

    admin = await asyncpg.connect(with_database(server_urls[0], "postgres"))
    name = f"jixu_empty_{os.getpid()}"
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        connection = await asyncpg.connect(with_database(server_urls[0], name))
        try:
            first = await db.migrate(connection)
            assert first == [v for v, _ in db.migration_files()]
            assert await db.migrate(connection) == []
        finally:
            await connection.close()
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


def jixu(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from web.cli import main; main()", *args],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def refusal_of_serve(env: dict[str, str]) -> str:
    """The one line `jixu serve` exits with; a server that starts instead times out the test."""
    result = jixu("serve", env={"PORT": str(unused_port()), **env}, timeout=30)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


async def test_serve_refuses_the_demo_learner(database_url: str, redis_url: str) -> None:
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    try:
        await seed_base(pool)
    finally:
        await pool.close()
    refusal = refusal_of_serve(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "JIXU_PUBLIC_URL": "http://jixu.example",
        }
    )
    assert refusal.startswith("jixu serve: the demo learner demo")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({}, "JIXU_PUBLIC_URL", id="no-public-url"),
        pytest.param(
            {"JIXU_PUBLIC_URL": "https://jixu.example"}, "JIXU_SECURE_COOKIES", id="cookies"
        ),
        pytest.param({"JIXU_SANDBOX_GATEWAY": "true"}, "JIXU_PUBLIC_URL", id="sandbox"),
        pytest.param(
            {"JIXU_GATEWAY_URL": "https://openapi.alipay.com/gateway.do"},
            "JIXU_PUBLIC_URL",
            id="gateway",
        ),
        pytest.param(
            {
                "JIXU_GATEWAY_URL": "https://openapi.alipay.com/gateway.do",
                "JIXU_SANDBOX_GATEWAY": "true",
                "JIXU_PUBLIC_URL": "http://jixu.example",
            },
            "JIXU_SANDBOX_GATEWAY",
            id="sandbox-beside-gateway",
        ),
    ],
)
def test_serve_refuses_unsafe_settings(
    database_url: str, redis_url: str, env: dict[str, str], named: str
) -> None:
    refusal = refusal_of_serve({"DATABASE_URL": database_url, "REDIS_URL": redis_url, **env})
    assert refusal.startswith("jixu")
    assert named in refusal


async def test_production_settings_have_no_sandbox(
    aiohttp_client: Any, database_url: str, redis_url: str, data_dir: Path
) -> None:
    """What `jixu serve` gets without JIXU_ENV: no sandbox gateway to pay through."""
    settings = load_settings(
        {}, database_url=database_url, redis_url=redis_url, data_dir=str(data_dir)
    )
    client = await aiohttp_client(create_portal(settings))
    try:
        assert (await client.get("/sandbox/gateway")).status == 404
    finally:
        await client.close()


async def test_serve_refuses_pending_migrations(
    server_urls: tuple[str, str], redis_url: str
) -> None:
    from tests.conftest import with_database

    admin = await asyncpg.connect(with_database(server_urls[0], "postgres"))
    name = f"jixu_unmigrated_{os.getpid()}"
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        result = jixu(
            "serve",
            env={
                "DATABASE_URL": with_database(server_urls[0], name),
                "REDIS_URL": redis_url,
                "JIXU_PUBLIC_URL": "http://jixu.example",
                "PORT": "18089",
            },
        )
        assert result.returncode != 0
        assert "pending migration" in result.stderr
        assert "jixu migrate" in result.stderr
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


def test_serve_needs_both_urls() -> None:
    result = jixu("serve", env={})
    assert result.returncode != 0
    assert "DATABASE_URL and REDIS_URL" in result.stderr


def test_bad_setting_is_named() -> None:
    result = jixu("serve", env={"PORT": "eighty"})
    assert result.returncode != 0
    assert "PORT" in result.stderr
