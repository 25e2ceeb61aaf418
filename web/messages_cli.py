"""`jixu messages …`: notices, announcements and surveys posted by an administrator, and the
reports of 站内信, until the administration pages exist."""

import argparse
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from engine.messages import service as messages
from engine.messages import surveys
from engine.messages.types import SurveyDraft
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
    reports = parsers.add_parser("reports", help="list the latest reports of 站内信")
    reports.add_argument("--limit", type=int, default=50)


def run(settings: Settings, args: argparse.Namespace) -> None:
    """Run the `messages` subcommand `args` names."""
    command = args.messages_command
    if command == "notice":
        sent = on_database(
            settings, lambda pool: messages.notify_learners(pool, args.to, args.title, args.body)
        )
        print(f"sent a notice to {sent} learner(s)")
    elif command == "announce":

        async def post(pool: asyncpg.Pool) -> int:
            org = await messages.org_id(pool, args.org)
            return await messages.announce(pool, args.title, args.body, org)

        print(f"posted the announcement to {on_database(settings, post)} learner(s)")
    elif command == "survey":
        try:
            draft = msgspec.json.decode(args.file.read_bytes(), type=SurveyDraft)
        except (OSError, msgspec.DecodeError) as exc:
            raise SystemExit(f"jixu messages survey: {args.file}: {exc}") from None

        async def post_survey(pool: asyncpg.Pool) -> tuple[int, int]:
            return await surveys.post(pool, draft, await messages.org_id(pool, args.org))

        survey_id, sent = on_database(settings, post_survey)
        print(f"posted survey {survey_id} to {sent} learner(s)")
    else:
        for report in on_database(settings, lambda pool: messages.reports(pool, args.limit)):
            print(
                f"#{report.id} {report.created_at:%Y-%m-%d %H:%M} {report.reporter} reported "
                f"message {report.message_id} from {report.sender}: {report.reason!r}\n"
                f"    {report.title!r}: {report.body[:200]!r}"
            )
