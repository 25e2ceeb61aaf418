"""The demo's question banks and exams (§2.4, §3): one exam per examined course, papers that
add up, reruns, and a learner who finishes a compulsory course and starts its exam."""

import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import msgspec
import pytest
from aiohttp.test_utils import TestClient

from engine import db
from engine.appkeys import DB, EXAMS
from engine.demo import DemoReport, seed_demo
from engine.errors import DomainError
from engine.exams import store
from engine.exams.grading import SHOWN_KEYS, draw_paper
from tests.conftest import Clock, new_learner

# Written out rather than imported, so the data is checked, not echoed.
RECIPE = {"single": 10, "multiple": 5, "true_false": 5}
EXAMINED = {
    ("public-2018", "学习十九大精神，贯彻习近平新时代中国特色社会主义思想"),
    ("public-2017", "国家和天津市“十三五”规划纲要解读"),
    ("public-2016", "专业技术人员创新创业能力建设"),
    ("public-2015", "十八届四中全会——弘扬社会主义法治精神全面推进依法治国"),
    ("public-2014", "技术创新的方法"),
}
TABLES = ("questions", "exams")


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
async def seeded(pool: asyncpg.Pool) -> DemoReport:
    return await seed_demo(pool)


async def examined_courses(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT p.id AS plan_id, p.code AS plan_code, p.opens_at, p.closes_at,
                  c.id AS course_id, c.title, pc.compulsory
           FROM plan_courses pc JOIN plans p ON p.id = pc.plan_id
           JOIN courses c ON c.id = pc.course_id
           WHERE pc.examined ORDER BY c.id"""
    )


async def test_every_examined_course_has_one_exam_that_its_bank_can_fill(
    pool: asyncpg.Pool, seeded: DemoReport
) -> None:
    courses = await examined_courses(pool)
    compulsory = {(row["plan_code"], row["title"]) for row in courses if row["compulsory"]}
    assert compulsory == EXAMINED
    assert Counter(row["plan_code"] for row in courses if not row["compulsory"]) == {
        "public-2014": 5
    }
    assert seeded.exams_created == len(courses) == 10
    for course in courses:
        [exam] = await pool.fetch("SELECT * FROM exams WHERE course_id = $1", course["course_id"])
        assert exam["plan_id"] == course["plan_id"]
        assert exam["title"] == f"《{course['title']}》考试"
        assert (exam["opens_at"], exam["closes_at"]) == (course["opens_at"], course["closes_at"])
        assert exam["duration_s"] == 3600
        assert exam["attempts_allowed"] == 3
        assert 0 < exam["pass_score"] <= exam["total_score"] == 100
        assert exam["partial_credit"] is False
        recipe, bank = await store.paper_source(pool, exam["id"])
        assert recipe == RECIPE
        assert {question.id for question in bank} == {
            row["id"]
            for row in await pool.fetch(
                "SELECT id FROM questions WHERE course_id = $1", course["course_id"]
            )
        }
        per_kind = Counter(question.kind for question in bank)
        assert all(per_kind[kind] >= 2 * wanted for kind, wanted in recipe.items())
        by_id = {question.id: question for question in bank}
        papers = set()
        for seed in range(20):
            paper = draw_paper(bank, recipe, random.Random(seed))
            assert Counter(by_id[item.question].kind for item in paper) == recipe
            assert sum(by_id[item.question].score for item in paper) == exam["total_score"]
            papers.add(frozenset(item.question for item in paper))
        assert len(papers) > 1
    assert seeded.questions_created == await pool.fetchval("SELECT count(*) FROM questions")


async def test_bank_questions_are_well_formed(pool: asyncpg.Pool, seeded: DemoReport) -> None:
    rows = await pool.fetch("SELECT * FROM questions ORDER BY id")
    assert len(rows) == 10 * 40
    for row in rows:
        options = json.loads(row["options"])
        keys = [option["key"] for option in options]
        assert keys == list(SHOWN_KEYS[: len(keys)])
        assert len({option["text"] for option in options}) == len(options)
        assert set(row["answer"]) <= set(keys)
        assert row["explanation"].strip()
        if row["kind"] == "single":
            assert (len(options), len(row["answer"])) == (4, 1)
            assert "（ ）" in row["stem"]
        elif row["kind"] == "multiple":
            assert len(options) == 4
            assert 2 <= len(row["answer"]) < 4
            assert "（ ）" in row["stem"]
        else:
            assert [option["text"] for option in options] == ["正确", "错误"]
            assert len(row["answer"]) == 1
            assert "（ ）" not in row["stem"]
    stems = Counter((row["course_id"], row["stem"]) for row in rows)
    assert max(stems.values()) == 1


async def test_unexamined_courses_have_neither_exam_nor_bank(
    pool: asyncpg.Pool, seeded: DemoReport
) -> None:
    for table in TABLES:
        stray = await pool.fetchval(
            f"""SELECT count(*) FROM {table} t
                WHERE NOT EXISTS (SELECT 1 FROM plan_courses pc
                                  WHERE pc.course_id = t.course_id AND pc.examined)"""
        )
        assert stray == 0, table


async def test_seeding_again_adds_nothing(pool: asyncpg.Pool, seeded: DemoReport) -> None:
    before = {table: await pool.fetch(f"SELECT * FROM {table} ORDER BY id") for table in TABLES}
    again = await seed_demo(pool)
    assert (again.questions_created, again.exams_created) == (0, 0)
    assert {table: await pool.fetch(f"SELECT * FROM {table} ORDER BY id") for table in TABLES} == (
        before
    )


async def complete_course(pool: asyncpg.Pool, learner_id: int, course_id: int) -> None:
    """Every chapter watched to the end, as the flusher would have stored it."""
    await pool.execute(
        """INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s, position_s, complete)
           SELECT $1, id, duration_s, duration_s, true FROM chapters WHERE course_id = $2""",
        learner_id,
        course_id,
    )
    await pool.execute(
        "UPDATE selections SET completed_at = now() WHERE learner_id = $1 AND course_id = $2",
        learner_id,
        course_id,
    )


async def test_a_learner_who_completes_the_compulsory_course_can_start_its_exam(
    client: TestClient, registration: Callable[..., dict[str, Any]], clock: Clock
) -> None:
    pool, exams = client.app[DB], client.app[EXAMS]
    await seed_demo(pool)
    learner = await new_learner(client, registration)
    plan_id = await pool.fetchval("SELECT id FROM plans WHERE code = 'public-2018'")
    response = await client.post(f"/api/v1/plans/{plan_id}/activate", headers=learner.headers)
    assert response.status == 200

    [listed] = await exams.list_for(pool, learner.id, clock.now_ms)
    assert (listed.plan_id, listed.total_score, listed.attempts_left) == (plan_id, 100, 3)
    assert listed.reason == "课程学习进度未达到100%，完成全部章节后才能参加考试"
    with pytest.raises(DomainError):
        await exams.start(pool, learner.id, listed.id, clock.now_ms)

    await complete_course(pool, learner.id, listed.course_id)
    [listed] = await exams.list_for(pool, learner.id, clock.now_ms)
    assert (listed.eligible, listed.reason) == (True, None)
    attempt = await exams.start(pool, learner.id, listed.id, clock.now_ms)
    questions = attempt.questions
    assert [question.type for question in questions] == [
        kind for kind, count in RECIPE.items() for _ in range(count)
    ]
    assert sum(question.score for question in questions) == 100
    assert attempt.deadline_ms == clock.now_ms + 3600 * 1000
    for question in questions:
        assert set(msgspec.to_builtins(question)) == {"id", "type", "stem", "options", "score"}
        assert all(
            set(msgspec.to_builtins(option)) == {"key", "text"} for option in question.options
        )
    explanations = await pool.fetch(
        "SELECT explanation FROM questions WHERE course_id = $1", listed.course_id
    )
    text = msgspec.json.encode(attempt).decode()
    assert not any(row["explanation"] in text for row in explanations)
