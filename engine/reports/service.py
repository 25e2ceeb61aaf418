"""统计报表: the figures of an administrator's learners — plans completed, the year's hours
against the statutory requirement, exam results, and money taken net of refunds.

Everything counts the learners of the scope's subtree (or of an organisation chosen within
it), whoever owns the plan, exam or course: a platform plan shows in a district's reports
with that district's learners only, and a plan of another subtree shows only if one of the
scope's learners is in it (it then was offered to them)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from engine.accounts import admin as accounts_admin
from engine.accounts.types import Org
from engine.admin.paging import PAGE_SIZE, Page
from engine.admin.scope import Scope, require
from engine.archive import compliance
from engine.clock import CHINA
from engine.db import Executor
from engine.errors import InvalidInput, NotFound
from engine.reports import store
from engine.reports.types import (
    Completion,
    CompletionReport,
    ExamRate,
    HoursSummary,
    RevenueLine,
    RevenueReport,
    RevenueTotal,
    ScoreBin,
    ShortLearner,
)

ORG_NOT_FOUND = "没有该组织机构"
EXAM_NOT_FOUND = "没有该考试的成绩"
# Earned hours in bins of 12 学时 (one and a half days): 96 and 144 fall on bin edges.
HOURS_BIN_TENTHS = 120
HOURS_BINS = compliance.SENIOR_REQUIRED_TENTHS // HOURS_BIN_TENTHS + 1
SCORE_BINS = 10
METHODS = ("balance", "alipay", "bank")


def check_year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise InvalidInput({"year": "年度应在2000至2100之间"}, "年度应在2000至2100之间")
    return year


async def report_root(db: Executor, scope: Scope, org_id: int | None) -> int | None:
    """The subtree a report covers: the organisation chosen (NotFound outside the scope), or
    the whole scope."""
    require(scope, "admin")
    if org_id is None:
        return scope.org_id
    if not await accounts_admin.org_in_scope(db, scope, org_id):
        raise NotFound(ORG_NOT_FOUND)
    return org_id


async def completion(
    db: Executor, scope: Scope, org_id: int | None, year: int | None, plan_id: int | None
) -> CompletionReport:
    """完成情况: plans activated and passed by the subtree's learners, per plan and per
    organisation right below the chosen one (each counting its whole subtree)."""
    root = await report_root(db, scope, org_id)
    if year is not None:
        check_year(year)
    orgs = await accounts_admin.scope_orgs(db, scope)
    by_id = {org.id: org for org in orgs}
    rows = await store.completion(db, root, year, plan_id)
    titles = await store.plan_titles(db, sorted({row["plan_id"] for row in rows}))
    per_plan: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_org: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        for counts in (per_plan[row["plan_id"]], per_org[_branch(by_id, row["org_id"], root)]):
            counts[0] += row["enrolled"]
            counts[1] += row["passed"]
    children = [org for org in orgs if org.parent_id == root] if root is not None else []
    if root is None:
        children = [org for org in orgs if org.parent_id is None or org.parent_id not in by_id]
    shown = ([by_id[root]] if root is not None else []) + children
    org_lines = [
        Completion(
            key=org.id, label=org.name, enrolled=per_org[org.id][0], passed=per_org[org.id][1]
        )
        for org in shown
    ]
    plan_lines = [
        Completion(
            key=plan,
            label=f"{titles[plan][0]}（{titles[plan][1]}）",
            enrolled=counts[0],
            passed=counts[1],
        )
        for plan, counts in sorted(
            per_plan.items(), key=lambda item: (-titles[item[0]][1], item[0])
        )
    ]
    parents = {org.parent_id for org in orgs}
    return CompletionReport(
        org=by_id[root] if root is not None else None,
        path=_path(by_id, root),
        plans=plan_lines,
        orgs=org_lines,
        has_children=frozenset(org.id for org in children if org.id in parents),
        total=Completion(
            key=0,
            label="合计",
            enrolled=sum(line.enrolled for line in plan_lines),
            passed=sum(line.passed for line in plan_lines),
        ),
    )


def _branch(by_id: dict[int, Org], org_id: int, root: int | None) -> int:
    """The organisation right below `root` whose subtree holds `org_id` (`root` itself for
    its own learners)."""
    current = org_id
    while current != root:
        parent = by_id[current].parent_id if current in by_id else None
        if parent == root or parent is None or parent not in by_id:
            return current
        current = parent
    return current


def _path(by_id: dict[int, Org], root: int | None) -> list[Org]:
    path: list[Org] = []
    current = root
    while current is not None and current in by_id:
        path.append(by_id[current])
        current = by_id[current].parent_id
    return path[::-1]


async def offered_plans(db: Executor, scope: Scope) -> list[tuple[int, str]]:
    """The plans a report may be narrowed to: (id, title with its year)."""
    require(scope, "admin")
    return [
        (row["id"], f"{row['title']}（{row['year']}）")
        for row in await store.offered_plans(db, scope.org_id)
    ]


async def hours(
    db: Executor, scope: Scope, org_id: int | None, year: int, page: int
) -> tuple[HoursSummary, Page[ShortLearner]]:
    """学时达标 (F32) of the subtree's learners in `year`: how many are short and by how
    much in all, the learners by earned hours, and the short ones, the furthest first."""
    root = await report_root(db, scope, org_id)
    check_year(year)
    found = await store.hours_page(
        db, root, year, HOURS_BIN_TENTHS, HOURS_BINS, PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    bins = [0] * HOURS_BINS
    short = missing = 0
    for number, learners, short_ones, missing_tenths in found["bins"] or []:
        bins[number] = learners
        short += short_ones
        missing += missing_tenths
    summary = HoursSummary(
        year=year, learners=sum(bins), short=short, missing_tenths=missing, bins=bins
    )
    items = [
        ShortLearner(**dict(zip(ShortLearner.__struct_fields__, row, strict=True)))
        for row in found["short"] or []
    ]
    return summary, Page(items=items, total=short, number=page, size=PAGE_SIZE)


async def exams(
    db: Executor, scope: Scope, org_id: int | None, exam_id: int | None
) -> tuple[list[ExamRate], ExamRate | None, list[ScoreBin]]:
    """考试统计: every exam the subtree's learners have results in (pass rate, mean of the
    kept best scores), and the chosen one's scores in ten bins (default: the most taken)."""
    root = await report_root(db, scope, org_id)
    rates = [ExamRate(**dict(row)) for row in await store.exam_rates(db, root)]
    if exam_id is None:
        chosen = max(rates, key=lambda rate: (rate.takers, -rate.exam_id), default=None)
    else:
        chosen = next((rate for rate in rates if rate.exam_id == exam_id), None)
        if chosen is None:
            raise NotFound(EXAM_NOT_FOUND)
    if chosen is None:
        return rates, None, []
    counts = await store.score_bins(db, root, chosen.exam_id, chosen.total_score, SCORE_BINS)
    return rates, chosen, score_bins(chosen.total_score, counts)


