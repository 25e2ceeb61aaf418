"""成绩导出: an exam's results as CSV for its administrators, read in batches and
streamed; opening a download is audited (learners' personal data leave the portal)."""

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg

from engine.admin import audit
from engine.admin.scope import Scope, require
from engine.clock import CHINA
from engine.errors import NotFound
from engine.exams import admin_store as store
from engine.exams.admin import EXAM_NOT_FOUND
from engine.exams.admin_types import ResultsExport

RESULT_HEADER = [
    "姓名", "用户名", "单位", "考试次数", "最高分", "是否通过", "首次开考时间", "最近交卷时间",
    "通过时间",
]  # fmt: skip
RESULT_BATCH = 500


async def results_export(pool: asyncpg.Pool, scope: Scope, exam_id: int) -> ResultsExport:
    """Open a results download (learners' personal data leave the portal: audited)."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        found = await store.exam(connection, exam_id, scope.org_id)
        if found is None:
            raise NotFound(EXAM_NOT_FOUND)
        exam, course = found
        await audit.record(
            connection,
            scope,
            "exam.export_results",
            kind="exam",
            object_id=exam_id,
            org_id=course.org_id,
        )
    safe_title = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", exam.rules.title)
    return ResultsExport(exam_id=exam_id, title=exam.rules.title, filename=f"{safe_title}-成绩.csv")


async def result_lines(pool: asyncpg.Pool, scope: Scope, exam_id: int) -> AsyncIterator[bytes]:
    """The results as CSV (UTF-8 with the BOM Excel needs), a line at a time, read a batch of
    learners per query: never the whole exam in memory, and no connection held while a slow
    client takes its time."""
    require(scope, "admin")
    found = await store.exam(pool, exam_id, scope.org_id)
    if found is None:
        raise NotFound(EXAM_NOT_FOUND)
    yield b"\xef\xbb\xbf" + _csv_line(RESULT_HEADER)
    after = 0
    while rows := await store.results(pool, found[0], scope.org_id, after, RESULT_BATCH):
        for row in rows:
            yield _csv_line(
                [
                    row["real_name"],
                    row["username"],
                    row["org_name"],
                    str(row["attempts"]),
                    "" if row["best_score"] is None else str(row["best_score"]),
                    "是" if row["passed"] else "否",
                    _local(row["first_started"]),
                    _local(row["last_submitted"]),
                    _local(row["passed_at"]),
                ]
            )
        after = rows[-1]["id"]


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow([_inert(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def _inert(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a quote."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
