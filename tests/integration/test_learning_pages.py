"""The learning pages (F7–F9, F15–F19): 我的课程, a plan, a course's 目录, the player page."""

import re
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
import pytest
from aiohttp.test_utils import TestClient

from engine.progress.service import NOT_WATCHABLE
from engine.settings import Settings
from tests.conftest import Course, build_course, enrol, origin_of

Payload = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The manual's year, so the tabs read 2018年公需课 and 2014-2017年公需课补学计划."""
    return msgspec.structs.replace(settings, current_year=2018)


async def log_in(client: TestClient, registration: Payload) -> int:
    """Register and log in with the session cookie, as a browser does; the learner's id."""
    payload = registration()
    response = await client.post("/api/v1/auth/register", json=payload)
    assert response.status == 201, await response.text()
    login = await client.post(
        "/api/v1/auth/login",
        json={"username": payload["username"], "password": payload["password"]},
        headers=origin_of(client),
    )
    assert login.status == 200
    user_id: int = (await login.json())["user"]["id"]
    return user_id


async def page(client: TestClient, path: str, status: int = 200) -> str:
    response = await client.get(path)
    html = await response.text()
    assert response.status == status, html
    return html


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


async def execute(database_url: str, sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def add_plan(database_url: str, year: int, kind: str, title: str) -> int:
    plan_id: int = await execute(
        database_url,
        """INSERT INTO plans (code, title, kind, year, elective_tenths, opens_at, closes_at)
           VALUES ($1, $2, $3, $4, 100, '2000-01-01', '2100-01-01') RETURNING id""",
        f"plan-{kind}-{year}-{title}",
        title,
        kind,
        year,
    )
    return plan_id


@pytest.fixture
async def learner_id(client: TestClient, registration: Payload) -> int:
    return await log_in(client, registration)


@pytest.fixture
async def course(database_url: str, learner_id: int) -> Course:
    """A selected course of two chapters (60 s and 30 s); the first half watched, left at 20 s."""
    course = await build_course(database_url, durations=(60.0, 30.0))
    await enrol(database_url, learner_id, course)
    await execute(
        database_url,
        """INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s, position_s)
           VALUES ($1, $2, 30, 20)""",
        learner_id,
        course.chapters[0],
    )
    return course


async def test_plan_list_shows_states_and_the_tabs_of_the_year(
    client: TestClient, database_url: str, learner_id: int
) -> None:
    current = await build_course(database_url, compulsory=True)
    await execute(
        database_url, "UPDATE plans SET title = '2018年公需科目' WHERE id = $1", current.plan_id
    )
    catch_up = await add_plan(database_url, 2016, "public", "2016年公需科目")
    passed = await add_plan(database_url, 2015, "public", "2015年公需科目")
    too_old = await add_plan(database_url, 2012, "public", "2012年公需科目")
    professional = await add_plan(database_url, 2018, "professional", "2018年专业科目（法律类）")
    await enrol(database_url, learner_id, current)
    await execute(
        database_url,
        "INSERT INTO enrolments (learner_id, plan_id, state) VALUES ($1, $2, 'passed')",
        learner_id,
        passed,
    )

    html = await page(client, "/plans")
    assert '<a href="/plans" class="active" aria-current="page">我的课程</a>' in html
    for label in ("全部", "2018年公需课", "2014-2017年公需课补学计划", "2018年专业科目计划"):
        assert label in html, label
    for state in ("待激活", "学习中", "已通过"):
        assert state in html, state
    assert f'href="/plans/{current.plan_id}">进入学习</a>' in html
    assert f'action="/plans/{catch_up}/activate"' in html
    assert 'name="csrf_token"' in html
    assert 'id="confirm-dialog"' in html
    assert "/static/js/confirm.js" in html
    assert all(f'data-plan="{plan}"' in html for plan in (catch_up, too_old, professional))

    def listed(html: str) -> set[int]:
        return {int(plan) for plan in re.findall(r'data-plan="(\d+)"', html)}

    assert listed(await page(client, "/plans?tab=public")) == {current.plan_id}
    assert listed(await page(client, "/plans?tab=catch-up")) == {catch_up}
    assert listed(await page(client, "/plans?tab=professional")) == {professional}
    assert len(listed(await page(client, "/plans?tab=nonsense"))) == 5


async def test_activation_needs_the_csrf_token_and_selects_the_compulsory_course(
    client: TestClient, database_url: str, learner_id: int
) -> None:
    course = await build_course(database_url, compulsory=True)
    html = await page(client, "/plans")
    assert "去激活" in html
    action = f"/plans/{course.plan_id}/activate"

    refused = await client.post(action, data={"csrf_token": "forged"}, allow_redirects=False)
    assert refused.status == 403
    assert "页面已过期" in await refused.text()
    assert "待激活" in await page(client, f"/plans/{course.plan_id}")

    response = await client.post(
        action, data={"csrf_token": csrf_token(html)}, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == f"/plans/{course.plan_id}"
    plan = await page(client, response.headers["Location"])
    assert "学习中" in plan
    assert "已选课程" in plan
    assert '<span class="badge compulsory">必修</span>' in plan
    assert "测试课程" in plan
    assert f'href="/courses/{course.course_id}">学习课程</a>' in plan
    # The compulsory course is selected already: nothing to buy on the 已选课程 tab.
    assert ">选课<" not in plan
    assert '<a class="cart-link" href="/cart">购物车 <span class="cart-count">0</span></a>' in plan


async def test_plan_page_shows_the_hours_assessed_selected_and_earned(
    client: TestClient, database_url: str, learner_id: int
) -> None:
    course = await build_course(database_url, compulsory=True, hour_tenths=60, elective_tenths=260)
    await execute(
        database_url, "UPDATE plans SET compulsory_tenths = 60 WHERE id = $1", course.plan_id
    )
    pending = await page(client, f"/plans/{course.plan_id}")
    assert "该培训计划尚未激活，请先激活后再选课学习。" in pending
    assert f'action="/plans/{course.plan_id}/activate"' in pending
    assert "已选课程" not in pending

    await enrol(database_url, learner_id, course)
    html = await page(client, f"/plans/{course.plan_id}")
    assert "<dt>计划考核学时</dt><dd>32学时（必修6 + 选修26）</dd>" in html
    assert "<dt>已选学时</dt><dd>6学时</dd>" in html
    assert "<dt>已获学时</dt><dd>0学时</dd>" in html
    assert "尚未激活" not in html
    assert '<progress max="100" value="0">' in html


async def test_course_page_lists_the_chapters_and_offers_to_resume(
    client: TestClient, course: Course
) -> None:
    html = await page(client, f"/courses/{course.course_id}")
    assert "<h2>目录</h2>" in html
    first, second = course.chapters
    assert re.search(
        rf'<a class="chapter-title" href="/courses/{course.course_id}/chapters/{first}" data-resume>第1节</a>\s*'
        r'<span class="duration">01:00</span>\s*<progress max="100" value="50">',
        html,
    )
    # Never started: straight to the player, no dialog.
    assert re.search(
        rf'href="/courses/{course.course_id}/chapters/{second}">第2节</a>\s*'
        r'<span class="duration">00:30</span>',
        html,
    )
    assert '<dialog id="resume-dialog"' in html
    assert "检测到您上次未学完，是否继续学习！" in html
    assert ">继续学习</a>" in html
    assert ">重新学习</a>" in html
    assert "/static/js/course.js" in html
    assert '<progress max="100" value="33">' in html  # the course: 30 of 90 s


async def test_player_page_carries_what_the_player_needs(
    client: TestClient, course: Course
) -> None:
    first = course.chapters[0]
    html = await page(client, f"/courses/{course.course_id}/chapters/{first}")
    for attribute in (
        f'data-course="{course.course_id}"',
        f'data-chapter="{first}"',
        'data-start=""',
        'data-hwm="30.0"',
        'data-position="20.0"',
        'data-duration="60.0"',
        f'data-course-url="/courses/{course.course_id}"',
    ):
        assert attribute in html, attribute
    assert f'<video src="/media/chapters/{first}"' in html
    assert (
        f'<a class="button" id="end-study" href="/courses/{course.course_id}">结束学习</a>' in html
    )
    # The tabs of F17: 关键目录 shown first, 讨论 and 问答 on the course's rooms.
    assert 'aria-controls="panel-key-points" aria-selected="true">关键目录</button>' in html
    assert 'aria-controls="panel-discussion" aria-selected="false">讨论</button>' in html
    assert 'aria-controls="panel-qa" aria-selected="false">问答</button>' in html
    assert f'data-room="course:{course.course_id}" hidden>' in html
    assert f'data-room="qa:{course.course_id}" hidden>' in html
    assert '<button type="button" data-time="0" class="watched">00:00</button>' in html
    assert '<button type="button" data-time="30" class="watched">00:30</button>' in html
    assert 'data-time="60"' not in html
    assert 'id="chapter-progress" max="100" value="50"' in html
    assert 'id="course-progress" max="100" value="33"' in html
    assert '<script type="module" src="/static/js/player.js"></script>' in html
    assert "<script>" not in html

    restart = await page(client, f"/courses/{course.course_id}/chapters/{first}?start=0")
    assert 'data-start="0"' in restart


async def test_the_player_shows_the_key_points_an_administrator_named(
    client: TestClient, course: Course, database_url: str
) -> None:
    """Named key points replace the 30-second marks; those past what was watched (30 s)
    are not marked watched (the player still refuses to jump there)."""
    first = course.chapters[0]
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            """INSERT INTO chapter_key_points (chapter_id, at_s, title)
               VALUES ($1, 12.5, '课程导入'), ($1, 45, '案例<分析>')""",
            first,
        )
    finally:
        await connection.close()
    html = await page(client, f"/courses/{course.course_id}/chapters/{first}")
    assert (
        '<button type="button" data-time="12.5" class="watched">00:12'
        ' <span class="key-point-title">课程导入</span></button>'
    ) in html
    assert (
        '<button type="button" data-time="45">00:45'
        ' <span class="key-point-title">案例&lt;分析&gt;</span></button>'
    ) in html
    assert 'data-time="30"' not in html


async def test_unknown_plans_courses_and_chapters_are_not_found(
    client: TestClient, database_url: str, course: Course
) -> None:
    other = await build_course(database_url)
    await page(client, f"/courses/{course.course_id}/chapters/{other.chapters[0]}", status=404)
    await page(client, f"/courses/{course.course_id}/chapters/x1", status=404)
    await page(client, "/courses/999999", status=404)
    await page(client, "/plans/999999", status=404)


async def test_an_unselected_course_shows_why_it_cannot_be_played(
    client: TestClient, database_url: str, course: Course, registration: Payload
) -> None:
    client.session.cookie_jar.clear()
    await log_in(client, registration)
    html = await page(client, f"/courses/{course.course_id}")
    assert "您尚未选择本课程，选课后才能学习。" in html
    assert "/chapters/" not in html
    assert "resume-dialog" not in html
    player = await page(client, f"/courses/{course.course_id}/chapters/{course.chapters[0]}")
    assert NOT_WATCHABLE in player
    assert "<video" not in player
    assert "player.js" not in player
    assert "结束学习" in player


async def test_learning_pages_need_a_login(client: TestClient, course: Course) -> None:
    client.session.cookie_jar.clear()
    for path in ("/plans", f"/plans/{course.plan_id}", f"/courses/{course.course_id}"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"].startswith("/login?next=")
