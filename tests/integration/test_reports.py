"""统计报表: the figures equal counts made here, independently, over a small data set inserted
row by row; an administrator sees its own subtree's learners and nothing of another's; the
pages and their CSV exports answer for every filter."""

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.admin.scope import Scope
from engine.archive import compliance
from engine.clock import CHINA
from engine.demo import seed_demo
from engine.errors import InvalidInput, NotFound
from engine.population.load import seed_population
from engine.reports import exports, service
from engine.seed import seed_base
from tests.admin_client import Browser
from tests.admin_world import insert_org, insert_user

YEAR = 2026


@dataclass(frozen=True)
class Learner:
    key: str
    org: str  # "a", "a1", "b"
    title_level: str | None
    # plan key → (state, earned tenths)
    enrolments: dict[str, tuple[str, int]]
    offline: dict[int, int]  # year → tenths
    exam: tuple[int, bool] | None  # best score, passed


PLANS = {"p1": (None, YEAR), "p2": ("a", YEAR), "p3": (None, YEAR - 1)}
LEARNERS = [
    Learner("l1", "a", "senior", {"p1": ("passed", 600), "p2": ("learning", 300)}, {YEAR: 200}, (85, True)),
    Learner("l2", "a1", "intermediate", {"p1": ("passed", 960)}, {YEAR - 1: 500}, (40, False)),
    Learner("l3", "a1", None, {}, {}, None),
    Learner("l4", "b", "associate_senior", {"p1": ("learning", 100), "p3": ("passed", 960)}, {}, (100, True)),
    Learner("l5", "b", "junior", {"p1": ("passed", 980)}, {}, (60, True)),
]  # fmt: skip
SUBTREES = {"root": {"a", "a1", "b"}, "a": {"a", "a1"}, "a1": {"a1"}, "b": {"b"}}


@dataclass(frozen=True)
class Order:
    learner: str
    method: str
    paid_at: datetime
    refunded_at: datetime | None
    items: tuple[tuple[str, int], ...]  # (plan key, price in fen)


ORDERS = [
    Order("l1", "alipay", datetime(2026, 3, 10, 2, tzinfo=UTC), None, (("p1", 5000), ("p2", 3000))),
    Order("l2", "balance", datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC), (("p1", 5000),)),
    Order("l4", "bank", datetime(2026, 5, 1, tzinfo=UTC), None, (("p1", 4500),)),
    # 2026-01-01 00:30 in China: January of 2026, not 2025.
    Order("l3", "alipay", datetime(2025, 12, 31, 16, 30, tzinfo=UTC), None, (("p1", 700),)),
    # Paid in 2025, refunded in 2026: only the refund is 2026's.
    Order("l5", "balance", datetime(2025, 12, 20, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC), (("p1", 900),)),
]  # fmt: skip


@dataclass
class Data:
    orgs: dict[str, int]
    plans: dict[str, int]
    learners: dict[str, int]
    admins: dict[str, int]
    exam_id: int


