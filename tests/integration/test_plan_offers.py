"""A learner is offered the platform's plans and those of its organisation or any above
it: no other plan is listed, shown, activated or sold to it."""

from collections.abc import Callable
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.admin_world import insert_org
from tests.conftest import new_learner, origin_of


async def plans_by_org(database_url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Organisations root → A → A1 and root → B; a plan (with an elective course) owned by
    each of A, A1 and B, and one of the platform's."""
    connection = await asyncpg.connect(database_url)
    try:
        root = await insert_org(connection, "根", None)
        a = await insert_org(connection, "A", root)
        orgs = {
            "A": a,
            "A1": await insert_org(connection, "A1", a),
            "B": await insert_org(connection, "B", root),
        }
        plans = {}
        for owner in ("platform", "A", "A1", "B"):
            plan_id = await connection.fetchval(
                """INSERT INTO plans (code, title, kind, year, elective_tenths, opens_at,
                                      closes_at, org_id)
                   VALUES ($1, $2, 'public', 2026, 20, '2000-01-01', '2100-01-01', $3)
                   RETURNING id""",
                f"plan-{owner}",
                f"{owner}的计划",
                orgs.get(owner),
            )
            course_id = await connection.fetchval(
                "INSERT INTO courses (code, title, hour_tenths) VALUES ($1, $1, 10) RETURNING id",
                f"course-{owner}",
            )
            await connection.execute(
                "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2)", plan_id, course_id
            )
            plans[owner] = plan_id
        return orgs, plans
    finally:
        await connection.close()


async def test_plans_offered_by_the_organisation_and_those_above(
    client: TestClient, database_url: str, registration: Callable[..., dict[str, Any]]
) -> None:
    orgs, plans = await plans_by_org(database_url)
    in_a1 = await new_learner(client, lambda: registration(org_id=orgs["A1"]))
    in_a = await new_learner(client, lambda: registration(org_id=orgs["A"]))
    listed = await (await client.get("/api/v1/plans", headers=in_a1.headers)).json()
    assert sorted(plan["title"] for plan in listed["plans"]) == sorted(
        ["platform的计划", "A的计划", "A1的计划"]
    )
    listed = await (await client.get("/api/v1/plans", headers=in_a.headers)).json()
    assert sorted(plan["title"] for plan in listed["plans"]) == ["A的计划", "platform的计划"]

    headers = {**in_a.headers, **origin_of(client)}
    for plan in ("A1", "B"):
        plan_id = plans[plan]
        activate = await client.post(f"/api/v1/plans/{plan_id}/activate", headers=headers)
        assert activate.status == 404, plan
        courses = await client.get(f"/api/v1/plans/{plan_id}/courses", headers=headers)
        assert courses.status == 404, plan
    assert (
        await client.post(f"/api/v1/plans/{plans['A']}/activate", headers=headers)
    ).status == 200

    connection = await asyncpg.connect(database_url)
    try:
        course_b = await connection.fetchval(
            "SELECT course_id FROM plan_courses WHERE plan_id = $1", plans["B"]
        )
        # A plan activated before the learner moved organisation stays the learner's.
        await connection.execute(
            "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2)", in_a1.id, plans["B"]
        )
    finally:
        await connection.close()
    refused = await client.post(
        "/api/v1/cart/items",
        json={"plan_id": plans["B"], "course_id": course_b},
        headers=headers,
    )
    assert refused.status == 404
    listed = await (await client.get("/api/v1/plans", headers=in_a1.headers)).json()
    assert "B的计划" in [plan["title"] for plan in listed["plans"]]


async def test_the_plan_page_of_another_organisation_is_not_found(
    client: TestClient, database_url: str, registration: Callable[..., dict[str, Any]]
) -> None:
    orgs, plans = await plans_by_org(database_url)
    learner = await new_learner(client, lambda: registration(org_id=orgs["B"]))
    page = await client.get(f"/plans/{plans['A']}", headers=learner.headers)
    assert page.status == 404
    assert (await client.get(f"/plans/{plans['B']}", headers=learner.headers)).status == 200
