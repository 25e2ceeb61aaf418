"""`jixu serve --workers N`: N engine processes on one port, kept running by this parent.

Each worker binds the port itself with SO_REUSEPORT, and the kernel spreads new connections
over them; each is a whole node (its own node id for the bus, the socket leases and the
flusher's consumer name), as a node on another machine would be. The parent serves nothing:
it starts the workers, starts again one that dies, and on SIGTERM or SIGINT passes SIGTERM
on and waits for their graceful stop (sockets closed with GOING_AWAY, a last flush).
"""

import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from types import FrameType

import structlog

log = structlog.get_logger(__name__)

# A worker's graceful stop (aiohttp's shutdown timeout, the loops' final flush) and a margin;
# one still running after that is killed.
STOP_TIMEOUT_S = 20.0
POLL_S = 0.2
# A worker that dies sooner than this after its start waits this long before the next start:
# a worker that cannot start (a bad setting, PostgreSQL down) must not spin the CPU.
MIN_UPTIME_S = 5.0
RESTART_DELAY_S = 1.0


class Worker:
    def __init__(self, index: int, node_id: str) -> None:
        self.index = index
        self.node_id = node_id
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.next_start = 0.0


def supervise(count: int, node_id: str, environ: Mapping[str, str]) -> int:
    """Run `count` workers until a signal asks to stop; the exit status for the parent."""
    base = node_id or secrets.token_hex(4)
    # Worker i keeps its node id across restarts: its successor takes over its flusher
    # consumer's pending entries at once instead of after their idle time.
    workers = [Worker(index, f"{base}-{index}") for index in range(count)]
    stopping: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            now = time.monotonic()
            for worker in workers:
                _tend(worker, now, environ)
            time.sleep(POLL_S)
    finally:
        _stop_all(workers)
    return 0


def _tend(worker: Worker, now: float, environ: Mapping[str, str]) -> None:
    """Start the worker when it is not running and its restart delay is over."""
    process = worker.process
    if process is not None:
        status = process.poll()
        if status is None:
            return
        worker.process = None
        uptime = now - worker.started
        log.error(
            "worker died",
            worker=worker.index,
            pid=process.pid,
            status=status,
            uptime_s=round(uptime, 1),
        )
        worker.next_start = now + (RESTART_DELAY_S if uptime < MIN_UPTIME_S else 0)
    if now < worker.next_start:
        return
    worker.process = subprocess.Popen(
        [sys.executable, "-c", "from web.cli import main; main()", "serve", "--worker"],
        env={**environ, "JIXU_NODE_ID": worker.node_id},
        # Its own session: Ctrl-C in a terminal reaches the parent alone, which passes it on.
        start_new_session=True,
    )
    worker.started = now
    log.info("worker started", worker=worker.index, pid=worker.process.pid, node=worker.node_id)


def _stop_all(workers: list[Worker]) -> None:
    running = [worker.process for worker in workers if worker.process is not None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("worker did not stop in time: killed", pid=process.pid)
            process.kill()
            process.wait()


def worker_count(text: str) -> int:
    """argparse type of --workers: 1 or more."""
    count = int(text)
    if count < 1:
        raise ValueError(text)
    return count
