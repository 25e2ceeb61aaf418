"""The `jixu` command: run (development), serve (production), migrate, seed, and the
administrator's cards, orders, archive, certificates, service points and messages."""

import argparse
import asyncio
import contextlib
import csv
import gc
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import asyncpg
import msgspec
import structlog
from aiohttp import web

from engine import db, production
from engine.accounts import service as accounts
from engine.archive import certificates
from engine.archive import service as archive
from engine.archive.types import Certificate, OfflineRecord
from engine.catalog.demo import PLANS
from engine.clock import system_clock, utc_time
from engine.commerce import cards, orders
from engine.commerce.money import yuan
from engine.commerce.types import Order
from engine.demo import seed_demo, seed_demo_if_empty
from engine.demo_history import seed_demo_history
from engine.embedded import FolderBusy, embedded_servers, sole_holder
from engine.errors import DomainError
from engine.help import service as service_info
from engine.help.types import ServicePoint
from engine.logs import configure_logging
from engine.seed import SeedReport, seed_base
from engine.settings import Settings, SettingsError, load_settings
from web import messages_cli
from web.app import create_portal
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
    cards_commands = commands.add_parser("cards", help="study cards (学习卡)").add_subparsers(
        dest="cards_command", required=True
    )
    generate_parser = cards_commands.add_parser(
        "generate", help="create a batch of cards; write their numbers and passwords to a CSV"
    )
    generate_parser.add_argument("--count", type=int, required=True, help="how many cards")
    generate_parser.add_argument(
        "--value", type=int, required=True, metavar="FEN", help="face value in fen (3000: ¥30.00)"
    )
    generate_parser.add_argument("--batch", help="batch name (default: cards-<UTC time>)")
    generate_parser.add_argument(
        "--out", type=Path, metavar="FILE.csv", help="default: <batch>.csv here; never overwritten"
    )
    orders_commands = commands.add_parser("orders", help="orders (administration)").add_subparsers(
        dest="orders_command", required=True
    )
    refund_parser = orders_commands.add_parser(
        "refund", help="refund a paid order to the learner's balance"
    )
    refund_parser.add_argument("order_id", type=int)
    _add_service_points_parser(commands)
    archive_commands = commands.add_parser(
        "archive", help="learners' archives (administration)"
    ).add_subparsers(dest="archive_command", required=True)
    offline_parser = archive_commands.add_parser(
        "add", help="enter a 线下档案 record: training a learner did away from the portal"
    )
    offline_parser.add_argument("--username", required=True, help="the learner's username")
    offline_parser.add_argument(
        "--kind", required=True, choices=["public", "professional"], help="公需科目 or 专业科目"
    )
    offline_parser.add_argument("--title", required=True, help="the training's name")
    offline_parser.add_argument("--hours", required=True, help="学时, e.g. 8 or 1.5")
    offline_parser.add_argument(
        "--completed-on",
        required=True,
        metavar="YYYY-MM-DD",
        help="its year is the one it counts for",
    )
    offline_parser.add_argument("--organiser", default="", help="who held it")
    certificate_commands = commands.add_parser(
        "certificates", help="certificates (administration)"
    ).add_subparsers(dest="certificates_command", required=True)
    revoke_parser = certificate_commands.add_parser(
        "revoke", help="revoke a certificate; its verify page then says so, with the reason"
    )
    revoke_parser.add_argument("serial")
    revoke_parser.add_argument("--reason", required=True, help="shown on the verify page")
    messages_cli.add_parsers(commands)
    teachers_commands = commands.add_parser(
        "teachers", help="teachers of courses (administration)"
    ).add_subparsers(dest="teachers_command", required=True)
    grant_parser = teachers_commands.add_parser(
        "grant", help="make a user a course's teacher: answers its 问答, hides its messages"
    )
    grant_parser.add_argument("username")
    grant_parser.add_argument("course_id", type=int)
    args = parser.parse_args(argv)
    try:
        settings = command_settings(args.command, os.environ)
    except SettingsError as exc:
        sys.exit(f"jixu: bad configuration: {exc}")
    configure_logging(settings)
    if args.command == "seed":
        seed(settings, demo=args.demo)
        return
    if args.command == "cards":
        generate_cards(
            settings, count=args.count, value_fen=args.value, batch=args.batch, out=args.out
        )
        return
    if args.command == "orders":
        refund_order(settings, args.order_id)
        return
    if args.command == "service-points":
        edit_service_points(settings, args)
        return
    if args.command == "archive":
        add_offline_record(
            settings,
            username=args.username,
            kind=args.kind,
            title=args.title,
            hours=args.hours,
            completed_on=args.completed_on,
            organiser=args.organiser,
        )
        return
    if args.command == "certificates":
        revoke_certificate(settings, args.serial, args.reason)
        return
    if args.command == "messages":
        messages_cli.run(settings, args, _on_database)
        return
    if args.command == "teachers":
        grant_teacher(settings, args.username, args.course_id)
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
    with _sole_run(settings), _servers(settings) as settings:
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


