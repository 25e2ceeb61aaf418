"""`make cluster`: N engine processes (`jixu serve --workers N`) behind nginx on loopback, over
the embedded stores (shared per data folder, as `jixu run` uses them) or DATABASE_URL and
REDIS_URL when both are set, for trying the production layout locally. Ctrl-C stops it all.

nginx is Debian's package: installed with apt-get when missing and this runs as root;
otherwise this says so and stops.
"""

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JIXU = [sys.executable, "-c", "from web.cli import main; main()"]
STOP_TIMEOUT_S = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8000, help="nginx's port (loopback)")
    parser.add_argument("--engine-port", type=int, default=8081)
    args = parser.parse_args()
    nginx = find_nginx()
    if nginx is None:
        sys.exit(
            "make cluster: nginx is not installed and could not be (apt-get install nginx "
            "as root); nothing started"
        )
    data_dir = Path(os.environ.get("JIXU_DATA_DIR", ROOT / ".data"))
    with stores(data_dir) as (database_url, redis_url):
        environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "JIXU_ENV": os.environ.get("JIXU_ENV", "development"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PORT": str(args.engine_port),
            "JIXU_DATA_DIR": str(data_dir),
            "JIXU_TRUSTED_PROXIES": "127.0.0.1",
            "JIXU_MEDIA_ACCEL": "true",
        }
        subprocess.run([*JIXU, "migrate"], env=environment, check=True)
        subprocess.run([*JIXU, "seed", "--demo"], env=environment, check=True)
        with tempfile.TemporaryDirectory(prefix="jixu-nginx-") as folder:
            config = Path(folder) / "nginx.conf"
            config.write_text(nginx_config(Path(folder), args.port, args.engine_port))
            engine = subprocess.Popen(
                [*JIXU, "serve", "--workers", str(args.workers)],
                env=environment,
                start_new_session=True,
            )
            proxy = subprocess.Popen(
                [nginx, "-c", str(config), "-p", folder], start_new_session=True
            )
            print(f"\n  Jixu via nginx: http://127.0.0.1:{args.port}/ ({args.workers} workers)\n")
            run_until_interrupted(engine, proxy)


def find_nginx() -> str | None:
    found = installed_nginx()
    if found is not None or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=environment, check=False)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
        env=environment,
        check=False,
    )
    return installed_nginx()


def installed_nginx() -> str | None:
    """nginx on the path, or where Debian puts it (/usr/sbin, not on a user's path)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


@contextlib.contextmanager
def stores(data_dir: Path) -> Iterator[tuple[str, str]]:
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    from engine.embedded import embedded_servers

    with embedded_servers(data_dir) as servers:
        yield database_url or servers.database_url, redis_url or servers.redis_url


def nginx_config(
    folder: Path,
    port: int,
    engine_port: int,
    *,
    worker_processes: int = 1,
    worker_connections: int = 4096,
) -> str:
    """deploy/nginx.conf on loopback, in a main configuration of its own under `folder`
    (bench/heartbeats.py --nginx uses it too: a proxied websocket holds two connections)."""
    site = (
        (ROOT / "deploy" / "nginx.conf")
        .read_text()
        .replace("listen 80;", f"listen 127.0.0.1:{port};")
        .replace("127.0.0.1:8080", f"127.0.0.1:{engine_port}")
        .replace("/srv/jixu/", f"{ROOT}/")
    )
    # As root, nginx's workers would run as nobody, who may not read the checkout.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes {worker_processes};
worker_rlimit_nofile {worker_connections + 100};
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections {worker_connections}; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
"""


def run_until_interrupted(engine: subprocess.Popen[bytes], proxy: subprocess.Popen[bytes]) -> None:
    stopping: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.append(signum))
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    while not stopping and engine.poll() is None and proxy.poll() is None:
        time.sleep(0.2)
    proxy.send_signal(signal.SIGQUIT)  # nginx's graceful stop
    engine.send_signal(signal.SIGTERM)
    for process in (proxy, engine):
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