def score_bins(total_score: int, counts: dict[int, int]) -> list[ScoreBin]:
    """Bin i holds the scores s with s × SCORE_BINS // total = i (the full score in the last)."""
    edges = [-(-i * total_score // SCORE_BINS) for i in range(SCORE_BINS + 1)]
    return [
        ScoreBin(
            low=edges[i],
            high=edges[i + 1] - 1 if i < SCORE_BINS - 1 else total_score,
            learners=counts.get(i, 0),
        )
        for i in range(SCORE_BINS)
    ]


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A year of China's calendar as [start, end) instants."""
    return datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)


async def revenue(db: Executor, scope: Scope, org_id: int | None, year: int) -> RevenueReport:
    """收入统计: what the subtree's learners paid in the year, by month, payment method and
    plan, each refund taken off in the month it was made."""
    root = await report_root(db, scope, org_id)
    rows = await store.revenue(db, root, check_year(year))
    titles = await store.plan_titles(db, sorted({row["plan_id"] for row in rows}))
    lines = [
        RevenueLine(
            month=row["month"],
            method=row["method"],
            plan_id=row["plan_id"],
            plan_title=f"{titles[row['plan_id']][0]}（{titles[row['plan_id']][1]}）",
            paid_fen=row["paid_fen"],
            refunded_fen=row["refunded_fen"],
        )
        for row in rows
    ]
    months = [f"{year}-{month:02d}" for month in range(1, 13)]
    by_month_method = {month: dict.fromkeys(METHODS, 0) for month in months}
    for line in lines:
        by_month_method[line.month][line.method] += line.net_fen
    by_plan = _totals(lines, lambda line: line.plan_title)
    return RevenueReport(
        year=year,
        months=months,
        by_month_method=by_month_method,
        by_plan=sorted(by_plan, key=lambda total: -total.net_fen),
        by_method=_totals(lines, lambda line: line.method, METHODS),
        by_month=_totals(lines, lambda line: line.month, months),
        total=RevenueTotal(
            label="合计",
            paid_fen=sum(line.paid_fen for line in lines),
            refunded_fen=sum(line.refunded_fen for line in lines),
        ),
    )


def _totals(
    lines: list[RevenueLine], key: Callable[[RevenueLine], str], order: Iterable[str] = ()
) -> list[RevenueTotal]:
    sums: dict[str, list[int]] = {label: [0, 0] for label in order}
    for line in lines:
        counts = sums.setdefault(key(line), [0, 0])
        counts[0] += line.paid_fen
        counts[1] += line.refunded_fen
    return [
        RevenueTotal(label=label, paid_fen=paid, refunded_fen=refunded)
        for label, (paid, refunded) in sums.items()
    ]
