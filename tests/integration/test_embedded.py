"""The embedded servers of one data folder are shared: commands beside `jixu run` use them."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis

from engine.embedded import EmbeddedPostgres, EmbeddedRedis, embedded_servers

DEADLINE_S = 50


def jixu(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from web.cli import main; main()", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )


def healthz(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            body: dict[str, object] = json.load(response)
            return body
    except (OSError, urllib.error.HTTPError):
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def portal() -> Iterator[tuple[Path, dict[str, str], int]]:
    """`jixu run` serving a data folder of its own: (folder, its environment, its port)."""
    with tempfile.TemporaryDirectory(prefix="jixu-run-") as folder:
        env = {"JIXU_DATA_DIR": f"{folder}/data", "PORT": str(free_port())}
        for name in ("DATABASE_URL", "REDIS_URL", "JIXU_ENV"):
            env[name] = ""
        process = subprocess.Popen(
            [sys.executable, "-c", "from web.cli import main; main()", "run"],
            env={**os.environ, **env},
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + DEADLINE_S
            while healthz(int(env["PORT"])) is None:
                assert process.poll() is None, "jixu run ended"
                assert time.monotonic() < deadline, "jixu run did not come up"
                time.sleep(0.2)
            yield Path(folder), env, int(env["PORT"])
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            # Whatever happened above, no server outlives the test.
            EmbeddedRedis(Path(folder) / "data" / "redis").stop()
            EmbeddedPostgres(Path(folder) / "data" / "pg").stop()


def test_admin_commands_beside_jixu_run_leave_its_servers_running(
    portal: tuple[Path, dict[str, str], int],
) -> None:
    folder, env, port = portal
    postgres = EmbeddedPostgres(folder / "data" / "pg")
    redis_server = EmbeddedRedis(folder / "data" / "redis")
    pids = (postgres.running(), redis_server.running())
    assert None not in pids

    card = ("--count", "1", "--value", "100", "--batch", "beside")
    generated = jixu("cards", "generate", *card, env=env, cwd=folder)
    assert generated.returncode == 0, generated.stderr
    migrated = jixu("migrate", env=env, cwd=folder)
    assert migrated.returncode == 0, migrated.stderr

    # The same servers still run, and the portal still reaches both.
    assert (postgres.running(), redis_server.running()) == pids
    assert (healthz(port) or {}).get("status") == "ok", healthz(port)

    async def cards_of_batch() -> int:
        connection = await asyncpg.connect(postgres.url)
        try:
            count: int = await connection.fetchval(
                """SELECT count(*) FROM study_cards c JOIN card_batches b ON b.id = c.batch_id
                   WHERE b.name = 'beside'"""
            )
            return count
        finally:
            await connection.close()

    assert asyncio.run(cards_of_batch()) == 1
    assert redis.Redis.from_url(redis_server.url).ping()


def test_a_second_jixu_run_on_the_same_folder_is_refused(
    portal: tuple[Path, dict[str, str], int],
) -> None:
    folder, env, port = portal
    second = jixu("run", env={**env, "PORT": str(free_port())}, cwd=folder)
    assert second.returncode != 0
    assert "already running" in second.stderr
    assert (healthz(port) or {}).get("status") == "ok"


def test_a_running_redis_is_used_and_a_pid_of_another_program_is_stale() -> None:
    with tempfile.TemporaryDirectory(prefix="jixu-redis-") as folder:
        # A pid file naming a live process that is no redis-server (this one) is stale.
        (Path(folder) / "redis.pid").write_text(f"{os.getpid()}\n")
        server = EmbeddedRedis(Path(folder))
        server.start()
        try:
            pid = server.running()
            assert pid is not None
            assert pid != os.getpid()
            # Left running (as by a killed run), it is used, not replaced.
            assert EmbeddedRedis(Path(folder)).start() == server.url
            assert EmbeddedRedis(Path(folder)).running() == pid
        finally:
            server.stop()
        assert server.running() is None


def test_the_last_user_out_stops_the_servers() -> None:
    with tempfile.TemporaryDirectory(prefix="jixu-shared-") as folder:
        postgres = EmbeddedPostgres(Path(folder) / "pg")
        redis_server = EmbeddedRedis(Path(folder) / "redis")
        with embedded_servers(Path(folder)) as first:
            pids = (postgres.running(), redis_server.running())
            with embedded_servers(Path(folder)) as second:
                assert second == first
            assert (postgres.running(), redis_server.running()) == pids
        assert (postgres.running(), redis_server.running()) == (None, None)
        # A postmaster.pid naming a live process that is no postgres (this one) is stale.
        (postgres.pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{postgres.pgdata}\n")
        with embedded_servers(Path(folder)):
            assert postgres.running() not in (None, os.getpid())
        assert postgres.running() is None
