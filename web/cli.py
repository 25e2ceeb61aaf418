"""The `jixu` command: run (development), serve (production), migrate, seed, and the
administrator's commands (web/admin_cli.py, web/messages_cli.py)."""

import argparse
import asyncio
import contextlib
import gc
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal, TypeVar

import msgspec
import structlog
from aiohttp import web

from engine import db, production
from engine.catalog.demo import PLANS
from engine.clock import system_clock, utc_time
from engine.demo import seed_demo, seed_demo_if_empty
from engine.demo_history import seed_demo_history
from engine.embedded import FolderBusy, sole_holder
from engine.logs import configure_logging
from engine.population.load import NothingToStudy, PopulationReport, seed_population
from engine.seed import SeedReport, seed_base
from engine.settings import Settings, SettingsError, load_settings
from web import admin_cli, messages_cli
from web.app import create_portal
from web.progress import TerminalProgress
from web.stores import servers
from web.workers import supervise, worker_count

T = TypeVar("T")

log = structlog.get_logger(__name__)

# The demo catalogue's newest year: `jixu run` treats it as this year, as the manual does.
DEMO_YEAR = max(plan.year for plan in PLANS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="jixu", description="Jixu learning session engine")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="development: embedded servers unless URLs are set, migrate, seed, serve"
    )
    serve_parser = commands.add_parser(
        "serve", help="production: needs DATABASE_URL and REDIS_URL and a migrated database"
    )
    serve_parser.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        metavar="N",
        help="engine processes sharing the port (SO_REUSEPORT), restarted when one dies",
    )
    # A worker of `--workers`: serves on the shared port, checks done by its parent.
    serve_parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    commands.add_parser("migrate", help="apply pending SQL migrations")
    seed_parser = commands.add_parser(
        "seed", help="load the base data (organisations, administrator, demo learner)"
    )
    seed_parser.add_argument(
        "--demo", action="store_true", help="also load the demo catalogue (plans, courses)"
    )
    seed_parser.add_argument(
        "--learners",
        type=int,
        default=0,
        metavar="N",
        help="also generate N learners with their plans, orders, progress and exams"
        " (development and test databases only)",
    )
    seed_parser.add_argument(
        "--seed", type=int, default=1, metavar="S", help="the generated learners' random seed"
    )
    admin_cli.add_parsers(commands)
    messages_cli.add_parsers(commands)
    args = parser.parse_args(argv)
    try:
        settings = command_settings(args.command, os.environ)
    except SettingsError as exc:
        sys.exit(f"jixu: bad configuration: {exc}")
    configure_logging(settings)
    if args.command == "seed":
        seed(settings, demo=args.demo, learners=args.learners, random_seed=args.seed)
        return
    if admin_cli.run(settings, args):
        return
    if args.command == "messages":
        messages_cli.run(settings, args)
        return
    if args.command == "serve":
        serve(settings, workers=args.workers, worker=args.worker)
        return
    {"run": run, "migrate": migrate}[args.command](settings)


def command_settings(command: str, environ: Mapping[str, str]) -> Settings:
    """The settings a command runs with: production unless JIXU_ENV says otherwise, except
    `jixu run`, which means development (its sandbox gateway, its demo learner)."""
    development = command == "run" and not environ.get("JIXU_ENV")
    return load_settings(environ, **({"env": "development"} if development else {}))


def run(settings: Settings) -> None:
    """Development: start embedded servers when no URL is given, migrate, seed, then serve."""
    if settings.current_year is None:
        settings = msgspec.structs.replace(settings, current_year=DEMO_YEAR)
    with _sole_run(settings), servers(settings) as settings:
        # A fresh development database gets the demo catalogue, so there is something to see.
        report = asyncio.run(_prepare(settings, demo="if-empty"))
        print(f"\n  Jixu: http://{settings.host}:{settings.port}/")
        print(f"  demo learner: {report.demo_username} / {report.demo_password}")
        if report.admin_password:
            print(f"  administrator (shown once): admin / {report.admin_password}")
        print()
        _serve(settings)


