"""Exams end to end: eligibility, attempts over the API, drafts over the websocket, the
deadline and its sweeper across two nodes, consequences for the plan."""

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine.appkeys import EXAM_SWEEPER, EXAMS, HUB
from engine.errors import DomainError
from engine.exams.grading import SHOWN_KEYS
from engine.exams.keys import GRACE_MS
from engine.exams.types import JoinedExam
from engine.sessions.exam_feed import ExamTicker
from tests.conftest import Clock, Course, Learner, build_course, enrol, new_learner
from web.app import create_portal

Payload = Callable[..., dict[str, Any]]
DURATION_S = 600
# Unique words only explanations and correct keys carry: no payload may contain them.
SECRET = "解析秘密"

BANK = [
    ("single", ["甲", "乙", "丙", "丁"], ["B"], 2),
    ("single", ["甲", "乙", "丙", "丁"], ["C"], 2),
    ("single", ["甲", "乙", "丙", "丁"], ["A"], 2),
    ("multiple", ["甲", "乙", "丙", "丁"], ["A", "C"], 4),
    ("multiple", ["甲", "乙", "丙", "丁"], ["B", "C", "D"], 4),
    ("true_false", ["正确", "错误"], ["F"], 2),
    ("true_false", ["正确", "错误"], ["T"], 2),
]
RECIPE = {"single": 2, "multiple": 1, "true_false": 1}  # 10 points in all


