"""A refund takes back what the refunded courses earned: their hours and the 已通过 they made."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.commerce import orders
from engine.commerce.cart import add, checkout
from engine.progress.enrolments import refresh_enrolments
from engine.progress.store import save_progress
from tests.conftest import Course, Learner, build_course, new_learner
from tests.integration.test_cart_orders import credit, extra_course

Payload = Callable[..., dict[str, Any]]


async def course_with_chapter(database_url: str, plan_id: int, title: str, tenths: int) -> int:
    """Another elective of the plan, with one chapter to complete."""
    course_id = await extra_course(database_url, plan_id, title, tenths)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            """INSERT INTO chapters (course_id, position, title, media, duration_s)
               VALUES ($1, 1, '第1节', 'demo/clip1.mp4', 20)""",
            course_id,
        )
    finally:
        await connection.close()
    return course_id


async def buy(pool: asyncpg.Pool, learner_id: int, plan_id: int, course_id: int) -> int:
    """The course bought alone, paid with the balance; the order's id."""
    now = datetime.now(UTC)
    await add(pool, learner_id, plan_id, course_id, now)
    order = await checkout(pool, learner_id, now)
    return (await orders.pay_with_balance(pool, learner_id, order.id)).id


async def watch_all(pool: asyncpg.Pool, learner_id: int, course_id: int) -> None:
    """Every chapter of the course watched to the end, stored as the flusher stores it."""
    async with pool.acquire() as connection, connection.transaction():
        chapters = await connection.fetch(
            "SELECT id, duration_s FROM chapters WHERE course_id = $1", course_id
        )
        await save_progress(
            connection,
            [
                (learner_id, row["id"], row["duration_s"], row["duration_s"], 1, True)
                for row in chapters
            ],
        )


async def pass_exam(pool: asyncpg.Pool, learner_id: int, course: Course) -> None:
    """A submitted, passed attempt at the course's exam, recorded as grading records it."""
    now = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        exam_id = await connection.fetchval(
            """INSERT INTO exams (course_id, plan_id, title, opens_at, closes_at, duration_s,
                                  total_score, pass_score, recipe)
               VALUES ($1, $2, '课程考试', $3, $4, 600, 10, 6, $5::jsonb) RETURNING id""",
            course.course_id,
            course.plan_id,
            now - timedelta(hours=1),
            now + timedelta(days=1),
            json.dumps({"single": 1}),
        )
        attempt_id = await connection.fetchval(
            """INSERT INTO exam_attempts (exam_id, learner_id, number, started_at, deadline, status,
                                          paper, total_score, score, passed, submitted_at,
                                          submitted_by)
               VALUES ($1, $2, 1, $3, $3, 'submitted', '[]', 10, 10, true, $3, 'learner')
               RETURNING id""",
            exam_id,
            learner_id,
            now,
        )
        await connection.execute(
            """INSERT INTO exam_results (learner_id, exam_id, best_score, best_attempt_id, passed,
                                         passed_at, passed_score)
               VALUES ($1, $2, 10, $3, true, $4, 10)""",
            learner_id,
            exam_id,
            attempt_id,
            now,
        )
        await refresh_enrolments(connection, [learner_id], [course.plan_id])


async def plan_state(client: TestClient, learner: Learner, plan_id: int) -> tuple[str, float]:
    response = await client.get("/api/v1/plans", headers=learner.headers)
    assert response.status == 200
    [plan] = [plan for plan in (await response.json())["plans"] if plan["id"] == plan_id]
    return plan["state"], plan["earned_hours"]


async def activate(client: TestClient, learner: Learner, plan_id: int) -> None:
    response = await client.post(f"/api/v1/plans/{plan_id}/activate", headers=learner.headers)
    assert response.status == 200


async def test_a_refund_takes_back_the_hours_and_the_pass_its_course_earned(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    pool = client.app[DB]
    examined = await build_course(database_url, hour_tenths=20, elective_tenths=50, examined=True)
    other = await course_with_chapter(database_url, examined.plan_id, "另一门课", 30)
    await activate(client, learner, examined.plan_id)
    await credit(database_url, learner.id, 100_000)
    refunded = await buy(pool, learner.id, examined.plan_id, examined.course_id)
    await buy(pool, learner.id, examined.plan_id, other)
    await watch_all(pool, learner.id, examined.course_id)
    await watch_all(pool, learner.id, other)
    assert await plan_state(client, learner, examined.plan_id) == ("learning", 3.0)
    await pass_exam(pool, learner.id, examined)
    assert await plan_state(client, learner, examined.plan_id) == ("passed", 5.0)

    await orders.refund(pool, refunded)

    assert await plan_state(client, learner, examined.plan_id) == ("learning", 3.0)
    async with pool.acquire() as connection:
        passed_at = await connection.fetchval(
            "SELECT passed_at FROM enrolments WHERE learner_id = $1", learner.id
        )
        kept = await connection.fetchval(
            """SELECT count(*) FROM chapter_progress p JOIN chapters ch ON ch.id = p.chapter_id
               WHERE p.learner_id = $1 AND ch.course_id = $2 AND p.complete""",
            learner.id,
            examined.course_id,
        )
        results = await connection.fetchval(
            "SELECT count(*) FROM exam_results WHERE learner_id = $1 AND passed", learner.id
        )
    assert passed_at is None
    # The progress and the passed exam stay as history; unselected, they earn nothing.
    assert (kept, results) == (len(examined.chapters), 1)

    # Bought again, the kept progress and the passed exam count again at once.
    await buy(pool, learner.id, examined.plan_id, examined.course_id)
    assert await plan_state(client, learner, examined.plan_id) == ("passed", 5.0)


@pytest.mark.parametrize(
    ("bought", "refunded"),
    [
        ([10, 20, 30], 0),
        ([10, 20, 30], 2),
        ([15, 15], 1),
        ([40], 0),
    ],
)
async def test_a_refund_leaves_other_courses_hours_alone(
    client: TestClient,
    registration: Payload,
    database_url: str,
    bought: list[int],
    refunded: int,
) -> None:
    learner = await new_learner(client, registration)
    pool = client.app[DB]
    # The plan asks for more than everything bought: no pass, only hours.
    first = await build_course(database_url, hour_tenths=bought[0], elective_tenths=1000)
    courses = [first.course_id] + [
        await course_with_chapter(database_url, first.plan_id, f"课程{index}", tenths)
        for index, tenths in enumerate(bought[1:], 1)
    ]
    # A completed course in another plan, never refunded.
    elsewhere = await build_course(database_url, hour_tenths=70, elective_tenths=1000)
    await credit(database_url, learner.id, 1_000_000)
    order_ids = []
    for plan_id, course_id in [(first.plan_id, course) for course in courses] + [
        (elsewhere.plan_id, elsewhere.course_id)
    ]:
        await activate(client, learner, plan_id)
        order_ids.append(await buy(pool, learner.id, plan_id, course_id))
        await watch_all(pool, learner.id, course_id)
    assert await plan_state(client, learner, first.plan_id) == ("learning", sum(bought) / 10)

    await orders.refund(pool, order_ids[refunded])

    remaining = sum(bought) - bought[refunded]
    assert await plan_state(client, learner, first.plan_id) == ("learning", remaining / 10)
    assert await plan_state(client, learner, elsewhere.plan_id) == ("learning", 7.0)
