"""历史课程 (F28): earlier years' courses with their progress, playable while their plan is open."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from engine.appkeys import DB
from engine.progress.service import may_watch, watchable_courses
from engine.progress.store import save_progress
from tests.conftest import Clock, Course, build_course, enrol
from tests.integration.test_invoices import log_in

Payload = Callable[..., dict[str, Any]]


async def set_plan(database_url: str, course: Course, **columns: Any) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        for column, value in columns.items():
            await connection.execute(
                f"UPDATE plans SET {column} = $2 WHERE id = $1", course.plan_id, value
            )
    finally:
        await connection.close()


def item(html: str, course: Course) -> str:
    """The list item of a course on the page."""
    start = html.index(f'data-course="{course.course_id}"')
    return html[start : html.index("</li>", start)]


async def test_history_lists_earlier_years_courses_with_progress_and_plays_only_open_ones(
    client: TestClient, registration: Payload, database_url: str, clock: Clock
) -> None:
    # The clock stands in November 2023: the 2018 plans of build_course are earlier years'.
    learner = await log_in(client, registration)
    still_open = await build_course(database_url)
    closed = await build_course(database_url)
    await set_plan(database_url, closed, title="2017年公需科目", year=2017)
    await set_plan(
        database_url,
        closed,
        opens_at=datetime(2017, 1, 1, tzinfo=UTC),
        closes_at=datetime(2018, 1, 1, tzinfo=UTC),
    )
    this_year = await build_course(database_url)
    await set_plan(database_url, this_year, title="本年度计划", year=2023)
    for course in (still_open, closed, this_year):
        await enrol(database_url, learner, course)
    async with client.app[DB].acquire() as connection:
        await save_progress(
            connection,
            [
                (learner, still_open.chapters[0], 60.0, 60.0, 1, True),
                (learner, closed.chapters[0], 60.0, 60.0, 1, True),
                (learner, closed.chapters[1], 30.0, 30.0, 1, True),
            ],
        )

    response = await client.get("/history")
    assert response.status == 200
    html = await response.text()
    assert 'class="active" aria-current="page">历史课程' in html
    assert "本年度计划" not in html
    assert f'data-course="{this_year.course_id}"' not in html
    assert html.index(f'data-plan="{still_open.plan_id}"') < html.index("2017年公需科目")
    open_item = item(html, still_open)
    assert '<span class="percent">66%</span>' in open_item
    assert f'href="/courses/{still_open.course_id}">进入学习' in open_item
    closed_item = item(html, closed)
    assert '<span class="percent">100%</span>' in closed_item
    assert "计划已结束，不能观看" in closed_item
    assert "/courses/" not in closed_item
    assert "培训计划已结束" in html

    # Playback's own rule decides: the open plan's course plays, the closed one's does not.
    assert (await client.get(f"/media/chapters/{still_open.chapters[1]}")).status == 200
    assert (await client.get(f"/media/chapters/{closed.chapters[1]}")).status == 403
    courses = [still_open, closed, this_year]
    now_ms = clock()
    playable = {
        course.course_id
        for course in courses
        if await may_watch(client.app[DB], learner, course.chapters[0], now_ms)
    }
    at_once = await watchable_courses(
        client.app[DB], learner, [course.course_id for course in courses], now_ms
    )
    assert at_once == playable == {still_open.course_id, this_year.course_id}


async def test_history_says_when_there_is_nothing(
    client: TestClient, registration: Payload
) -> None:
    await log_in(client, registration)
    html = await (await client.get("/history")).text()
    assert "暂无历史课程" in html


async def test_history_needs_a_login(client: TestClient) -> None:
    response = await client.get("/history", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/login?next=/history"