def serve(settings: Settings, *, workers: int = 1, worker: bool = False) -> None:
    """Production: never starts embedded servers and refuses an unmigrated database, and in
    production the settings and data `engine.production` names. More than one worker: that
    many processes on the port (web/workers.py)."""
    if worker:
        _serve(settings, reuse_port=True)
        return
    if settings.database_url is None or settings.redis_url is None:
        sys.exit("jixu serve: DATABASE_URL and REDIS_URL must both be set")
    if settings.env == "production":
        try:
            refusal = production.configuration_refusal(settings) or asyncio.run(
                production.database_refusal(settings.database_url)
            )
        except db.PendingMigrations as exc:
            sys.exit(f"jixu: {exc}")
        if refusal is not None:
            sys.exit(f"jixu serve: {refusal}")
    if workers > 1:
        sys.exit(supervise(workers, settings.node_id, os.environ))
    _serve(settings)


def migrate(settings: Settings) -> None:
    with servers(settings) as settings:
        applied = asyncio.run(_migrate(settings))
        print(
            f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else "")
        )


def seed(
    settings: Settings, *, demo: bool = False, learners: int = 0, random_seed: int = 1
) -> None:
    if learners < 0:
        sys.exit("jixu seed: --learners must be 0 or more")
    if learners and settings.env == "production":
        sys.exit(
            "jixu seed: generated learners belong in a development or test database;"
            " set JIXU_ENV=development to generate them"
        )
    with servers(settings) as settings:
        report = asyncio.run(_prepare(settings, demo="always" if demo else "never"))
        if report.admin_password:
            print(f"administrator (shown once): admin / {report.admin_password}")
        if learners:
            population = asyncio.run(_populate(settings, learners, random_seed))
            print(
                f"generated {population.learners:,} learners (from {population.first:,}),"
                f" {population.rows:,} rows in {population.seconds} s"
            )


@contextlib.contextmanager
def _sole_run(settings: Settings) -> Iterator[None]:
    """Refuse a second `jixu run` on a data folder whose embedded servers one already serves."""
    if settings.database_url is not None and settings.redis_url is not None:
        yield
        return
    data_dir = Path(settings.data_dir).resolve()
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(sole_holder(data_dir / "run.pid"))
        except FolderBusy as exc:
            sys.exit(
                f"jixu run: already running on {data_dir} (pid {exc.pid}); "
                "stop it first, or set JIXU_DATA_DIR to another folder"
            )
        yield


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
        if demo != "never":
            # Once: a plan the demo learner has passed, for the archive and its certificate.
            await seed_demo_history(pool, settings, utc_time(system_clock()))
        return report
    finally:
        await pool.close()


async def _populate(settings: Settings, learners: int, random_seed: int) -> PopulationReport:
    assert settings.database_url is not None
    pool = await db.create_pool(settings.database_url, min_size=3, max_size=3)
    try:
        return await seed_population(
            pool, learners, random_seed, TerminalProgress("generating learners")
        )
    except NothingToStudy as exc:
        sys.exit(f"jixu seed: {exc} (run `jixu seed --demo`, or create plans, first)")
    finally:
        await pool.close()


def _serve(settings: Settings, *, reuse_port: bool = False) -> None:
    app = create_portal(settings)
    app.on_startup.append(_settle_collector)  # after the cleanup contexts have started
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            print=None,
            access_log=None,
            shutdown_timeout=10,
            reuse_port=reuse_port,
            loop=_event_loop(),
        )
    except db.PendingMigrations as exc:
        sys.exit(f"jixu: {exc}")


async def _settle_collector(app: web.Application) -> None:
    """Keep full garbage collections rare while serving: each walks every live object and
    holds the loop meanwhile (130–190 ms with 2,000 examinees connected, delaying every
    answer and beat that arrives). What startup built lives as long as the process and is
    frozen out of collections; full ones run about 30 times less often than by default."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(1000, 20, 100)


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (not on Windows): a beat costs ~10% less CPU on it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
