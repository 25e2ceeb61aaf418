"""SQL of the reports. Each query takes the root of the organisation subtree it covers as `$1`
(None: every organisation) and counts the learners of that subtree (`users.org_id`), whoever
owns the plan, exam or order they are counted for: a platform plan shows in an
administrator's reports with that administrator's learners only.

The CSV rows are read in batches after a key (keyset paging), each batch a query of its own
through the pool — never the whole result in memory, no connection held by a slow download —
except the hours, whose yearly sums are made once for all learners and read through a
server-side cursor (one connection for the download's length)."""

from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg

from engine.admin.scope import owned_by
from engine.archive import compliance
from engine.db import Executor

LEARNERS = f"u.role = 'learner' AND {owned_by('u.org_id', 1)}"

# Plans activated (enrolments) and passed, by the learner's organisation and the plan.
COMPLETION = f"""
SELECT u.org_id, e.plan_id, count(*) AS enrolled,
       count(*) FILTER (WHERE e.state = 'passed') AS passed
FROM enrolments e JOIN users u ON u.id = e.learner_id
WHERE {LEARNERS}
  AND ($2::integer IS NULL OR e.plan_id IN (SELECT id FROM plans WHERE year = $2))
  AND ($3::bigint IS NULL OR e.plan_id = $3)
GROUP BY u.org_id, e.plan_id
"""

# F32 for every learner of the subtree: the year's hours (the plans of that year and the
# offline records, as engine.archive.service counts them) against what the title requires
# (engine.archive.compliance, passed as $3…$5): (id, required_tenths, earned_tenths), narrow,
# the names joined only to the rows shown.
HOURS = f"""
WITH online AS (
    SELECT e.learner_id, sum(e.earned_tenths) AS tenths
    FROM enrolments e JOIN users u ON u.id = e.learner_id
    WHERE e.plan_id IN (SELECT id FROM plans WHERE year = $2) AND {LEARNERS}
    GROUP BY e.learner_id
), offline AS (
    SELECT r.learner_id, sum(r.hour_tenths) AS tenths FROM offline_records r
    WHERE r.year = $2 GROUP BY r.learner_id
)
SELECT u.id,
       CASE WHEN u.title_level = ANY($3::text[]) THEN $4::integer ELSE $5::integer END
           AS required_tenths,
       (coalesce(online.tenths, 0) + coalesce(offline.tenths, 0))::integer AS earned_tenths
FROM users u
LEFT JOIN online ON online.learner_id = u.id
LEFT JOIN offline ON offline.learner_id = u.id
WHERE {LEARNERS}
"""


def _hours_arguments(root: int | None, year: int) -> tuple[object, ...]:
    return (
        root,
        year,
        sorted(compliance.SENIOR_TITLE_LEVELS),
        compliance.SENIOR_REQUIRED_TENTHS,
        compliance.REQUIRED_TENTHS,
    )


async def completion(
    db: Executor, root: int | None, year: int | None, plan_id: int | None
) -> list[asyncpg.Record]:
    return await db.fetch(COMPLETION, root, year, plan_id)


async def plan_titles(db: Executor, plan_ids: list[int]) -> dict[int, tuple[str, int]]:
    rows = await db.fetch(
        "SELECT id, title, year FROM plans WHERE id = ANY($1::bigint[])", plan_ids
    )
    return {row["id"]: (row["title"], row["year"]) for row in rows}


async def offered_plans(db: Executor, root: int | None) -> list[asyncpg.Record]:
    """The plans the subtree's learners may be counted for: the platform's, those of the
    subtree and those of the organisations above it (offered to it), newest year first."""
    return await db.fetch(
        f"""SELECT id, title, year FROM plans p
            WHERE p.org_id IS NULL OR {owned_by("p.org_id", 1)}
               OR p.org_id IN (SELECT org_ancestry($1))
            ORDER BY year DESC, id""",
        root,
    )


