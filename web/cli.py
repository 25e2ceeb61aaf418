"""The `jixu` command: run (development), serve (production), migrate, seed."""

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec
import structlog
from aiohttp import web

from engine import db
from engine.catalog.demo import seed_demo, seed_demo_if_empty
from engine.embedded import embedded_servers
from engine.logs import configure_logging
from engine.seed import SeedReport, seed_base
from engine.settings import Settings, SettingsError, load_settings
from web.app import create_portal

log = structlog.get_logger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="jixu", description="Jixu learning session engine")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="development: embedded servers unless URLs are set, migrate, seed, serve"
    )
    commands.add_parser(
        "serve", help="production: needs DATABASE_URL and REDIS_URL and a migrated database"
    )
    commands.add_parser("migrate", help="apply pending SQL migrations")
    seed_parser = commands.add_parser(
        "seed", help="load the base data (organisations, administrator, demo learner)"
    )
    seed_parser.add_argument(
        "--demo", action="store_true", help="also load the demo catalogue (plans, courses)"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"jixu: bad configuration: {exc}")
    configure_logging(settings)
    if args.command == "seed":
        seed(settings, demo=args.demo)
        return
    {"run": run, "serve": serve, "migrate": migrate}[args.command](settings)


def run(settings: Settings) -> None:
    """Development: start embedded servers when no URL is given, migrate, seed, then serve."""
    with _servers(settings) as settings:
        # A fresh development database gets the demo catalogue, so there is something to see.
        report = asyncio.run(_prepare(settings, demo="if-empty"))
        print(f"\n  Jixu: http://{settings.host}:{settings.port}/")
        print(f"  demo learner: {report.demo_username} / {report.demo_password}")
        if report.admin_password:
            print(f"  administrator (shown once): admin / {report.admin_password}")
        print()
        _serve(settings)


def serve(settings: Settings) -> None:
    """Production: never starts embedded servers and refuses an unmigrated database."""
    if settings.database_url is None or settings.redis_url is None:
        sys.exit("jixu serve: DATABASE_URL and REDIS_URL must both be set")
    _serve(settings)


def migrate(settings: Settings) -> None:
    with _servers(settings) as settings:
        applied = asyncio.run(_migrate(settings))
        print(
            f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else "")
        )


def seed(settings: Settings, *, demo: bool = False) -> None:
    with _servers(settings) as settings:
        report = asyncio.run(_prepare(settings, demo="always" if demo else "never"))
        if report.admin_password:
            print(f"administrator (shown once): admin / {report.admin_password}")


@contextlib.contextmanager
def _servers(settings: Settings) -> Iterator[Settings]:
    """The settings as given when both URLs are set; otherwise embedded servers fill them in."""
    if settings.database_url is not None and settings.redis_url is not None:
        yield settings
        return
    with embedded_servers(Path(settings.data_dir)) as servers:
        yield msgspec.structs.replace(
            settings,
            database_url=settings.database_url or servers.database_url,
            redis_url=settings.redis_url or servers.redis_url,
        )


async def _migrate(settings: Settings) -> list[str]:
    assert settings.database_url is not None
    pool = await db.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as connection:
            return await db.migrate(connection)
    finally:
        await pool.close()


async def _prepare(
    settings: Settings, demo: Literal["never", "always", "if-empty"] = "never"
) -> SeedReport:
    await _migrate(settings)
    assert settings.database_url is not None
    pool = await db.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        report = await seed_base(pool)
        # Both log what they created.
        if demo == "always":
            await seed_demo(pool)
        elif demo == "if-empty":
            await seed_demo_if_empty(pool)
        return report
    finally:
        await pool.close()


def _serve(settings: Settings) -> None:
    try:
        web.run_app(
            create_portal(settings),
            host=settings.host,
            port=settings.port,
            print=None,
            access_log=None,
            shutdown_timeout=10,
        )
    except db.PendingMigrations as exc:
        sys.exit(f"jixu: {exc}")
