"""`jixu messages …`: notices, announcements and surveys posted by the operator, and the open
reports of 站内信, through the services (and audit log) of the administration pages."""

import argparse
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from engine.admin.operator import command_line_scope
from engine.messages import admin, queues
from engine.messages.types import ReportedLetter, SurveyDraft
from engine.settings import Settings
from web.stores import on_database


def add_parsers(commands: Any) -> None:
    """The `messages` command and its subcommands."""
    parsers = commands.add_parser("messages", help="我的消息 (administration)").add_subparsers(
        dest="messages_command", required=True
    )
    notice = parsers.add_parser("notice", help="send a 系统通知 to learners")
    notice.add_argument("--to", action="append", required=True, metavar="USERNAME")
    notice.add_argument("--title", required=True)
    notice.add_argument("--body", required=True)
    announce = parsers.add_parser("announce", help="post a 公告 to every learner")
    announce.add_argument("--title", required=True)
    announce.add_argument("--body", required=True)
    announce.add_argument("--org", metavar="CODE", help="only the learners of this organisation")
    survey = parsers.add_parser(
        "survey", help='post a 调查问卷: a JSON file {"title", "intro", "questions": [...]}'
    )
    survey.add_argument("file", type=Path, metavar="FILE.json")
    survey.add_argument("--org", metavar="CODE", help="only the learners of this organisation")
    reports = parsers.add_parser("reports", help="list the open reports of 站内信, newest first")
    reports.add_argument("--page", type=int, default=1, help="20 a page")


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run the `messages` subcommand `args` names."""
    command = args.messages_command
    if command == "notice":

        async def notice(pool: asyncpg.Pool) -> int:
            scope = await command_line_scope(pool)
            return (await admin.send_notice(pool, scope, args.to, args.title, args.body))[1]

        print(f"sent a notice to {on_database(settings, notice)} learner(s)")
    elif command == "announce":

        async def post(pool: asyncpg.Pool) -> int:
            scope = await command_line_scope(pool)
            org = await admin.org_by_code(pool, args.org)
            return (await admin.announce(pool, scope, args.title, args.body, org))[1]

        print(f"posted the announcement to {on_database(settings, post)} learner(s)")
    elif command == "survey":
        try:
            draft = msgspec.json.decode(args.file.read_bytes(), type=SurveyDraft)
        except (OSError, msgspec.DecodeError) as exc:
            raise SystemExit(f"jixu messages survey: {args.file}: {exc}") from None

        async def post_survey(pool: asyncpg.Pool) -> tuple[int, int]:
            scope = await command_line_scope(pool)
            org = await admin.org_by_code(pool, args.org)
            return await admin.post_survey(pool, scope, draft, org)

        survey_id, sent = on_database(settings, post_survey)
        print(f"posted survey {survey_id} to {sent} learner(s)")
    else:

        async def reports(pool: asyncpg.Pool) -> list[ReportedLetter]:
            scope = await command_line_scope(pool)
            return (await queues.reported_letters(pool, scope, args.page)).items

        for report in on_database(settings, reports):
            print(
                f"#{report.id} {report.created_at:%Y-%m-%d %H:%M} {report.reporter} reported "
                f"message {report.message_id} from {report.sender}: {report.reason!r}\n"
                f"    {report.title!r}: {report.body[:200]!r}"
            )
