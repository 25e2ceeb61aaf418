"""`jixu serve --workers 2`: two processes answer on one port; a killed one is replaced; SIGTERM
stops them all."""

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

from web.workers import RESTART_DELAY_S

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
REQUESTS = 80  # fresh connections, which the kernel spreads over the workers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(child) for child in text.split()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def nodes_answering(port: int, want: int) -> set[str]:
    """The node ids that answer /healthz over fresh connections, until `want` of them have."""
    seen: set[str] = set()
    deadline = time.monotonic() + START_TIMEOUT_S
    while len(seen) < want and time.monotonic() < deadline:
        for _ in range(REQUESTS):
            connector = aiohttp.TCPConnector(force_close=True)
            try:
                async with (
                    aiohttp.ClientSession(connector=connector) as session,
                    session.get(f"http://127.0.0.1:{port}/healthz") as response,
                ):
                    if response.status == 200:
                        seen.add((await response.json())["node"])
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)  # not listening yet
        await asyncio.sleep(0.1)
    return seen


async def test_two_workers_share_the_port_and_a_killed_one_is_replaced(
    database_url: str, redis_url: str, data_dir: Path
) -> None:
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "JIXU_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "JIXU_DATA_DIR": str(data_dir),
        "JIXU_NODE_ID": "w",
        "JIXU_LOG_FORMAT": "console",
    }
    parent = await asyncio.create_subprocess_exec(
        *[sys.executable, "-c", "from web.cli import main; main()", "serve", "--workers", "2"],
        env=environment,
        cwd=ROOT,
    )
    try:
        assert await nodes_answering(port, 2) == {"w-0", "w-1"}
        first = children(parent.pid)
        assert len(first) == 2
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while victim in children(parent.pid) or len(children(parent.pid)) < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(RESTART_DELAY_S / 5)
        assert len(children(parent.pid) - first) == 1
        assert await nodes_answering(port, 2) == {"w-0", "w-1"}
        last = children(parent.pid)
        parent.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(parent.wait(), 30) == 0
        assert [pid for pid in last if alive(pid)] == []
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()
