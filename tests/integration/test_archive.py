"""学习档案 (F23) and the year's hours (F32) follow the stored facts through a journey:
watch, pass the exam, buy, refund; offline records entered by an administrator."""

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.commerce import orders
from engine.progress.store import save_progress
from engine.settings import Settings
from tests.conftest import Learner, build_course, new_learner
from tests.integration.test_cart_orders import credit
from tests.integration.test_refund_revokes import (
    activate,
    buy,
    course_with_chapter,
    pass_exam,
    watch_all,
)
from tests.integration.two_orgs import add_super
from web.admin_cli import add_offline_record

Payload = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The plans the tests build are 2018's.
    return msgspec.structs.replace(settings, current_year=2018)


async def archive_of(client: TestClient, learner: Learner) -> dict[str, Any]:
    response = await client.get("/api/v1/archive", headers=learner.headers)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


def plan_in(archive: dict[str, Any], plan_id: int) -> dict[str, Any]:
    [plan] = [plan for plan in archive["plans"] if plan["id"] == plan_id]
    return plan


async def stored_facts(client: TestClient, learner_id: int, plan_id: int) -> dict[str, Any]:
    """What PostgreSQL holds of the plan for the learner, read around the archive's code."""
    async with client.app[DB].acquire() as connection:
        enrolment = await connection.fetchrow(
            "SELECT state, earned_tenths FROM enrolments WHERE learner_id = $1 AND plan_id = $2",
            learner_id,
            plan_id,
        )
        scores = await connection.fetch(
            """SELECT x.course_id, r.best_score FROM exam_results r JOIN exams x ON x.id = r.exam_id
               WHERE r.learner_id = $1""",
            learner_id,
        )
        selected = await connection.fetch(
            "SELECT course_id FROM selections WHERE learner_id = $1 AND plan_id = $2",
            learner_id,
            plan_id,
        )
    return {
        "state": enrolment["state"],
        "earned_hours": enrolment["earned_tenths"] / 10,
        "scores": {row["course_id"]: row["best_score"] for row in scores},
        "selected": {row["course_id"] for row in selected},
    }


def assert_matches(plan: dict[str, Any], facts: dict[str, Any]) -> None:
    assert plan["state"] == facts["state"]
    assert plan["earned_hours"] == facts["earned_hours"]
    assert plan["compulsory_earned"] + plan["elective_earned"] == facts["earned_hours"]
    assert {course["id"] for course in plan["courses"]} == facts["selected"]
    for course in plan["courses"]:
        assert course["exam_score"] == facts["scores"].get(course["id"])
    earned = sum(course["hours"] for course in plan["courses"] if course["earned"])
    assert earned == facts["earned_hours"]
    assert (plan["certificate"] is not None) == (facts["state"] == "passed")