async def hours_page(
    db: Executor, root: int | None, year: int, bin_tenths: int, bins: int, limit: int, offset: int
) -> asyncpg.Record:
    """In one reading of the year's hours: the subtree's learners by earned hours (`bins`
    bins of `bin_tenths`, the last open-ended) as (bin, learners, short, missing tenths), and
    one page of the short learners, the furthest from the requirement first, as
    (id, real_name, username, org_name, title_level, required_tenths, earned_tenths)."""
    found = await db.fetchrow(
        f"""WITH h AS MATERIALIZED ({HOURS}),
            short AS (
                SELECT * FROM h WHERE earned_tenths < required_tenths
                ORDER BY required_tenths - earned_tenths DESC, id LIMIT $8 OFFSET $9
            )
            SELECT
                (SELECT array_agg(ROW(bin, learners, short, missing_tenths))
                 FROM (SELECT least(earned_tenths / $6, $7 - 1) AS bin, count(*) AS learners,
                              count(*) FILTER (WHERE earned_tenths < required_tenths) AS short,
                              coalesce(sum(greatest(required_tenths - earned_tenths, 0)), 0)
                                  ::bigint AS missing_tenths
                       FROM h GROUP BY 1) AS b) AS bins,
                (SELECT array_agg(ROW(s.id, u.real_name, u.username, o.name, u.title_level,
                                      s.required_tenths, s.earned_tenths)
                                  ORDER BY s.required_tenths - s.earned_tenths DESC, s.id)
                 FROM short s JOIN users u ON u.id = s.id JOIN orgs o ON o.id = u.org_id)
                    AS short""",
        *_hours_arguments(root, year),
        bin_tenths,
        bins,
        limit,
        offset,
    )
    assert found is not None  # an aggregate's one row
    return found


async def hours_rows(
    pool: asyncpg.Pool, root: int | None, year: int, batch: int
) -> AsyncIterator[asyncpg.Record]:
    """Every learner's hours, by id, through a server-side cursor fetching `batch` rows at a
    time (the year's sums are made once, so the download holds a connection while it lasts)."""
    async with pool.acquire() as connection, connection.transaction():
        async for row in connection.cursor(
            f"""SELECT h.id, u.real_name, u.username, o.name AS org_name, u.title_level,
                       h.required_tenths, h.earned_tenths
                FROM ({HOURS}) AS h JOIN users u ON u.id = h.id JOIN orgs o ON o.id = u.org_id
                ORDER BY h.id""",
            *_hours_arguments(root, year),
            prefetch=batch,
        ):
            yield row


async def exam_rates(db: Executor, root: int | None) -> list[asyncpg.Record]:
    """Every exam some learner of the subtree has a result in: takers, passes, mean score."""
    return await db.fetch(
        f"""SELECT x.id AS exam_id, x.title, c.title AS course_title, x.total_score,
                   x.pass_score, r.takers, r.passed, r.average_score
            FROM (SELECT r.exam_id, count(*) AS takers,
                         count(*) FILTER (WHERE r.passed) AS passed,
                         avg(r.best_score)::float8 AS average_score
                  FROM exam_results r JOIN users u ON u.id = r.learner_id
                  WHERE {LEARNERS} GROUP BY r.exam_id) AS r
            JOIN exams x ON x.id = r.exam_id JOIN courses c ON c.id = x.course_id
            ORDER BY x.id""",
        root,
    )


async def score_bins(
    db: Executor, root: int | None, exam_id: int, total_score: int, bins: int
) -> dict[int, int]:
    """Learners of the subtree by their best score in the exam, in `bins` equal bins."""
    rows = await db.fetch(
        f"""SELECT least(r.best_score * $3 / $4, $3 - 1) AS bin, count(*) AS learners
            FROM exam_results r JOIN users u ON u.id = r.learner_id
            WHERE r.exam_id = $2 AND {LEARNERS} GROUP BY 1""",
        root,
        exam_id,
        bins,
        total_score,
    )
    return {row["bin"]: row["learners"] for row in rows}


