"""The reports' CSV exports: one line per enrolment, learner, exam result or order item, read
in batches of BATCH rows (after a key, or from a cursor) and yielded a line at a time (UTF-8 with the BOM Excel needs), so a
download of 100,000 learners holds one batch in memory. Opening one is audited: learners'
names leave the portal."""

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Literal

import asyncpg

from engine.accounts.options import TITLE_LEVELS
from engine.admin import audit
from engine.admin.scope import Scope
from engine.catalog.measures import hours
from engine.clock import CHINA
from engine.commerce.money import plain_yuan
from engine.reports import store
from engine.reports.service import check_year, report_root, year_bounds

Report = Literal["completion", "hours", "exams", "revenue"]
BATCH = 1000
STATES = {"learning": "学习中", "passed": "已通过"}
METHOD_NAMES = {"balance": "余额支付", "alipay": "支付宝", "bank": "网银支付"}


async def open_export(
    pool: asyncpg.Pool, scope: Scope, report: Report, org_id: int | None
) -> int | None:
    """Check the organisation and record the download; the subtree's root to export."""
    async with pool.acquire() as connection, connection.transaction():
        root = await report_root(connection, scope, org_id)
        await audit.record(
            connection, scope, "report.export", kind="report", object_id=report, org_id=root
        )
    return root


async def completion_lines(
    pool: asyncpg.Pool, root: int | None, year: int | None, plan_id: int | None
) -> AsyncIterator[bytes]:
    if year is not None:
        check_year(year)
    yield b"\xef\xbb\xbf" + _csv_line(
        ["姓名", "用户名", "单位", "培训计划", "年度", "状态", "已获学时", "激活时间", "通过时间"]
    )
    after = (0, 0)
    while rows := await store.completion_rows(pool, root, year, plan_id, after, BATCH):
        for row in rows:
            yield _csv_line(
                [
                    row["real_name"],
                    row["username"],
                    row["org_name"],
                    row["plan_title"],
                    str(row["year"]),
                    STATES[row["state"]],
                    f"{hours(row['earned_tenths']):g}",
                    _local(row["activated_at"]),
                    _local(row["passed_at"]),
                ]
            )
        after = (rows[-1]["learner_id"], rows[-1]["plan_id"])


async def hours_lines(pool: asyncpg.Pool, root: int | None, year: int) -> AsyncIterator[bytes]:
    check_year(year)
    yield b"\xef\xbb\xbf" + _csv_line(
        ["姓名", "用户名", "单位", "职称级别", "年度", "应修学时", "已修学时", "差额学时"]
    )
    async for row in store.hours_rows(pool, root, year, BATCH):
        required, earned = row["required_tenths"], row["earned_tenths"]
        yield _csv_line(
            [
                row["real_name"],
                row["username"],
                row["org_name"],
                TITLE_LEVELS.get(row["title_level"] or "", ""),
                str(year),
                f"{hours(required):g}",
                f"{hours(earned):g}",
                f"{hours(max(0, required - earned)):g}",
            ]
        )


async def exam_lines(
    pool: asyncpg.Pool, root: int | None, exam_id: int | None
) -> AsyncIterator[bytes]:
    yield b"\xef\xbb\xbf" + _csv_line(
        ["考试", "姓名", "用户名", "单位", "最高分", "满分", "是否通过", "通过时间"]
    )
    after = (0, 0)
    while rows := await store.exam_rows(pool, root, exam_id, after, BATCH):
        for row in rows:
            yield _csv_line(
                [
                    row["exam_title"],
                    row["real_name"],
                    row["username"],
                    row["org_name"],
                    str(row["best_score"]),
                    str(row["total_score"]),
                    "是" if row["passed"] else "否",
                    _local(row["passed_at"]),
                ]
            )
        after = (rows[-1]["learner_id"], rows[-1]["exam_id"])


async def revenue_lines(pool: asyncpg.Pool, root: int | None, year: int) -> AsyncIterator[bytes]:
    """A line per course of each order: its payment in the year, and its refund in the year
    as a negative amount."""
    start, end = year_bounds(check_year(year))
    yield b"\xef\xbb\xbf" + _csv_line(
        [
            "订单号",
            "姓名",
            "用户名",
            "单位",
            "支付方式",
            "类型",
            "时间",
            "培训计划",
            "课程",
            "金额（元）",
        ]
    )
    after = 0
    while rows := await store.revenue_rows(pool, root, start, end, after, BATCH):
        for row in rows:
            moves = [("支付", row["paid_at"], row["price_fen"])]
            if row["status"] == "refunded":
                moves.append(("退款", row["closed_at"], -row["price_fen"]))
            for kind, at, fen in moves:
                if start <= at < end:
                    yield _csv_line(
                        [
                            row["out_trade_no"],
                            row["real_name"],
                            row["username"],
                            row["org_name"],
                            METHOD_NAMES[row["method"]],
                            kind,
                            _local(at),
                            row["plan_title"],
                            row["course_title"],
                            plain_yuan(fen),
                        ]
                    )
        after = rows[-1]["id"]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _csv_line(cells: list[str]) -> bytes:
    """A CSV line whose text cells a spreadsheet shows as text (one starting like a formula
    gets a quote) and whose numbers, negative ones too, stay numbers."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow([_inert(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def _inert(cell: str) -> str:
    if NUMBER.fullmatch(cell) or cell[:1] not in FORMULA_STARTS:
        return cell
    return "'" + cell


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
