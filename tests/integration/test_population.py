"""The generated population (`jixu seed --learners N`) on the demo catalogue: the same rows
for the same seed, every reference and balance consistent, hours and passes as the engine's
own rule finds them."""

import itertools
from collections.abc import AsyncIterator

import asyncpg
import pytest

from engine import db
from engine.accounts.validation import id_card_check_character
from engine.demo import seed_demo
from engine.population import learners
from engine.population.load import seed_population
from engine.population.world import load_world
from engine.progress import store as progress_store
from engine.seed import seed_base
from web import cli

# Each (child, parent) pair the copy skips the foreign-key triggers for, checked here.
REFERENCES = (
    "SELECT count(*) FROM users u LEFT JOIN orgs o ON o.id = u.org_id WHERE o.id IS NULL",
    """SELECT count(*) FROM selections s LEFT JOIN enrolments e
           ON (e.learner_id, e.plan_id) = (s.learner_id, s.plan_id) WHERE e.plan_id IS NULL""",
    """SELECT count(*) FROM selections s LEFT JOIN plan_courses pc
           ON (pc.plan_id, pc.course_id) = (s.plan_id, s.course_id) WHERE pc.plan_id IS NULL""",
    """SELECT count(*) FROM chapter_progress p LEFT JOIN chapters c ON c.id = p.chapter_id
           LEFT JOIN users u ON u.id = p.learner_id WHERE c.id IS NULL OR u.id IS NULL""",
    """SELECT count(*) FROM order_items i LEFT JOIN orders o ON o.id = i.order_id
           LEFT JOIN plan_courses pc ON (pc.plan_id, pc.course_id) = (i.plan_id, i.course_id)
           WHERE o.id IS NULL OR pc.plan_id IS NULL""",
    """SELECT count(*) FROM ledger l LEFT JOIN accounts a ON a.learner_id = l.learner_id
           LEFT JOIN orders o ON o.id = l.order_id LEFT JOIN study_cards c ON c.id = l.card_id
           WHERE a.learner_id IS NULL OR (l.order_id IS NOT NULL AND o.id IS NULL)
              OR (l.card_id IS NOT NULL AND c.id IS NULL)""",
    """SELECT count(*) FROM payments p LEFT JOIN orders o ON o.id = p.order_id
           WHERE o.id IS NULL""",
    """SELECT count(*) FROM study_cards c LEFT JOIN card_batches b ON b.id = c.batch_id
           LEFT JOIN users u ON u.id = c.used_by WHERE b.id IS NULL OR u.id IS NULL""",
    """SELECT count(*) FROM exam_results r LEFT JOIN exam_attempts a ON a.id = r.best_attempt_id
           LEFT JOIN exams x ON x.id = r.exam_id
           WHERE a.id IS NULL OR x.id IS NULL OR a.learner_id <> r.learner_id""",
    """SELECT count(*) FROM exam_attempts a LEFT JOIN exams x ON x.id = a.exam_id
           WHERE x.id IS NULL""",
)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, min_size=3, max_size=3)
    await seed_base(pool)
    await seed_demo(pool)
    yield pool
    await pool.close()


async def test_a_population_is_consistent_and_earns_by_the_engines_rule(
    pool: asyncpg.Pool,
) -> None:
    calls: list[tuple[int, int]] = []
    first = await seed_population(pool, 150, seed=3, progress=lambda *done: calls.append(done))
    second = await seed_population(pool, 30, seed=3)
    assert (first.first, second.first) == (1, 151)
    assert calls == [(150, 150)]
    usernames = {row[0] for row in await pool.fetch("SELECT username FROM users")}
    assert {learners.username(n) for n in range(1, 181)} <= usernames

    for query in REFERENCES:
        assert await pool.fetchval(query) == 0, query
    for row in await pool.fetch("SELECT id_number FROM users WHERE username LIKE 'seed%'"):
        assert row[0][17] == id_card_check_character(row[0][:17])
    # Balances: each account is its ledger's sum and its last balance; orders their items.
    assert not await pool.fetch(
        """SELECT a.learner_id FROM accounts a JOIN ledger l ON l.learner_id = a.learner_id
           GROUP BY a.learner_id, a.balance_fen
           HAVING a.balance_fen <> sum(l.amount_fen)
               OR a.balance_fen <> (array_agg(l.balance_after_fen ORDER BY l.id DESC))[1]
               OR min(l.balance_after_fen) < 0"""
    )
    assert await pool.fetchval(
        """SELECT sum(b.card_count) = (SELECT count(*) FROM study_cards)
           FROM card_batches b"""
    )
    assert not await pool.fetch(
        """SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id
           GROUP BY o.id HAVING o.amount_fen <> sum(i.price_fen)"""
    )

    enrolments = "SELECT learner_id, plan_id, state, earned_tenths FROM enrolments ORDER BY 1, 2"
    before = await pool.fetch(enrolments)
    states = {row["state"] for row in before}
    assert states == {"learning", "passed"}
    async with pool.acquire() as connection:
        await progress_store.refresh_enrolments(
            connection, [row[0] for row in before], [row[1] for row in before], revoke=True
        )
    assert await pool.fetch(enrolments) == before


async def test_the_same_seed_gives_the_same_learners(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection:
        world = await load_world(connection, seed=5)
        again = await load_world(connection, seed=5)
    first = learners.generate(world, 5, range(1, 41), fixed_ids())
    assert first.users == learners.generate(again, 5, range(1, 41), fixed_ids()).users
    assert first.orders == learners.generate(again, 5, range(1, 41), fixed_ids()).orders
    assert (
        first.exam_attempts == learners.generate(again, 5, range(1, 41), fixed_ids()).exam_attempts
    )
    other = learners.generate(world, 6, range(1, 41), fixed_ids())
    assert [row[5] for row in other.users] != [row[5] for row in first.users]


def fixed_ids() -> learners.Ids:
    return learners.Ids(
        users=itertools.count(1_000), orders=itertools.count(1_000),
        cards=itertools.count(1_000), attempts=itertools.count(1_000), card_batch=1,
    )  # fmt: skip


def test_production_refuses_generated_learners(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIXU_ENV", raising=False)
    with pytest.raises(SystemExit) as refused:
        cli.main(["seed", "--learners", "10"])
    assert "JIXU_ENV=development" in str(refused.value.code)