async def insert_data(database_url: str) -> Data:
    connection = await asyncpg.connect(database_url)
    try:
        root = await insert_org(connection, "根组织", None)
        a = await insert_org(connection, "组织A", root)
        orgs = {"root": root, "a": a, "a1": await insert_org(connection, "组织A1", a)}
        orgs["b"] = await insert_org(connection, "组织B", root)
        plans, courses = {}, {}
        for key, (owner, year) in PLANS.items():
            owner_id = orgs[owner] if owner else None
            plans[key] = await connection.fetchval(
                """INSERT INTO plans (code, title, kind, year, opens_at, closes_at, org_id)
                   VALUES ($1, $2, 'public', $3, '2020-01-01', '2030-01-01', $4) RETURNING id""",
                f"plan-{key}",
                f"计划{key}",
                year,
                owner_id,
            )
            courses[key] = await connection.fetchval(
                """INSERT INTO courses (code, title, hour_tenths, org_id)
                   VALUES ($1, $2, 100, $3) RETURNING id""",
                f"course-{key}",
                f"课程{key}",
                owner_id,
            )
            await connection.execute(
                "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2)",
                plans[key],
                courses[key],
            )
        exam_id = await connection.fetchval(
            """INSERT INTO exams (course_id, title, opens_at, closes_at, duration_s, total_score,
                                  pass_score, recipe)
               VALUES ($1, '考试一', '2020-01-01', '2030-01-01', 600, 100, 60, '{}') RETURNING id""",
            courses["p1"],
        )
        learners = {}
        for learner in LEARNERS:
            user_id = await insert_user(connection, orgs[learner.org])
            learners[learner.key] = user_id
            await connection.execute(
                "UPDATE users SET title_level = $2 WHERE id = $1", user_id, learner.title_level
            )
            for plan, (state, earned) in learner.enrolments.items():
                await connection.execute(
                    """INSERT INTO enrolments (learner_id, plan_id, state, earned_tenths, passed_at)
                       VALUES ($1, $2, $3, $4, CASE WHEN $3 = 'passed' THEN now() END)""",
                    user_id,
                    plans[plan],
                    state,
                    earned,
                )
            for year, tenths in learner.offline.items():
                await connection.execute(
                    """INSERT INTO offline_records (learner_id, year, kind, title, hour_tenths,
                                                    completed_on, entered_at)
                       VALUES ($1, $2, 'public', '线下培训', $3, make_date($2, 6, 1), now())""",
                    user_id,
                    year,
                    tenths,
                )
            if learner.exam:
                score, passed = learner.exam
                attempt = await connection.fetchval(
                    """INSERT INTO exam_attempts (exam_id, learner_id, number, started_at, deadline,
                                                  status, paper, total_score, score, passed)
                       VALUES ($1, $2, 1, now(), now(), 'submitted', '[]', 100, $3, $4)
                       RETURNING id""",
                    exam_id,
                    user_id,
                    score,
                    passed,
                )
                await connection.execute(
                    """INSERT INTO exam_results (learner_id, exam_id, best_score, best_attempt_id,
                                                 passed)
                       VALUES ($1, $2, $3, $4, $5)""",
                    user_id,
                    exam_id,
                    score,
                    attempt,
                    passed,
                )
        # Not learners: never counted.
        teacher = await insert_user(connection, orgs["a"], role="teacher")
        await connection.execute(
            "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2)", teacher, plans["p1"]
        )
        for number, order in enumerate(ORDERS):
            order_id = await connection.fetchval(
                """INSERT INTO orders (out_trade_no, learner_id, status, amount_fen, method,
                                       paid_at, closed_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
                f"T{number:04d}",
                learners[order.learner],
                "refunded" if order.refunded_at else "paid",
                sum(price for _, price in order.items),
                order.method,
                order.paid_at,
                order.refunded_at,
            )
            for plan, price in order.items:
                await connection.execute(
                    """INSERT INTO order_items (order_id, plan_id, course_id, title, hour_tenths,
                                                price_fen)
                       VALUES ($1, $2, $3, '课程', 100, $4)""",
                    order_id,
                    plans[plan],
                    courses[plan],
                    price,
                )
        await connection.execute(
            """INSERT INTO orders (out_trade_no, learner_id, amount_fen) VALUES ('UNPAID', $1, 99)""",
            learners["l1"],
        )
        admins = {key: await insert_user(connection, orgs[key], role="admin") for key in ("a", "b")}
        admins["super"] = await insert_user(connection, root, role="super")
        return Data(orgs, plans, learners, admins, exam_id)
    finally:
        await connection.close()


@pytest.fixture
async def data(database_url: str) -> Data:
    return await insert_data(database_url)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as created:
        yield created


def scope_of(data: Data, who: str) -> Scope:
    if who == "super":
        return Scope(user_id=data.admins["super"], name="超级管理员", role="super", org_id=None)
    return Scope(user_id=data.admins[who], name="管理员", role="admin", org_id=data.orgs[who])


def of(subtree: str) -> list[Learner]:
    return [learner for learner in LEARNERS if learner.org in SUBTREES[subtree]]


def year_tenths(learner: Learner, year: int) -> int:
    online = sum(
        earned for plan, (_, earned) in learner.enrolments.items() if PLANS[plan][1] == year
    )
    return online + learner.offline.get(year, 0)


@pytest.mark.parametrize("who", ["super", "a", "b"])
async def test_completion_equals_the_counts(pool: asyncpg.Pool, data: Data, who: str) -> None:
    subtree = "root" if who == "super" else who
    report = await service.completion(pool, scope_of(data, who), None, None, None)
    for plan, plan_id in data.plans.items():
        states = [x.enrolments[plan][0] for x in of(subtree) if plan in x.enrolments]
        lines = [line for line in report.plans if line.key == plan_id]
        if not states:
            assert lines == []
            continue
        assert (lines[0].enrolled, lines[0].passed) == (len(states), states.count("passed"))
    by_org = {line.key: (line.enrolled, line.passed) for line in report.orgs}
    # The super administrator starts at the root (its subtree: everything).
    branches = {"super": ["root"], "a": ["a", "a1"], "b": ["b"]}[who]
    assert set(by_org) == {data.orgs[branch] for branch in branches}
    for branch in branches:
        counted = of(branch) if branch != who else [x for x in LEARNERS if x.org == branch]
        states = [state for x in counted for state, _ in x.enrolments.values()]
        assert by_org[data.orgs[branch]] == (len(states), states.count("passed"))
    total = [state for x in of(subtree) for state, _ in x.enrolments.values()]
    assert (report.total.enrolled, report.total.passed) == (len(total), total.count("passed"))


async def test_completion_drills_down_and_filters(pool: asyncpg.Pool, data: Data) -> None:
    report = await service.completion(pool, scope_of(data, "super"), data.orgs["a"], YEAR, None)
    assert [org.name for org in report.path] == ["根组织", "组织A"]
    assert {line.key: line.enrolled for line in report.orgs} == {
        data.orgs["a"]: 2,  # l1 in p1 and p2 (p3 is 2025's)
        data.orgs["a1"]: 1,
    }
    only_p2 = await service.completion(pool, scope_of(data, "super"), None, None, data.plans["p2"])
    assert [(line.key, line.enrolled, line.passed) for line in only_p2.plans] == [
        (data.plans["p2"], 1, 0)
    ]
    with pytest.raises(NotFound):
        await service.completion(pool, scope_of(data, "a"), data.orgs["b"], None, None)
    with pytest.raises(NotFound):
        await service.completion(pool, scope_of(data, "a"), data.orgs["root"], None, None)


@pytest.mark.parametrize("who", ["super", "a", "b"])
@pytest.mark.parametrize("year", [YEAR, YEAR - 1])
async def test_hours_equal_the_counts(pool: asyncpg.Pool, data: Data, who: str, year: int) -> None:
    subtree = "root" if who == "super" else who
    summary, page = await service.hours(pool, scope_of(data, who), None, year, 1)
    expected = {
        data.learners[x.key]: (compliance.required_tenths(x.title_level), year_tenths(x, year))
        for x in of(subtree)
    }
    short = {
        key: required - earned for key, (required, earned) in expected.items() if earned < required
    }
    assert summary.learners == len(expected)
    assert summary.short == len(short) == page.total
    assert summary.missing_tenths == sum(short.values())
    assert sum(summary.bins) == len(expected)
    for _, earned in expected.values():
        assert summary.bins[min(earned // 120, len(summary.bins) - 1)] > 0
    assert {learner.id: learner.missing_tenths for learner in page.items} == short
    assert [learner.missing_tenths for learner in page.items] == sorted(
        short.values(), reverse=True
    )


async def test_hours_rule_is_the_archive_rule(pool: asyncpg.Pool, data: Data) -> None:
    _, page = await service.hours(pool, scope_of(data, "super"), None, YEAR, 1)
    l1 = next(learner for learner in page.items if learner.id == data.learners["l1"])
    assert (l1.required_tenths, l1.earned_tenths) == (1440, 600 + 300 + 200)
    with pytest.raises(InvalidInput):
        await service.hours(pool, scope_of(data, "super"), None, 1999, 1)


@pytest.mark.parametrize("who", ["super", "a", "b"])
async def test_exam_rates_and_scores_equal_the_counts(
    pool: asyncpg.Pool, data: Data, who: str
) -> None:
    subtree = "root" if who == "super" else who
    results = [x.exam for x in of(subtree) if x.exam]
    rates, chosen, bins = await service.exams(pool, scope_of(data, who), None, None)
    assert len(rates) == 1
    assert chosen == rates[0]
    assert (chosen.takers, chosen.passed) == (len(results), sum(p for _, p in results))
    assert chosen.average_score == pytest.approx(sum(s for s, _ in results) / len(results))
    assert [b.learners for b in bins] == [
        sum(1 for s, _ in results if low <= s <= high)
        for low, high in ((b.low, b.high) for b in bins)
    ]
    assert (bins[0].low, bins[-1].high) == (0, 100)


async def test_score_bins_cover_every_score_once() -> None:
    for total in (7, 10, 100, 137):
        bins = service.score_bins(total, {})
        covered = [s for b in bins for s in range(b.low, b.high + 1)]
        assert covered == list(range(total + 1)), total
        for score in range(total + 1):
            index = min(score * service.SCORE_BINS // total, service.SCORE_BINS - 1)
            assert bins[index].low <= score <= bins[index].high


def moves(subtree: str, year: int) -> list[tuple[str, str, str, int]]:
    """(month in China, method, plan, signed fen) of every payment and refund in the year."""
    found = []
    owners = {x.key for x in of(subtree)}
    for order in ORDERS:
        if order.learner not in owners:
            continue
        for at, sign in ((order.paid_at, 1), (order.refunded_at, -1)):
            if at is None:
                continue
            local = at.astimezone(CHINA)
            if local.year == year:
                for plan, price in order.items:
                    found.append((local.strftime("%Y-%m"), order.method, plan, sign * price))
    return found


@pytest.mark.parametrize("who", ["super", "a", "b"])
async def test_revenue_equals_the_sums(pool: asyncpg.Pool, data: Data, who: str) -> None:
    subtree = "root" if who == "super" else who
    expected = moves(subtree, YEAR)
    report = await service.revenue(pool, scope_of(data, who), None, YEAR)
    assert report.total.paid_fen == sum(fen for *_, fen in expected if fen > 0)
    assert report.total.refunded_fen == -sum(fen for *_, fen in expected if fen < 0)
    for month in report.months:
        for method, net in report.by_month_method[month].items():
            assert net == sum(f for m, how, _, f in expected if m == month and how == method)
    for total in report.by_method:
        assert total.net_fen == sum(f for _, how, _, f in expected if how == total.label)
    plan_titles = {f"计划{key}（{PLANS[key][1]}）": key for key in PLANS}
    assert {plan_titles[t.label]: t.net_fen for t in report.by_plan} == {
        plan: sum(f for *_, p, f in expected if p == plan) for plan in {p for *_, p, _ in expected}
    }


async def test_revenue_month_is_china_s(pool: asyncpg.Pool, data: Data) -> None:
    report = await service.revenue(pool, scope_of(data, "super"), None, YEAR)
    # l3's order paid 2025-12-31 16:30 UTC and l5's refund of 2026-01-05.
    assert report.by_month_method["2026-01"] == {"balance": -900, "alipay": 700, "bank": 0}


async def rows_of(lines: AsyncIterator[bytes]) -> list[list[str]]:
    text = b"".join([line async for line in lines]).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


async def test_exports_hold_the_scope_s_rows(
    pool: asyncpg.Pool, data: Data, database_url: str
) -> None:
    for who, subtree in (("a", "a"), ("b", "b"), ("super", "root")):
        scope = scope_of(data, who)
        root = await exports.open_export(pool, scope, "hours", None)
        rows = await rows_of(exports.hours_lines(pool, root, YEAR))
        assert len(rows) - 1 == len(of(subtree))
        root = await exports.open_export(pool, scope, "completion", None)
        rows = await rows_of(exports.completion_lines(pool, root, None, None))
        assert len(rows) - 1 == sum(len(x.enrolments) for x in of(subtree))
        rows = await rows_of(exports.exam_lines(pool, root, None))
        assert len(rows) - 1 == sum(1 for x in of(subtree) if x.exam)
        rows = await rows_of(exports.revenue_lines(pool, root, YEAR))
        assert sorted(int(float(row[-1]) * 100) for row in rows[1:]) == sorted(
            fen for *_, fen in moves(subtree, YEAR)
        )
    with pytest.raises(NotFound):
        await exports.open_export(pool, scope_of(data, "b"), "hours", data.orgs["a1"])
    connection = await asyncpg.connect(database_url)
    try:
        logged = await connection.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'report.export'"
        )
    finally:
        await connection.close()
    assert logged == 6


PAGES = ("completion", "hours", "exams", "revenue")


async def test_pages_and_exports_of_an_admin_show_only_its_learners(
    client: TestClient, data: Data
) -> None:
    connection_names = {
        "a": ["组织A"],
        "b": ["组织B"],
    }
    for who, other in (("a", "b"), ("b", "a")):
        admin = await Browser.of(client, data.admins[who])
        for page in PAGES:
            response = await admin.get(f"/admin/reports/{page}", year=str(YEAR))
            assert response.status == 200, page
            text = await response.text()
            assert "<svg" in text or page == "exams", page
            for name in connection_names[other]:
                assert name not in text.replace("组织A1", ""), (who, page)
            export = await admin.get(f"/admin/reports/{page}.csv", year=str(YEAR))
            assert export.status == 200
            assert export.headers["Content-Type"].startswith("text/csv")
            body = (await export.read()).decode("utf-8-sig")
            for name in connection_names[other]:
                assert f",{name}," not in body, (who, page)
        refused = await admin.get("/admin/reports/hours", org_id=str(data.orgs[other]))
        assert refused.status == 404
        bad = await admin.get("/admin/reports/hours", year="20x6")
        assert bad.status == 400
        assert "年度应为数字" in await bad.text()


async def test_hours_page_lists_the_short_furthest_first(client: TestClient, data: Data) -> None:
    admin = await Browser.of(client, data.admins["super"])
    text = await (await admin.get("/admin/reports/hours", year=str(YEAR))).text()
    short = sorted(
        (
            compliance.required_tenths(x.title_level) - year_tenths(x, YEAR),
            x.key,
        )
        for x in LEARNERS
        if year_tenths(x, YEAR) < compliance.required_tenths(x.title_level)
    )
    assert f"未达标 {len(short)} 人" in text
    assert f"共差 {sum(s for s, _ in short) / 10:g} 学时" in text
    exam_page = await admin.get("/admin/reports/exams", exam_id=str(data.exam_id))
    assert "考试一" in await exam_page.text()
    missing = await admin.get("/admin/reports/exams", exam_id="999999")
    assert missing.status == 404


async def test_revenue_follows_an_order_paid_then_refunded(pool: asyncpg.Pool, data: Data) -> None:
    """Checkout writes an unpaid order with its items; payment and refund update it."""
    scope = scope_of(data, "a")
    before = await service.revenue(pool, scope, None, YEAR)
    order_id = await pool.fetchval(
        "INSERT INTO orders (out_trade_no, learner_id, amount_fen) VALUES ('LATER', $1, 1234) "
        "RETURNING id",
        data.learners["l2"],
    )
    await pool.execute(
        """INSERT INTO order_items (order_id, plan_id, course_id, title, hour_tenths, price_fen)
           SELECT $1, plan_id, course_id, '课程', 100, 1234 FROM plan_courses WHERE plan_id = $2""",
        order_id,
        data.plans["p2"],
    )
    assert await service.revenue(pool, scope, None, YEAR) == before
    await pool.execute(
        """UPDATE orders SET status = 'paid', method = 'bank', paid_at = '2026-07-31T20:00:00Z'
           WHERE id = $1""",
        order_id,
    )
    await pool.execute(
        """UPDATE orders SET status = 'refunded', closed_at = '2026-09-01T00:00:00Z'
           WHERE id = $1""",
        order_id,
    )
    after = await service.revenue(pool, scope, None, YEAR)
    assert after.by_month_method["2026-08"]["bank"] == 1234  # 04:00 on 1 August in China
    assert after.by_month_method["2026-09"]["bank"] == -1234
    assert after.total.paid_fen == before.total.paid_fen + 1234
    assert after.total.refunded_fen == before.total.refunded_fen + 1234
    other = await service.revenue(pool, scope_of(data, "b"), None, YEAR)
    assert other.by_month_method["2026-08"]["bank"] == 0


async def test_revenue_of_a_generated_population_equals_its_orders(pool: asyncpg.Pool) -> None:
    """The generator copies paid and refunded orders, then their items, skipping ordinary
    triggers (session_replication_role = replica): the rollup's triggers still run."""
    await seed_base(pool)
    await seed_demo(pool)
    await seed_population(pool, 60, seed=3)
    expected = await pool.fetch(
        """SELECT m.year, sum(m.fen) FILTER (WHERE m.fen > 0) AS paid,
                  coalesce(-sum(m.fen) FILTER (WHERE m.fen < 0), 0) AS refunded
           FROM orders o JOIN order_items i ON i.order_id = o.id
           CROSS JOIN LATERAL (VALUES (o.paid_at, i.price_fen), (o.closed_at, -i.price_fen))
               AS v (at, fen)
           CROSS JOIN LATERAL (
               SELECT extract(year FROM v.at AT TIME ZONE 'Asia/Shanghai')::int AS year, v.fen
           ) AS m
           WHERE o.status IN ('paid', 'refunded') AND v.at IS NOT NULL
             AND (v.fen > 0 OR o.status = 'refunded')
           GROUP BY m.year"""
    )
    assert expected
    scope = Scope(user_id=0, name="super", role="super", org_id=None)
    for row in expected:
        report = await service.revenue(pool, scope, None, row["year"])
        assert (report.total.paid_fen, report.total.refunded_fen) == (
            row["paid"] or 0,
            row["refunded"],
        ), row["year"]
