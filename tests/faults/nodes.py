"""Engine processes: real `jixu serve` children on their own ports, killed with SIGKILL and
started again under the same node id (as `jixu serve --workers`' parent does)."""

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp

from tests.faults.stores import die_with_parent

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20


class Node:
    def __init__(self, name: str, port: int, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **env,
            "PORT": str(port),
            "JIXU_NODE_ID": name,
            "JIXU_PUBLIC_URL": self.url,
        }
        self.logs = logs
        self.process: asyncio.subprocess.Process | None = None
        self.alive = False

    @property
    def consumer(self) -> str:
        """Its flusher's consumer name in the stream's group."""
        return f"node-{self.name}"

    async def start(self) -> None:
        jixu = str(Path(sys.executable).parent / "jixu")
        with (self.logs / f"{self.name}.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                jixu,
                "serve",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=die_with_parent,
            )

    async def healthy(self, session: aiohttp.ClientSession) -> bool:
        """Whether /healthz says ok: the node serves, both stores answer, no loop failing."""
        try:
            async with session.get(
                f"{self.url}/healthz", timeout=aiohttp.ClientTimeout(total=2)
            ) as response:
                return response.status == 200 and (await response.json())["status"] == "ok"
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.returncode is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            if await self.healthy(session):
                self.alive = True
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name} was not ready after {START_TIMEOUT_S} s")

    async def kill(self) -> None:
        """SIGKILL: no graceful stop, no final flush, sockets cut."""
        assert self.process is not None
        self.alive = False
        self.process.kill()
        await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)

    async def stop(self) -> None:
        self.alive = False
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def engine_env(database_url: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    """What every node shares: the stores, the sandbox gateway's keys, fast beats."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JIXU_ENV": "test",
        "JIXU_DATA_DIR": str(data_dir),
        "JIXU_LOG_LEVEL": "info",
        "JIXU_LOG_FORMAT": "json",
        "JIXU_BEAT_INTERVAL_MS": "1000",
        "JIXU_ATTENTION_INTERVAL_S": "0",
        "JIXU_WS_MAX_PER_ADDRESS": "100000",
        # Reconnecting clients leave sockets a killed node held counted until their lease
        # runs out (90 s); a learner reconnects up to once per kill.
        "JIXU_WS_MAX_PER_LEARNER": "20",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")])
        ),
    }
