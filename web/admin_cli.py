"""The administrator's `jixu` commands, until the administration pages exist: study cards,
refunds, service points, offline archive records, certificate revocation, teachers."""

import argparse
import os
import re
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg

from engine.accounts import service as accounts
from engine.admin.operator import command_line_scope
from engine.archive import admin as archive
from engine.archive.types import ManagedCertificate, ManagedRecord, RecordForm
from engine.clock import china_time, system_clock, utc_time
from engine.commerce import admin as commerce_admin
from engine.commerce import cards
from engine.commerce.money import yuan
from engine.commerce.types import CreatedBatch, NewBatch, Order
from engine.help import service as service_info
from engine.help.types import ServicePoint
from engine.settings import Settings
from web.stores import on_database


def add_parsers(commands: "argparse._SubParsersAction[Any]") -> None:
    """The administrator's commands and their subcommands."""
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
        "--valid-until",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the last day the cards can be redeemed (default: no end)",
    )
    generate_parser.add_argument(
        "--org",
        type=int,
        metavar="ORG_ID",
        help="the issuing organisation: only its subtree's learners can redeem the cards "
        "(default: the platform's, every learner)",
    )
    generate_parser.add_argument(
        "--out", type=Path, metavar="FILE.csv", help="default: <batch>.csv here; never overwritten"
    )
    _add_actor_argument(generate_parser)
    orders_commands = commands.add_parser("orders", help="orders (administration)").add_subparsers(
        dest="orders_command", required=True
    )
    refund_parser = orders_commands.add_parser(
        "refund", help="refund a paid order to the learner's balance"
    )
    refund_parser.add_argument("order_id", type=int)
    _add_actor_argument(refund_parser)
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
    teachers_commands = commands.add_parser(
        "teachers", help="teachers of courses (administration)"
    ).add_subparsers(dest="teachers_command", required=True)
    grant_parser = teachers_commands.add_parser(
        "grant", help="make a user a course's teacher: answers its 问答, hides its messages"
    )
    grant_parser.add_argument("username")
    grant_parser.add_argument("course_id", type=int)


def _add_actor_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by",
        metavar="USERNAME",
        help="the administrator acting (audited; scope of their organisation);"
        " default: the first super administrator",
    )


def run(settings: Settings, args: argparse.Namespace) -> bool:
    """Run the administrator's command `args` names; False when it names none of them."""
    if args.command == "cards":
        generate_cards(
            settings,
            count=args.count,
            value_fen=args.value,
            batch=args.batch,
            valid_until=args.valid_until,
            org=args.org,
            out=args.out,
            by=args.by,
        )
        return True
    if args.command == "orders":
        refund_order(settings, args.order_id, by=args.by)
        return True
    if args.command == "service-points":
        edit_service_points(settings, args)
        return True
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
        return True
    if args.command == "certificates":
        revoke_certificate(settings, args.serial, args.reason)
        return True
    if args.command == "teachers":
        grant_teacher(settings, args.username, args.course_id)
        return True
    return False


def generate_cards(
    settings: Settings,
    *,
    count: int,
    value_fen: int,
    batch: str | None = None,
    valid_until: date | None = None,
    org: int | None = None,
    out: Path | None = None,
    by: str | None = None,
) -> Path:
    """Create a batch of study cards as administrator `by` (the pages' use case, audited) and
    write its CSV (`card_no,password,value_fen,batch,valid_until`) to a new file.

    The file is created first, readable by its owner only, and never overwritten: the
    passwords exist nowhere else (the database keeps their hashes).
    """
    now = system_clock()
    batch = batch or utc_time(now).strftime("cards-%Y%m%d-%H%M%S")
    out = out or Path(re.sub(r"[^\w.-]", "_", batch) + ".csv")

    async def work(pool: asyncpg.Pool) -> CreatedBatch:
        scope = await command_line_scope(pool, by)
        new = NewBatch(
            name=batch, count=count, value_fen=value_fen, valid_until=valid_until, org_id=org
        )
        return await commerce_admin.create_batch(pool, scope, new, china_time(now).date())

    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        sys.exit(f"jixu cards generate: cannot create {out}: {exc.strerror}")
    with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as file:
        started = time.perf_counter()
        try:
            created = on_database(settings, work)
        except BaseException:
            out.unlink()
            raise
        file.write(cards.cards_csv(created.batch, created.cards))
    print(
        f"wrote {len(created.cards)} card(s) of {yuan(value_fen)} (batch {created.batch.id}, "
        f"{batch!r}) to {out} in {time.perf_counter() - started:.1f}s; "
        "keep it safe: it holds the passwords"
    )
    return out


def refund_order(settings: Settings, order_id: int, *, by: str | None = None) -> Order:
    """Administrator `by`'s refund of a paid order to the learner's balance (audited)."""

    async def work(pool: asyncpg.Pool) -> Order:
        scope = await command_line_scope(pool, by)
        return (await commerce_admin.refund_order(pool, scope, order_id)).order

    order = on_database(settings, work)
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

    for point in on_database(settings, work):
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
) -> ManagedRecord:
    """The operator's 线下档案 entry; it counts toward the year it was completed in."""
    now = utc_time(system_clock())
    form = RecordForm(
        username=username,
        kind=kind,
        title=title,
        organiser=organiser,
        hours=hours,
        completed_on=completed_on,
    )

    async def add(pool: asyncpg.Pool) -> ManagedRecord:
        return await archive.add_offline_record(pool, await command_line_scope(pool), form, now)

    record = on_database(settings, add)
    print(
        f"offline record {record.id} added for {username}: {record.title}, "
        f"{record.hours:g} hours ({record.kind}, {record.year})"
    )
    return record


def revoke_certificate(settings: Settings, serial: str, reason: str) -> ManagedCertificate:
    """The operator's revocation of a certificate, with the reason its verify page gives."""
    now = utc_time(system_clock())

    async def revoke(pool: asyncpg.Pool) -> ManagedCertificate:
        scope = await command_line_scope(pool)
        return await archive.revoke_certificate(pool, scope, serial, reason, now)

    revoked = on_database(settings, revoke)
    print(f"certificate {revoked.serial} revoked: {reason.strip()}")
    return revoked


def grant_teacher(settings: Settings, username: str, course_id: int) -> int:
    """An administrator's grant of the teacher role in one course; the user's id."""
    user_id = on_database(settings, lambda pool: accounts.grant_teacher(pool, username, course_id))
    print(
        f"{username} (user {user_id}) now teaches course {course_id}:"
        f" 讨论与答疑 at /courses/{course_id}/rooms"
    )
    return user_id
