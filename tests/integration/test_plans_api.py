"""PROTOCOL.md's plans and courses API: states, activation, a plan's courses."""

from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import build_course, new_learner

Payload = Callable[..., dict[str, Any]]


async def test_activation_selects_the_compulsory_course(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(database_url, compulsory=True, examined=True, hour_tenths=60)
    listed = await (await client.get("/api/v1/plans", headers=learner.headers)).json()
    [plan] = [p for p in listed["plans"] if p["id"] == course.plan_id]
    assert plan["state"] == "pending"
    assert plan["selected_hours"] == 0
    response = await client.post(
        f"/api/v1/plans/{course.plan_id}/activate", headers=learner.headers
    )
    assert response.status == 200
    activated = (await response.json())["plan"]
    assert activated["state"] == "learning"
    assert activated["selected_hours"] == 6.0
    again = await client.post(f"/api/v1/plans/{course.plan_id}/activate", headers=learner.headers)
    assert (await again.json())["plan"]["selected_hours"] == 6.0
    courses = await (
        await client.get(f"/api/v1/plans/{course.plan_id}/courses", headers=learner.headers)
    ).json()
    assert courses["courses"] == [
        {
            "id": course.course_id,
            "title": "测试课程",
            "teacher": "",
            "hours": 6.0,
            "compulsory": True,
            "examined": True,
            "selected": True,
            "price_fen": 0,
            "progress": 0,
        }
    ]


async def test_elective_price_is_hours_times_the_plan_rate(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(database_url, hour_tenths=15)
    courses = await (
        await client.get(f"/api/v1/plans/{course.plan_id}/courses", headers=learner.headers)
    ).json()
    [elective] = courses["courses"]
    assert elective["price_fen"] == 750
    assert elective["selected"] is False


async def test_unknown_plan_or_course_is_404(client: TestClient, registration: Payload) -> None:
    learner = await new_learner(client, registration)
    for path in ("/api/v1/plans/999999/courses", "/api/v1/courses/999999", "/api/v1/courses/abc"):
        response = await client.get(path, headers=learner.headers)
        assert response.status == 404, path
        assert (await response.json())["error"]["message"]
    response = await client.post("/api/v1/plans/999999/activate", headers=learner.headers)
    assert response.status == 404


async def test_plans_need_a_login(client: TestClient) -> None:
    assert (await client.get("/api/v1/plans")).status == 401


async def test_course_detail_lists_chapters_in_order(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    learner = await new_learner(client, registration)
    course = await build_course(database_url, durations=(30.0, 45.0, 20.0))
    detail = (
        await (
            await client.get(f"/api/v1/courses/{course.course_id}", headers=learner.headers)
        ).json()
    )["course"]
    assert [c["id"] for c in detail["chapters"]] == course.chapters
    assert [c["duration_s"] for c in detail["chapters"]] == [30.0, 45.0, 20.0]
    assert detail["selected"] is False
    assert detail["progress"] == 0


async def test_course_search_matches_a_chinese_substring_through_the_index(
    client: TestClient, registration: Payload, database_url: str
) -> None:
    import asyncpg

    from engine.appkeys import DB
    from engine.catalog.service import plan_courses

    learner = await new_learner(client, registration)
    course = await build_course(database_url)
    connection = await asyncpg.connect(database_url)
    try:
        for index, title in enumerate(["人工智能与大数据应用", "大数据时代的统计", "BIM技术入门"]):
            course_id = await connection.fetchval(
                "INSERT INTO courses (code, title, hour_tenths) VALUES ($1, $2, 10) RETURNING id",
                f"s{index}",
                title,
            )
            await connection.execute(
                "INSERT INTO plan_courses (plan_id, course_id) VALUES ($1, $2)",
                course.plan_id,
                course_id,
            )
        await connection.execute("SET enable_seqscan = off")
        plan = await connection.fetch(
            """EXPLAIN SELECT id FROM courses
               WHERE title_grams(title) @> title_grams('大数据') AND strpos(title, '大数据') > 0"""
        )
        assert "courses_title_grams_idx" in "\n".join(row[0] for row in plan)
    finally:
        await connection.close()

    async def titles(search: str) -> list[str]:
        found = await plan_courses(client.app[DB], learner.id, course.plan_id, search=search)
        return [c.title for c in found]

    assert await titles("大数据") == ["人工智能与大数据应用", "大数据时代的统计"]
    assert await titles("统") == ["大数据时代的统计"]
    assert await titles("bim") == ["BIM技术入门"]
    assert await titles("数据时代") == ["大数据时代的统计"]
    assert await titles("据大") == []
    assert len(await titles("  ")) == 4