async def test_the_archive_follows_the_facts_through_watching_passing_buying_and_a_refund(
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
    plan = plan_in(await archive_of(client, learner), examined.plan_id)
    assert [course["progress"] for course in plan["courses"]] == [0, 0]
    assert_matches(plan, await stored_facts(client, learner.id, examined.plan_id))

    await watch_all(pool, learner.id, examined.course_id)
    await watch_all(pool, learner.id, other)
    plan = plan_in(await archive_of(client, learner), examined.plan_id)
    assert [course["progress"] for course in plan["courses"]] == [100, 100]
    # The examined course is complete but earns nothing before its exam.
    assert (plan["earned_hours"], plan["state"]) == (3.0, "learning")
    assert_matches(plan, await stored_facts(client, learner.id, examined.plan_id))

    await pass_exam(pool, learner.id, examined)
    archive = await archive_of(client, learner)
    plan = plan_in(archive, examined.plan_id)
    assert (plan["earned_hours"], plan["state"]) == (5.0, "passed")
    scored = next(c for c in plan["courses"] if c["id"] == examined.course_id)
    assert (scored["exam_score"], scored["exam_total"], scored["exam_passed"]) == (10, 10, True)
    assert plan["passed_on"] is not None
    assert_matches(plan, await stored_facts(client, learner.id, examined.plan_id))
    [year] = archive["years"]
    assert (year["year"], year["public_hours"], year["earned_hours"]) == (2018, 5.0, 5.0)
    assert year["missing_hours"] == 91.0

    await orders.refund(pool, refunded)
    archive = await archive_of(client, learner)
    plan = plan_in(archive, examined.plan_id)
    assert (plan["earned_hours"], plan["state"], plan["certificate"]) == (3.0, "learning", None)
    assert [course["id"] for course in plan["courses"]] == [other]
    assert_matches(plan, await stored_facts(client, learner.id, examined.plan_id))
    assert archive["years"][0]["earned_hours"] == 3.0


async def test_courses_of_one_plan_completed_in_one_flush_earn_their_hours_once(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    pool = client.app[DB]
    first = await build_course(database_url, hour_tenths=20, elective_tenths=1000)
    second = await course_with_chapter(database_url, first.plan_id, "第二门课", 30)
    await activate(client, learner, first.plan_id)
    await credit(database_url, learner.id, 100_000)
    await buy(pool, learner.id, first.plan_id, first.course_id)
    await buy(pool, learner.id, first.plan_id, second)
    async with pool.acquire() as connection, connection.transaction():
        chapters = await connection.fetch(
            "SELECT id, duration_s FROM chapters WHERE course_id = ANY($1::bigint[])",
            [first.course_id, second],
        )
        # One batch, as the flusher writes it, completing both courses at once.
        await save_progress(
            connection, [(learner.id, row["id"], row["duration_s"], 0, 1, True) for row in chapters]
        )
    plan = plan_in(await archive_of(client, learner), first.plan_id)
    assert plan["earned_hours"] == 5.0
    assert_matches(plan, await stored_facts(client, learner.id, first.plan_id))


async def test_the_year_s_hours_against_the_requirement_of_the_title(
    client: TestClient, registration: Payload, database_url: str, settings: Settings
) -> None:
    await add_super(database_url)  # the `jixu` commands act as the base data's super administrator
    senior = await new_learner(
        client, lambda: registration(title_status="obtained", title_level="associate_senior")
    )
    ordinary = await new_learner(client, registration)
    open_plan = await build_course(database_url, hour_tenths=20, elective_tenths=50)
    await activate(client, senior, open_plan.plan_id)
    await credit(database_url, senior.id, 100_000)
    await buy(client.app[DB], senior.id, open_plan.plan_id, open_plan.course_id)
    await watch_all(client.app[DB], senior.id, open_plan.course_id)
    await asyncio.to_thread(
        add_offline_record,
        settings,
        username=await username_of(client, senior),
        kind="professional",
        title="建筑节能技术研修班",
        hours="16",
        completed_on="2018-06-30",
        organiser="天津市建筑设计研究院",
    )

    [year] = (await archive_of(client, senior))["years"]
    assert year["required_hours"] == 144.0
    assert (year["public_hours"], year["professional_hours"], year["offline_hours"]) == (
        2.0,
        16.0,
        16.0,
    )
    assert (year["earned_hours"], year["missing_hours"]) == (18.0, 126.0)
    assert year["deadline"] == "2018-12-31"
    # The test clock is in 2023: 2018's deadline has passed.
    assert year["days_left"] is None
    assert [plan["id"] for plan in year["open_plans"]] == [open_plan.plan_id]
    assert year["open_plans"][0]["to_pass_hours"] == 3.0
    assert year["covered"] is False

    [year] = (await archive_of(client, ordinary))["years"]
    assert (year["required_hours"], year["earned_hours"], year["missing_hours"]) == (96.0, 0, 96.0)
    assert year["open_plans"][0]["state"] == "pending"

    # The home page shows the same figures.
    home = await (await client.get("/", headers=senior.headers)).text()
    assert "2018年度学时" in home
    assert "尚缺<strong>126</strong>学时" in home
    offline_tab = await (await client.get("/archive?tab=offline", headers=senior.headers)).text()
    assert "建筑节能技术研修班" in offline_tab
    assert "线下" in offline_tab


async def username_of(client: TestClient, learner: Learner) -> str:
    me = await (await client.get("/api/v1/me", headers=learner.headers)).json()
    username: str = me["user"]["username"]
    return username


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "nobody_here"}, "没有该用户名的学员"),
        ({"hours": "0"}, "学时应为"),
        ({"hours": "1.25"}, "学时应为"),
        ({"hours": "abc"}, "学时应为"),
        ({"title": "  "}, "培训名称应为"),
        ({"completed_on": "2018-13-01"}, "完成日期格式"),
        ({"completed_on": "2999-01-01"}, "不能晚于今天"),
    ],
)
async def test_a_bad_offline_record_is_refused_in_chinese_and_nothing_is_stored(
    client: TestClient,
    registration: Payload,
    settings: Settings,
    database_url: str,
    overrides: dict[str, str],
    message: str,
) -> None:
    await add_super(database_url)
    learner = await new_learner(client, registration)
    fields = {
        "username": await username_of(client, learner),
        "kind": "public",
        "title": "公需科目面授班",
        "hours": "8",
        "completed_on": "2018-05-01",
    } | overrides
    with pytest.raises(SystemExit) as refused:
        await asyncio.to_thread(add_offline_record, settings, **fields)
    assert message in str(refused.value.code)
    assert (await archive_of(client, learner))["offline"] == []