def generate_cards(
    settings: Settings,
    *,
    count: int,
    value_fen: int,
    batch: str | None = None,
    out: Path | None = None,
) -> Path:
    """Create study cards and write `card_no,password,value_fen,batch` rows to a new CSV file.

    The file is created first, readable by its owner only, and never overwritten: the
    passwords exist nowhere else (the database keeps their hashes).
    """
    batch = batch or utc_time(system_clock()).strftime("cards-%Y%m%d-%H%M%S")
    out = out or Path(re.sub(r"[^\w.-]", "_", batch) + ".csv")
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        sys.exit(f"jixu cards generate: cannot create {out}: {exc.strerror}")
    with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as file:
        started = time.perf_counter()
        try:
            created = _on_database(
                settings, lambda pool: cards.generate(pool, count, value_fen, batch)
            )
        except BaseException:
            out.unlink()
            raise
        writer = csv.writer(file)
        writer.writerow(["card_no", "password", "value_fen", "batch"])
        writer.writerows((card_no, password, value_fen, batch) for card_no, password in created)
    print(
        f"wrote {len(created)} card(s) of {yuan(value_fen)} (batch {batch!r}) to {out} "
        f"in {time.perf_counter() - started:.1f}s; keep it safe: it holds the passwords"
    )
    return out


def refund_order(settings: Settings, order_id: int) -> Order:
    """An administrator's refund of a paid order to the learner's balance."""
    order = _on_database(settings, lambda pool: orders.refund(pool, order_id))
    print(
        f"order {order.id} ({order.out_trade_no}) is {order.status}: "
        f"{yuan(order.amount_fen)} returned to the learner's balance"
    )
    return order


def _add_service_points_parser(commands: "argparse._SubParsersAction[Any]") -> None:
    points = commands.add_parser(
        "service-points", help="the offline service points (发票领取和学习卡购买, administration)"
    ).add_subparsers(dest="points_command", required=True)
    points.add_parser("list", help="list the service points")
    add = points.add_parser("add", help="add a service point")
    edit = points.add_parser("edit", help="change the given fields of a service point")
    edit.add_argument("point_id", type=int)
    for sub, required in ((add, True), (edit, False)):
        for field, label in service_info.POINT_FIELDS.items():
            sub.add_argument(f"--{field}", required=required and field != "unit", help=label)
        sub.add_argument("--position", type=int, help="its place in the list (add: last)")
    points.add_parser("remove", help="remove a service point").add_argument("point_id", type=int)


def edit_service_points(settings: Settings, args: argparse.Namespace) -> None:
    """An administrator's list, add, edit or remove of the service points the portal shows."""
    fields = {field: getattr(args, field, None) for field in service_info.POINT_FIELDS}
    command = args.points_command

    async def work(pool: asyncpg.Pool) -> list[ServicePoint]:
        if command == "add":
            await service_info.add_service_point(pool, position=args.position, **fields)
        elif command == "edit":
            await service_info.edit_service_point(
                pool, args.point_id, position=args.position, **fields
            )
        elif command == "remove":
            await service_info.remove_service_point(pool, args.point_id)
        return await service_info.service_points(pool)

    for point in _on_database(settings, work):
        unit = f"：{point.unit}" if point.unit else ""
        print(
            f"{point.id}\t[{point.position}] {point.name}{unit} | 联系电话 {point.phone} | "
            f"地址 {point.address} | 对外办公时间 {point.hours}"
        )


def add_offline_record(
    settings: Settings,
    *,
    username: str,
    kind: str,
    title: str,
    hours: str,
    completed_on: str,
    organiser: str = "",
) -> OfflineRecord:
    """An administrator's 线下档案 entry; it counts toward the year it was completed in."""
    now = utc_time(system_clock())
    record = _on_database(
        settings,
        lambda pool: archive.add_offline_record(
            pool,
            username=username,
            kind=kind,
            title=title,
            organiser=organiser,
            hours_text=hours,
            completed_on=completed_on,
            now=now,
        ),
    )
    print(
        f"offline record {record.id} added for {username}: {record.title}, "
        f"{record.hours:g} hours ({record.kind}, {record.year})"
    )
    return record


def revoke_certificate(settings: Settings, serial: str, reason: str) -> Certificate:
    """An administrator's revocation of a certificate, with the reason its verify page gives."""
    now = utc_time(system_clock())
    revoked = _on_database(settings, lambda pool: certificates.revoke(pool, serial, reason, now))
    print(f"certificate {revoked.serial} revoked: {reason.strip()}")
    return revoked


def grant_teacher(settings: Settings, username: str, course_id: int) -> int:
    """An administrator's grant of the teacher role in one course; the user's id."""
    user_id = _on_database(settings, lambda pool: accounts.grant_teacher(pool, username, course_id))
    print(
        f"{username} (user {user_id}) now teaches course {course_id}:"
        f" 讨论与答疑 at /courses/{course_id}/rooms"
    )
    return user_id


def _on_database(settings: Settings, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """Run `work` on a pool of the configured (or embedded) and migrated PostgreSQL.

    A refusal of the domain or an unmigrated database ends the command with its message.
    """

    async def main(url: str) -> T:
        pool = await db.create_pool(url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as connection:
                await db.require_migrated(connection)
            return await work(pool)
        finally:
            await pool.close()

    with _servers(settings) as served:
        assert served.database_url is not None
        try:
            return asyncio.run(main(served.database_url))
        except DomainError as exc:
            fields = getattr(exc, "fields", {})
            sys.exit(f"jixu: {'；'.join(fields.values()) or exc.message}")
        except db.PendingMigrations as exc:
            sys.exit(f"jixu: {exc}")


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
