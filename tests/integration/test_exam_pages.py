"""The exam pages (F20–F22): 我的考试 with its reasons, the paper, the result."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock, Course, build_course, enrol, origin_of
from tests.integration.test_exams import (
    DURATION_S,
    SECRET,
    complete_course,
    correct_answers,
    create_exam,
)
from tests.integration.test_learning_pages import csrf_token, log_in, page

Payload = Callable[..., dict[str, Any]]


@pytest.fixture
async def learner_id(client: TestClient, registration: Payload) -> int:
    return await log_in(client, registration)


@pytest.fixture
async def course(database_url: str, learner_id: int) -> Course:
    course = await build_course(
        database_url, examined=True, compulsory=True, elective_tenths=0, hour_tenths=30
    )
    await enrol(database_url, learner_id, course)
    return course


async def go_to_exam(client: TestClient, exam_id: int) -> str:
    """去考试 as the form sends it (after its dialog); the paper's address."""
    html = await page(client, "/exams")
    response = await client.post(
        f"/exams/{exam_id}/attempts", data={"csrf_token": csrf_token(html)}, allow_redirects=False
    )
    assert response.status == 302, await response.text()
    location: str = response.headers["Location"]
    assert re.fullmatch(r"/exams/attempts/\d+", location)
    return location


def attempt_of(location: str) -> int:
    return int(location.rsplit("/", 1)[1])


async def test_exams_page_says_why_an_exam_cannot_start(
    client: TestClient, course: Course, clock: Clock, database_url: str
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    html = await page(client, "/exams")
    assert "我的考试" in html
    assert "课程考试" in html
    assert "测试计划" in html
    assert "课程学习进度未达到100%，完成全部章节后才能参加考试" in html
    assert f'action="/exams/{exam_id}/attempts"' not in html  # never a button that does nothing
    assert "10分钟" in html
    assert "6分（满分10分）" in html
    # Posting anyway is refused with the same reason, and nothing starts.
    response = await client.post(
        f"/exams/{exam_id}/attempts", data={"csrf_token": csrf_token(html)}, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == "/exams"
    assert "课程学习进度未达到100%" in await page(client, "/exams")


async def test_no_exams_yet(client: TestClient, learner_id: int) -> None:
    assert "暂无考试" in await page(client, "/exams")


async def test_an_examined_course_without_an_exam_says_so(
    client: TestClient, course: Course
) -> None:
    """The manual's Q3: with no exam scheduled, the button did nothing; here it says why."""
    html = await page(client, "/exams")
    assert "测试课程" in html
    assert "管理员尚未安排本课程的考试" in html
    body = await (await client.get("/api/v1/exams")).json()
    assert body["exams"] == []
    assert [row["course_id"] for row in body["unscheduled"]] == [course.course_id]


async def test_paper_page_shows_the_paper_without_answers(
    client: TestClient, course: Course, clock: Clock, database_url: str, learner_id: int
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    assert "学习进度达到100%后，可在" in await page(client, f"/courses/{course.course_id}")
    await complete_course(database_url, learner_id, course)
    assert "学习进度已达100%，请到" in await page(client, f"/courses/{course.course_id}")
    listing = await page(client, "/exams")
    assert 'data-confirm-title="去考试"' in listing
    assert "您还有2次考试机会" in listing
    location = await go_to_exam(client, exam_id)
    html = await page(client, location)
    assert "课程考试" in html
    assert f"{DURATION_S // 60}分钟" in html
    assert "考试总分" in html
    assert "10分" in html
    assert "考生信息" in html
    assert "exam-rules" in html
    assert "一、单选题（共2题，共4分）" in html
    assert "二、多选题（共1题，共4分）" in html
    assert "三、判断题（共1题，共2分）" in html
    assert html.count('class="cell"') == 4 + 1  # four questions and the legend's grey
    assert html.count('type="checkbox"') == 4
    assert html.count('type="radio"') == 2 * 4 + 2
    assert SECRET not in html
    assert "explanation" not in html
    # The examinee's document number is shown only in part.
    assert re.search(r"<dd>\d{4}\*{10}[\dX]{4}</dd>", html)
    # Going back to 我的考试 offers the attempt again instead of a new one.
    assert f'href="{location}">继续考试' in await page(client, "/exams")
    assert await go_to_exam(client, exam_id) == location


async def test_result_page_after_submission(
    client: TestClient, course: Course, clock: Clock, database_url: str, learner_id: int
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    await complete_course(database_url, learner_id, course)
    location = await go_to_exam(client, exam_id)
    attempt = attempt_of(location)
    # Before submission the result page sends the learner back to the paper.
    early = await client.get(f"{location}/result", allow_redirects=False)
    assert early.status == 302
    assert early.headers["Location"] == location
    right = await correct_answers(database_url, attempt)
    ws = await client.ws_connect("/ws", headers=origin_of(client))
    await ws.send_json({"type": "exam.join", "attempt": attempt})
    assert (await ws.receive_json(timeout=5))["type"] == "exam.state"
    for seq, (question, keys) in enumerate(right.items(), 1):
        await ws.send_json(
            {
                "type": "exam.answer",
                "attempt": attempt,
                "question": question,
                "answer": keys,
                "seq": seq,
            }
        )
        assert (await ws.receive_json(timeout=5))["type"] == "exam.saved"
    await ws.send_json({"type": "exam.submit", "attempt": attempt})
    result = await ws.receive_json(timeout=5)
    assert result == {
        "type": "exam.result",
        "attempt": attempt,
        "score": 10,
        "passed": True,
        "total_score": 10,
    }
    await ws.close()
    # The paper now leads to the result, which shows the score, the verdict and what is left.
    response = await client.get(location, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == f"{location}/result"
    html = await page(client, f"{location}/result")
    assert '<strong class="score" id="score">10</strong>' in html
    assert "考试通过" in html
    assert "第1次" in html
    assert "考生交卷" in html
    assert "<dt>剩余考试次数</dt><dd>1</dd>" in html
    listing = await page(client, "/exams")
    assert "继续考试" not in listing
    assert "<td>10</td>" in listing


async def test_attempt_pages_are_the_learners_own(
    client: TestClient,
    course: Course,
    clock: Clock,
    database_url: str,
    learner_id: int,
    registration: Payload,
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    await complete_course(database_url, learner_id, course)
    location = await go_to_exam(client, exam_id)
    await client.post("/logout", data={"csrf_token": csrf_token(await page(client, "/exams"))})
    await log_in(client, registration)
    await page(client, location, status=404)
    await page(client, f"{location}/result", status=404)
    await page(client, "/exams/attempts/abc", status=404)