async def revenue(db: Executor, root: int | None, year: int) -> list[asyncpg.Record]:
    """Money of the year by month, payment method and plan (revenue_rollup, migration 0017:
    payments in the month paid, refunds in the month refunded, by the payer's organisation)."""
    return await db.fetch(
        f"""SELECT to_char(month, 'YYYY-MM') AS month, method, plan_id,
                   sum(paid_fen)::bigint AS paid_fen, sum(refunded_fen)::bigint AS refunded_fen
            FROM revenue_rollup
            WHERE month >= make_date($2, 1, 1) AND month < make_date($2 + 1, 1, 1)
              AND {owned_by("org_id", 1)}
            GROUP BY 1, 2, 3""",
        root,
        year,
    )


async def completion_rows(
    db: Executor,
    root: int | None,
    year: int | None,
    plan_id: int | None,
    after: tuple[int, int],
    limit: int,
) -> list[asyncpg.Record]:
    return await db.fetch(
        f"""SELECT e.learner_id, e.plan_id, u.real_name, u.username, o.name AS org_name,
                   p.title AS plan_title, p.year, e.state, e.earned_tenths, e.activated_at,
                   e.passed_at
            FROM enrolments e JOIN users u ON u.id = e.learner_id
            JOIN orgs o ON o.id = u.org_id JOIN plans p ON p.id = e.plan_id
            WHERE {LEARNERS} AND ($2::integer IS NULL OR p.year = $2)
              AND ($3::bigint IS NULL OR e.plan_id = $3)
              AND (e.learner_id, e.plan_id) > ($4, $5)
            ORDER BY e.learner_id, e.plan_id LIMIT $6""",
        root,
        year,
        plan_id,
        *after,
        limit,
    )


async def exam_rows(
    db: Executor, root: int | None, exam_id: int | None, after: tuple[int, int], limit: int
) -> list[asyncpg.Record]:
    return await db.fetch(
        f"""SELECT r.learner_id, r.exam_id, x.title AS exam_title, u.real_name, u.username,
                   o.name AS org_name, r.best_score, x.total_score, r.passed, r.passed_at
            FROM exam_results r JOIN users u ON u.id = r.learner_id
            JOIN orgs o ON o.id = u.org_id JOIN exams x ON x.id = r.exam_id
            WHERE {LEARNERS} AND ($2::bigint IS NULL OR r.exam_id = $2)
              AND (r.learner_id, r.exam_id) > ($3, $4)
            ORDER BY r.learner_id, r.exam_id LIMIT $5""",
        root,
        exam_id,
        *after,
        limit,
    )


async def revenue_rows(
    db: Executor, root: int | None, start: datetime, end: datetime, after: int, limit: int
) -> list[asyncpg.Record]:
    """The items of the next `limit` orders after `after` paid or refunded in [start, end)."""
    return await db.fetch(
        f"""WITH batch AS (
                SELECT o.id, o.out_trade_no, o.method, o.status, o.paid_at, o.closed_at,
                       u.real_name, u.username, g.name AS org_name
                FROM orders o JOIN users u ON u.id = o.learner_id JOIN orgs g ON g.id = u.org_id
                WHERE o.id > $4 AND o.status IN ('paid', 'refunded') AND {LEARNERS}
                  AND ((o.paid_at >= $2 AND o.paid_at < $3)
                       OR (o.status = 'refunded' AND o.closed_at >= $2 AND o.closed_at < $3))
                ORDER BY o.id LIMIT $5
            )
            SELECT b.*, p.title AS plan_title, i.title AS course_title, i.price_fen
            FROM batch b JOIN order_items i ON i.order_id = b.id JOIN plans p ON p.id = i.plan_id
            ORDER BY b.id, i.plan_id, i.course_id""",
        root,
        start,
        end,
        after,
        limit,
    )