def ms_to_datetime(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


async def create_exam(database_url: str, course: Course, clock: Clock, **overrides: Any) -> int:
    fields: dict[str, Any] = {
        "opens_ms": clock.now_ms - 3_600_000,
        "closes_ms": clock.now_ms + 86_400_000,
        "attempts": 2,
        "pass_score": 6,
        "partial": False,
    }
    fields.update(overrides)
    connection = await asyncpg.connect(database_url)
    try:
        for kind, texts, answer, score in BANK:
            keys = ["T", "F"] if kind == "true_false" else list("ABCD")
            options = [{"key": key, "text": text} for key, text in zip(keys, texts, strict=True)]
            await connection.execute(
                """INSERT INTO questions (course_id, kind, stem, options, answer, score, explanation)
                   VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)""",
                course.course_id,
                kind,
                f"{kind}题干",
                json.dumps(options, ensure_ascii=False),
                answer,
                score,
                f"{SECRET}：答案是{''.join(answer)}",
            )
        exam_id: int = await connection.fetchval(
            """INSERT INTO exams (course_id, plan_id, title, opens_at, closes_at, duration_s,
                                  total_score, pass_score, attempts_allowed, partial_credit, recipe)
               VALUES ($1, $2, '课程考试', $3, $4, $5, 10, $6, $7, $8, $9::jsonb) RETURNING id""",
            course.course_id,
            course.plan_id,
            ms_to_datetime(fields["opens_ms"]),
            ms_to_datetime(fields["closes_ms"]),
            DURATION_S,
            fields["pass_score"],
            fields["attempts"],
            fields["partial"],
            json.dumps(RECIPE),
        )
    finally:
        await connection.close()
    return exam_id


async def complete_course(database_url: str, learner_id: int, course: Course) -> None:
    """Every chapter watched to the end, as the flusher would have stored it."""
    connection = await asyncpg.connect(database_url)
    try:
        for chapter in course.chapters:
            await connection.execute(
                """INSERT INTO chapter_progress (learner_id, chapter_id, hwm_s, position_s, complete)
                   VALUES ($1, $2, 30, 30, true)""",
                learner_id,
                chapter,
            )
        await connection.execute(
            "UPDATE selections SET completed_at = now() WHERE learner_id = $1 AND course_id = $2",
            learner_id,
            course.course_id,
        )
    finally:
        await connection.close()


async def correct_answers(database_url: str, attempt_id: int) -> dict[int, list[str]]:
    """The right answers in the keys this attempt shows (read from the server's side)."""
    connection = await asyncpg.connect(database_url)
    try:
        paper = json.loads(
            await connection.fetchval("SELECT paper FROM exam_attempts WHERE id = $1", attempt_id)
        )
        answers = dict(await connection.fetch("SELECT id, answer FROM questions"))
    finally:
        await connection.close()
    return {
        question: sorted(SHOWN_KEYS[order.index(key)] for key in answers[question])
        for question, order in paper
    }


def assert_no_secret(payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False)
    assert SECRET not in text
    for field in ("answer", "correct", "explanation"):
        assert f'"{field}"' not in text


class Examinee:
    """A websocket exam client that keeps every payload it receives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.ws.send_json(message)
        return await self.receive()

    async def receive(self, *, ticks: bool = False) -> dict[str, Any]:
        """The next reply; ticks (unless asked for) and notices are only kept in `seen`."""
        while True:
            reply: dict[str, Any] = await self.ws.receive_json(timeout=5)
            self.seen.append(reply)
            if reply["type"] == "notice":
                continue
            if ticks or reply["type"] != "exam.tick":
                return reply

    async def pending(self) -> list[dict[str, Any]]:
        """What arrives before 50 ms of silence, countdown ticks and notices left out."""
        replies = []
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                reply: dict[str, Any] = await self.ws.receive_json(timeout=0.05)
                self.seen.append(reply)
                if reply["type"] not in ("exam.tick", "notice"):
                    replies.append(reply)
        return replies

    def notices(self) -> list[str]:
        """The titles of the notices received so far."""
        return sorted(reply["title"] for reply in self.seen if reply["type"] == "notice")

    async def answer(
        self, attempt: int, question: int, answer: list[str], seq: int
    ) -> dict[str, Any]:
        return await self.send(
            {
                "type": "exam.answer",
                "attempt": attempt,
                "question": question,
                "answer": answer,
                "seq": seq,
            }
        )


async def examinee(client: TestClient, learner: Learner) -> Examinee:
    return Examinee(await client.ws_connect("/ws", headers=learner.headers))


@pytest.fixture
async def learner(client: TestClient, registration: Payload) -> Learner:
    return await new_learner(client, registration)


@pytest.fixture
async def course(database_url: str, learner: Learner) -> Course:
    course = await build_course(
        database_url, examined=True, compulsory=True, elective_tenths=0, hour_tenths=30
    )
    await enrol(database_url, learner.id, course)
    return course


async def start(client: TestClient, learner: Learner, exam_id: int) -> dict[str, Any]:
    response = await client.post(f"/api/v1/exams/{exam_id}/attempts", headers=learner.headers)
    body: dict[str, Any] = await response.json()
    assert response.status == 201, body
    assert_no_secret(body)
    attempt: dict[str, Any] = body["attempt"]
    return attempt


async def list_exams(client: TestClient, learner: Learner) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/exams", headers=learner.headers)
    exams: list[dict[str, Any]] = (await response.json())["exams"]
    return exams


async def test_eligibility_reasons(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    # A window shorter than a login (the session ends 12 h into the server's clock).
    exam_id = await create_exam(database_url, course, clock, closes_ms=clock.now_ms + 3_600_000)
    [listed] = await list_exams(client, learner)
    assert listed["eligible"] is False
    assert listed["reason"] == "课程学习进度未达到100%，完成全部章节后才能参加考试"
    refused = await client.post(f"/api/v1/exams/{exam_id}/attempts", headers=learner.headers)
    assert refused.status == 422
    assert (await refused.json())["error"]["message"] == listed["reason"]

    await complete_course(database_url, learner.id, course)
    [listed] = await list_exams(client, learner)
    assert (listed["eligible"], listed["reason"], listed["attempts_left"]) == (True, None, 2)

    clock.advance(2 * 3_600)
    [listed] = await list_exams(client, learner)
    assert listed["reason"] == "考试已结束"
    refused = await client.post(f"/api/v1/exams/{exam_id}/attempts", headers=learner.headers)
    assert refused.status == 422
    assert (await refused.json())["error"]["message"] == "考试已结束"


async def test_deadline_is_capped_by_the_window(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    exam_id = await create_exam(database_url, course, clock, closes_ms=clock.now_ms + 100_000)
    await complete_course(database_url, learner.id, course)
    attempt = await start(client, learner, exam_id)
    assert attempt["deadline_ms"] == clock.now_ms + 100_000
    assert attempt["server_now_ms"] == clock.now_ms


async def test_starts_racing_open_one_attempt(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    await complete_course(database_url, learner.id, course)
    responses = await asyncio.gather(
        *(
            client.post(f"/api/v1/exams/{exam_id}/attempts", headers=learner.headers)
            for _ in range(5)
        )
    )
    statuses = sorted(response.status for response in responses)
    assert statuses[0] == 201, statuses
    assert set(statuses) <= {201, 409}, statuses
    started = {
        (await response.json())["attempt"]["id"] for response in responses if response.status == 201
    }
    for response in responses:
        if response.status == 409:
            assert (await response.json())["error"]["message"] == "考试已在另一处开始，请刷新"
    connection = await asyncpg.connect(database_url)
    try:
        stored = await connection.fetch(
            "SELECT id, number FROM exam_attempts WHERE learner_id = $1", learner.id
        )
    finally:
        await connection.close()
    assert [(row["id"], row["number"]) for row in stored] == [(started.pop(), 1)]
    assert not started


async def test_an_attempt_from_paper_to_passed_plan(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    await complete_course(database_url, learner.id, course)
    attempt = await start(client, learner, exam_id)
    assert attempt["deadline_ms"] == clock.now_ms + DURATION_S * 1000
    questions = attempt["questions"]
    assert [q["type"] for q in questions] == ["single", "single", "multiple", "true_false"]
    assert all(
        [o["key"] for o in q["options"]] == list(SHOWN_KEYS[: len(q["options"])]) for q in questions
    )
    # Starting again while the attempt is open resumes it.
    assert (await start(client, learner, exam_id))["id"] == attempt["id"]

    player = await examinee(client, learner)
    state = await player.send({"type": "exam.join", "attempt": attempt["id"]})
    assert state == {
        "type": "exam.state",
        "attempt": attempt["id"],
        "deadline_ms": attempt["deadline_ms"],
        "server_now_ms": clock.now_ms,
        "answers": {},
        "flags": [],
    }
    right = await correct_answers(database_url, attempt["id"])
    for seq, (question, answer) in enumerate(right.items(), 1):
        saved = await player.answer(attempt["id"], question, answer, seq)
        assert saved == {
            "type": "exam.saved",
            "attempt": attempt["id"],
            "question": question,
            "seq": seq,
        }
    flag = {
        "type": "exam.flag",
        "attempt": attempt["id"],
        "question": questions[0]["id"],
        "flagged": True,
    }
    assert (await player.send(flag))["type"] == "exam.saved"
    bad = await player.answer(attempt["id"], questions[0]["id"], ["A", "B"], 99)
    assert (bad["type"], bad["code"]) == ("error", "bad_answer")
    ticker = ExamTicker(client.server.app[HUB], clock)
    assert ticker.tick((attempt["id"] + 1) % 3, 3) == 0  # another slice's turn
    assert ticker.tick() == 1
    tick = await player.receive(ticks=True)
    assert tick == {
        "type": "exam.tick",
        "attempt": attempt["id"],
        "remaining_ms": DURATION_S * 1000,
        "server_now_ms": clock.now_ms,
    }
    for payload in player.seen:
        assert_no_secret(payload)

    clock.advance(60)
    result = await player.send({"type": "exam.submit", "attempt": attempt["id"]})
    assert result == {
        "type": "exam.result",
        "attempt": attempt["id"],
        "score": 10,
        "passed": True,
        "total_score": 10,
    }
    after = await player.answer(attempt["id"], questions[0]["id"], ["A"], 100)
    assert (after["type"], after["code"]) == ("error", "not_joined")

    connection = await asyncpg.connect(database_url)
    try:
        enrolment = await connection.fetchrow(
            "SELECT state, earned_tenths FROM enrolments WHERE learner_id = $1", learner.id
        )
        best = await connection.fetchrow(
            "SELECT best_score, passed, passed_at, passed_score FROM exam_results"
        )
        stored = await connection.fetchrow("SELECT answers, flags, submitted_by FROM exam_attempts")
    finally:
        await connection.close()
    assert (enrolment["state"], enrolment["earned_tenths"]) == ("passed", 30)
    assert (best["best_score"], best["passed"], best["passed_score"]) == (10, True, 10)
    assert best["passed_at"] == ms_to_datetime(clock.now_ms)
    assert {int(k): v for k, v in json.loads(stored["answers"]).items()} == right
    assert stored["flags"] == [questions[0]["id"]]
    assert stored["submitted_by"] == "learner"

    # A second, empty attempt keeps the best score; then no attempts are left.
    second = await start(client, learner, exam_id)
    player2 = await examinee(client, learner)
    await player2.send({"type": "exam.join", "attempt": second["id"]})
    assert (await player2.send({"type": "exam.submit", "attempt": second["id"]}))["score"] == 0
    [listed] = await list_exams(client, learner)
    assert (listed["best_score"], listed["attempts_left"], listed["reason"]) == (
        10,
        0,
        "考试次数已用完",
    )
    refused = await client.post(f"/api/v1/exams/{exam_id}/attempts", headers=learner.headers)
    assert refused.status == 422


async def test_an_examined_course_earns_nothing_before_its_exam(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    from engine.progress.enrolments import refresh_enrolments

    await complete_course(database_url, learner.id, course)
    connection = await asyncpg.connect(database_url)
    try:
        await refresh_enrolments(connection, [learner.id], [course.plan_id])
        row = await connection.fetchrow("SELECT state, earned_tenths FROM enrolments")
    finally:
        await connection.close()
    assert (row["state"], row["earned_tenths"]) == ("learning", 0)


async def test_answers_after_deadline_and_grace_are_refused(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    await complete_course(database_url, learner.id, course)
    attempt = await start(client, learner, exam_id)
    question = attempt["questions"][0]["id"]
    player = await examinee(client, learner)
    await player.send({"type": "exam.join", "attempt": attempt["id"]})
    clock.advance(DURATION_S + 1.9)  # within the grace
    assert (await player.answer(attempt["id"], question, ["A"], 1))["type"] == "exam.saved"
    clock.advance(0.2)
    refused = await player.answer(attempt["id"], question, ["B"], 2)
    assert refused["type"] == "error"
    assert refused["code"] == "deadline_passed"


async def two_nodes(
    aiohttp_client: Any, settings: Any, clock: Clock
) -> tuple[TestClient, TestClient]:
    """Two app instances sharing PostgreSQL and Redis, on one clock."""
    first = await aiohttp_client(create_portal(settings, clock=clock))
    second = await aiohttp_client(create_portal(settings, clock=clock))
    return first, second


async def attempt_started(
    node: TestClient, registration: Payload, database_url: str, clock: Clock
) -> tuple[Learner, dict[str, Any]]:
    """A new learner at 100% in an examined compulsory course, its attempt at the exam
    started on `node`."""
    learner = await new_learner(node, registration)
    course = await build_course(database_url, examined=True, compulsory=True, elective_tenths=0)
    await enrol(database_url, learner.id, course)
    exam_id = await create_exam(database_url, course, clock)
    await complete_course(database_url, learner.id, course)
    return learner, await start(node, learner, exam_id)


async def test_two_nodes_race_to_auto_submit_once(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload, database_url: str
) -> None:
    node_a, node_b = await two_nodes(aiohttp_client, settings, clock)
    learner, attempt = await attempt_started(node_a, registration, database_url, clock)
    right = await correct_answers(database_url, attempt["id"])
    player = await examinee(node_b, learner)  # the socket is on B
    await player.send({"type": "exam.join", "attempt": attempt["id"]})
    question, answer = next(iter(right.items()))
    assert (await player.answer(attempt["id"], question, answer, 1))["type"] == "exam.saved"

    clock.advance(DURATION_S + 3)
    sweepers = [node.server.app[EXAM_SWEEPER] for node in (node_a, node_b)]
    await asyncio.gather(*(sweeper.run_once() for sweeper in sweepers for _ in range(3)))
    result = await player.receive()
    assert result["type"] == "exam.result"
    assert result["attempt"] == attempt["id"]
    assert result["score"] == 2  # the first question, a 2-point 单选题, answered right
    await asyncio.sleep(1.5)  # the background loops too have had their chance
    assert await player.pending() == []  # no second result
    # One 系统通知 of the auto-submission, pushed to the socket on B whichever node graded.
    [notice] = [reply for reply in player.seen if reply["type"] == "notice"]
    assert (notice["kind"], notice["title"], notice["unread"]) == ("system", "考试已自动交卷", 1)
    assert "得分：2分（满分10分），未通过" in notice["body"]
    assert sum(sweeper.submitted for sweeper in sweepers) == 1
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT status, submitted_by, score FROM exam_attempts")
    finally:
        await connection.close()
    assert [tuple(row) for row in rows] == [("submitted", "deadline", result["score"])]
    await node_a.close()
    await node_b.close()


async def test_reconnecting_to_another_node_keeps_answers_and_deadline(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload, database_url: str
) -> None:
    node_a, node_b = await two_nodes(aiohttp_client, settings, clock)
    learner, attempt = await attempt_started(node_a, registration, database_url, clock)
    first, second = attempt["questions"][0]["id"], attempt["questions"][2]["id"]
    player = await examinee(node_a, learner)
    await player.send({"type": "exam.join", "attempt": attempt["id"]})
    await player.answer(attempt["id"], first, ["C"], 1)
    await player.answer(attempt["id"], second, ["A", "D"], 2)
    await player.send(
        {"type": "exam.flag", "attempt": attempt["id"], "question": second, "flagged": True}
    )

    await node_a.close()  # the node holding the socket stops mid-exam
    clock.advance(120)
    again = await examinee(node_b, learner)
    state = await again.send({"type": "exam.join", "attempt": attempt["id"]})
    assert state == {
        "type": "exam.state",
        "attempt": attempt["id"],
        "deadline_ms": attempt["deadline_ms"],
        "server_now_ms": clock.now_ms,
        "answers": {str(first): ["C"], str(second): ["A", "D"]},
        "flags": [second],
    }
    assert (await again.answer(attempt["id"], first, ["B"], 3))["type"] == "exam.saved"
    await node_b.close()


async def test_a_result_stops_the_ticks_of_every_node(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload, database_url: str
) -> None:
    """Submitted from a tab on A, the attempt's other tab, on B, gets the result and no
    more ticks."""
    node_a, node_b = await two_nodes(aiohttp_client, settings, clock)
    learner, attempt = await attempt_started(node_a, registration, database_url, clock)
    here, there = await examinee(node_a, learner), await examinee(node_b, learner)
    for tab in (here, there):
        await tab.send({"type": "exam.join", "attempt": attempt["id"]})
    ticker_b = ExamTicker(node_b.server.app[HUB], clock)
    assert ticker_b.tick() == 1

    result = await here.send({"type": "exam.submit", "attempt": attempt["id"]})
    assert result["type"] == "exam.result"
    assert await there.receive() == result
    assert ticker_b.tick() == 0
    await node_a.close()
    await node_b.close()


async def test_sweepers_race_to_grade_a_batch_once(
    aiohttp_client: Any, settings: Any, clock: Clock, registration: Payload, database_url: str
) -> None:
    """Attempts falling due together, two nodes sweeping in small batches at once: each
    attempt is graded once, with every answer acknowledged, and its socket gets one result."""
    nodes = await two_nodes(aiohttp_client, settings, clock)
    course = await build_course(database_url, examined=True, compulsory=True, elective_tenths=0)
    exam_id = await create_exam(database_url, course, clock, closes_ms=clock.now_ms + 100_000)
    sitting = []
    for index in range(12):
        node = nodes[index % 2]
        learner = await new_learner(node, registration)
        await enrol(database_url, learner.id, course)
        await complete_course(database_url, learner.id, course)
        attempt = await start(node, learner, exam_id)
        player = await examinee(node, learner)
        await player.send({"type": "exam.join", "attempt": attempt["id"]})
        # The first k questions answered right, in paper order: 2 + 2 + 4 + 2 points.
        answered = dict(
            list((await correct_answers(database_url, attempt["id"])).items())[: index % 5]
        )
        for seq, (question, answer) in enumerate(answered.items(), 1):
            assert (await player.answer(attempt["id"], question, answer, seq))[
                "type"
            ] == "exam.saved"
        sitting.append((learner, attempt["id"], player, answered, [0, 2, 4, 8, 10][index % 5]))

    clock.advance(100 + GRACE_MS / 1000 + 0.001)
    sweepers = [node.server.app[EXAM_SWEEPER] for node in nodes]
    for sweeper in sweepers:
        sweeper.batch = 5
    await asyncio.gather(*(sweeper.run_once() for sweeper in sweepers for _ in range(3)))
    for _, attempt_id, player, _, score in sitting:
        result = await player.receive()
        assert (result["type"], result["attempt"], result["score"]) == (
            "exam.result",
            attempt_id,
            score,
        )
    await asyncio.sleep(1.5)  # the background loops too have had their chance
    for _, _, player, _, _ in sitting:
        assert await player.pending() == []
    assert sum(sweeper.submitted for sweeper in sweepers) == len(sitting)

    connection = await asyncpg.connect(database_url)
    try:
        attempts = {row["id"]: row for row in await connection.fetch("SELECT * FROM exam_attempts")}
        best = {
            row["learner_id"]: row for row in await connection.fetch("SELECT * FROM exam_results")
        }
        states = dict(await connection.fetch("SELECT learner_id, state FROM enrolments"))
    finally:
        await connection.close()
    for learner, attempt_id, _, answered, score in sitting:
        stored = attempts[attempt_id]
        assert (stored["status"], stored["submitted_by"], stored["score"]) == (
            "submitted",
            "deadline",
            score,
        )
        assert {int(k): v for k, v in json.loads(stored["answers"]).items()} == answered
        passed = score >= 6
        assert (best[learner.id]["best_score"], best[learner.id]["passed"]) == (score, passed)
        assert best[learner.id]["best_attempt_id"] == attempt_id
        assert states[learner.id] == ("passed" if passed else "learning")
    # One 系统通知 of each auto-submission, one of each plan passed, on whichever node.
    for _, _, player, _, score in sitting:
        expected = ["培训计划已通过", "考试已自动交卷"] if score >= 6 else ["考试已自动交卷"]
        assert player.notices() == expected
    for node in nodes:
        await node.close()


async def test_an_answer_taken_at_the_last_instant_is_graded(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    await complete_course(database_url, learner.id, course)
    attempt = await start(client, learner, exam_id)
    question, answer = next(iter((await correct_answers(database_url, attempt["id"])).items()))
    player = await examinee(client, learner)
    await player.send({"type": "exam.join", "attempt": attempt["id"]})
    sweeper = client.server.app[EXAM_SWEEPER]

    clock.advance(DURATION_S + GRACE_MS / 1000)  # answers are still taken, nothing is due
    assert await sweeper.run_once() == 0
    assert (await player.answer(attempt["id"], question, answer, 1))["type"] == "exam.saved"
    clock.advance(0.001)
    await sweeper.run_once()
    result = await player.receive()
    assert (result["type"], result["score"]) == ("exam.result", 2)
    # Closed in Redis before it was graded: no later answer can be acknowledged.
    joined = JoinedExam(attempt["id"], attempt["deadline_ms"], {question: ("single", 4)})
    with pytest.raises(DomainError) as refused:
        await client.server.app[EXAMS].save(learner.id, joined, question, ["A"], False, 2, clock())
    assert refused.value.code == "submitted"
    connection = await asyncpg.connect(database_url)
    try:
        stored = await connection.fetchval("SELECT answers FROM exam_attempts")
    finally:
        await connection.close()
    assert json.loads(stored) == {str(question): answer}


async def test_the_sweeper_wakes_when_the_next_attempt_falls_due(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    exam_id = await create_exam(database_url, course, clock, closes_ms=clock.now_ms + 100_000)
    await complete_course(database_url, learner.id, course)
    sweeper = client.server.app[EXAM_SWEEPER]
    assert await sweeper.next_pass_in(clock.now_ms) == sweeper.interval_s  # none in progress
    await start(client, learner, exam_id)
    assert await sweeper.next_pass_in(clock.now_ms) == sweeper.interval_s  # due in 102 s
    clock.advance(100 + GRACE_MS / 1000 - 0.3)
    assert await sweeper.next_pass_in(clock.now_ms) == pytest.approx(0.301)
    clock.advance(0.301)
    await sweeper.run_once()
    assert sweeper.submitted == 1
    assert await sweeper.next_pass_in(clock.now_ms) == sweeper.interval_s


async def test_a_late_frame_with_a_lower_seq_is_stale(
    client: TestClient, learner: Learner, course: Course, clock: Clock, database_url: str
) -> None:
    exam_id = await create_exam(database_url, course, clock)
    await complete_course(database_url, learner.id, course)
    attempt = await start(client, learner, exam_id)
    player = await examinee(client, learner)
    await player.send({"type": "exam.join", "attempt": attempt["id"]})
    right = await correct_answers(database_url, attempt["id"])
    first = next(iter(right))
    for seq, question in enumerate(right, 1):
        saved = await player.answer(attempt["id"], question, right[question], seq)
        assert saved == {
            "type": "exam.saved",
            "attempt": attempt["id"],
            "question": question,
            "seq": seq,
        }
    wrong = ["D"] if right[first] != ["D"] else ["A"]
    # A late frame (an old socket's, another tab's): its seq is not above the stored one.
    for seq in (1, 0):
        late = await player.answer(attempt["id"], first, wrong, seq)
        assert late == {
            "type": "exam.saved",
            "attempt": attempt["id"],
            "question": first,
            "seq": seq,
            "stale": True,
        }
    # The same frame again is a resend: acknowledged, nothing rewritten.
    assert (await player.answer(attempt["id"], first, right[first], 1))["seq"] == 1
    flag = {"type": "exam.flag", "attempt": attempt["id"], "question": first}
    assert "stale" not in await player.send(flag | {"flagged": True, "seq": 10})
    assert (await player.send(flag | {"flagged": False, "seq": 9}))["stale"] is True

    again = await examinee(client, learner)
    state = await again.send({"type": "exam.join", "attempt": attempt["id"]})
    assert state["answers"] == {str(question): answer for question, answer in right.items()}
    assert state["flags"] == [first]
    result = await again.send({"type": "exam.submit", "attempt": attempt["id"]})
    assert (result["score"], result["passed"]) == (10, True)
