"""What every benchmark needs around its load: the stores, child processes that die with the
benchmark, a free port, the server's readiness, the file-descriptor limit and the load
generator's process settings."""

import asyncio
import contextlib
import ctypes
import gc
import os
import resource
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import redis

from engine.embedded import embedded_servers

STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20
PR_SET_PDEATHSIG = 1


def engine_env(database_url: str, redis_url: str, port: int) -> dict[str, str]:
    """The environment `jixu serve` runs in under a benchmark: the stores, the port, quiet
    JSON logs, and this checkout's engine first on the path."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "JIXU_LOG_LEVEL": "warning",
        "JIXU_LOG_FORMAT": "json",
        "JIXU_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # Every simulated learner connects from this one host.
        "JIXU_WS_MAX_PER_ADDRESS": "1000000",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")])
        ),
    }


def settle_client() -> None:
    """Set up a load generator's process: as many sockets as the hard limit allows, and no
    garbage collection. Its full collections (~200 ms with 2,000 examinees) would be counted
    as the engine's latency; a run is short enough to leave reference cycles to the end."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gc.disable()


def raise_fd_limit() -> int:
    """Thousands of sockets: raise the limit as far as allowed (children inherit it).

    Raising the hard limit needs CAP_SYS_RESOURCE, which a container may not grant; then
    the soft limit goes up to the hard one and no further.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 250_000
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
        return wanted
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@contextlib.contextmanager
def stores(folder: Path) -> Iterator[tuple[str, str, Path | None]]:
    """(database URL, Redis URL, embedded data folder): DATABASE_URL and REDIS_URL from the
    environment, or embedded servers in `folder` (no data folder then)."""
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url, None
        return
    with embedded_servers(folder / "data") as servers:
        yield servers.database_url, servers.redis_url, folder / "data"


def redis_cluster_pids(url: str) -> list[int]:
    """The pids of the nodes a `redis+cluster://host:port,…` URL names (nodes on this host)."""
    pids = []
    for address in url.removeprefix("redis+cluster://").split(","):
        host, _, port = address.rpartition(":")
        with redis.Redis(host=host, port=int(port)) as node:
            pids.append(int(node.info("server")["process_id"]))
    return pids


def store_pids(data_dir: Path) -> tuple[int | None, int | None]:
    """The embedded Redis's pid and PostgreSQL's postmaster pid."""
    return (
        read_pid(data_dir / "redis" / "redis.pid"),
        read_pid(data_dir / "pg" / "postmaster.pid"),
    )


@contextlib.asynccontextmanager
async def child(
    command: list[str],
    env: dict[str, str] | None,
    *,
    pipes: bool = False,
    death_signal: signal.Signals = signal.SIGKILL,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process that dies with us, and is stopped (then killed) when the block ends.

    `death_signal` is what it gets if we die first: SIGTERM for a parent of processes of its
    own (`jixu serve --workers`, nginx's master), which stops them before it exits; SIGKILL
    would leave them running.
    """
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdin=asyncio.subprocess.PIPE if pipes else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if pipes else None,
        preexec_fn=lambda: _die_with_parent(death_signal),
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()


def _die_with_parent(death_signal: signal.Signals) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, death_signal)


async def wait_listening(port: int, server: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.returncode is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"nothing listens on port {port} after {STARTUP_TIMEOUT_S} s")


async def read_event(process: asyncio.subprocess.Process, name: str) -> dict[str, int]:
    """The next JSON line `{"event": name, ...}` the child prints."""
    assert process.stdout is not None
    while line := await process.stdout.readline():
        event = msgspec.json.decode(line)
        if event.get("event") == name:
            return event  # type: ignore[no-any-return]
    raise RuntimeError(f"the client exited ({await process.wait()}) before {name!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_pid(path: Path) -> int | None:
    try:
        first = path.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def cancel_on_signals() -> None:
    """`kill` (and Ctrl-C, also where a shell started us with SIGINT ignored) cancels the
    running task, which unwinds everything: children stopped, embedded servers stopped."""
    task = asyncio.current_task()
    assert task is not None
    for stop in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(stop, task.cancel)
