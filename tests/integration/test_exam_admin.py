"""Bank and exam administration against PostgreSQL: every use case called as the super
administrator, administrators of organisations A and B, a teacher and a learner, on courses
of A, of A's sub-organisation, of B and of the platform — refused calls change nothing,
allowed changes are audited — then imports, versioned questions, exam rules under attempts,
and the results export."""

import asyncio
import csv
import io
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from engine import db
from engine.admin.scope import Scope, scope_of
from engine.appkeys import DB, EXAMS
from engine.clock import china_time
from engine.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from engine.exams import admin, result_export
from engine.exams.bank_file import HEADER, MAX_ROWS, BankFileRefused, template_csv
from engine.exams.exam_form import exam_fields as form_of
from tests.conftest import Clock, build_course, enrol, new_learner
from tests.integration.test_exams import Payload, complete_course, correct_answers

NOW_MS = 1_800_000_000_000  # 2027-01-15 08:00 UTC
HOUR_MS = 3_600_000
_stems = itertools.count(1)


def bank_csv(*rows: tuple[str, str, str]) -> bytes:
    """A bank file of (kind, answer, score) rows, each with a new stem and four options."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for kind, answer, score in rows:
        options = ["", "", "", ""] if kind == "判断题" else ["甲", "乙", "丙", "丁"]
        writer.writerow([kind, f"第{next(_stems)}题", *options, "", "", answer, score, ""])
    return buffer.getvalue().encode()


def exam_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "title": "课程考试",
        "plan_id": "",
        "opens_at": "2027-01-15 08:00",
        "closes_at": "2027-02-15 08:00",
        "duration_min": "60",
        "total_score": "5",
        "pass_score": "3",
        "attempts_allowed": "2",
        "recipe_single": "1",
        "recipe_multiple": "0",
        "recipe_true_false": "0",
    }
    fields.update(overrides)
    return fields


@dataclass
class World:
    orgs: dict[str, int]
    scopes: dict[str, Scope]
    users: dict[str, tuple[int, str, str, int]]  # name → (id, name, role, org)
    courses: dict[str, int]  # a, a1, b, platform
    plans: dict[str, int]


async def build_world(connection: asyncpg.Connection) -> World:
    orgs: dict[str, int] = {}
    for code, parent in (("root", None), ("A", "root"), ("A1", "A"), ("B", "root")):
        orgs[code] = await connection.fetchval(
            "INSERT INTO orgs (code, name, parent_id) VALUES ($1, $2, $3) RETURNING id",
            code,
            f"单位{code}",
            orgs.get(parent or ""),
        )
    users = {}
    for name, role, org in (
        ("boss", "super", "root"),
        ("admin_a", "admin", "A"),
        ("admin_b", "admin", "B"),
        ("teacher_a", "teacher", "A"),
        ("learner_a", "learner", "A1"),
        ("learner_b", "learner", "B"),
    ):
        user_id = await connection.fetchval(
            """INSERT INTO users (username, password_hash, role, org_id, real_name, phone, id_type,
                                  id_number)
               VALUES ($1, 'x', $2, $3, $4, '13800000000', 'passport', $1) RETURNING id""",
            name,
            role,
            orgs[org],
            f"={name}" if name == "learner_b" else f"学员{name}",
        )
        users[name] = (user_id, name, role, orgs[org])
    courses, plans = {}, {}
    for key, org in (("a", "A"), ("a1", "A1"), ("b", "B"), ("platform", None)):
        org_id = orgs[org] if org else None
        plans[key] = await connection.fetchval(
            """INSERT INTO plans (code, title, kind, year, opens_at, closes_at, org_id)
               VALUES ($1, $2, 'public', 2027, '2027-01-01', '2028-01-01', $3) RETURNING id""",
            f"plan-{key}",
            f"计划{key}",
            org_id,
        )
        courses[key] = await connection.fetchval(
            """INSERT INTO courses (code, title, hour_tenths, org_id)
               VALUES ($1, $2, 20, $3) RETURNING id""",
            f"course-{key}",
            f"课程{key}",
            org_id,
        )
        await connection.execute(
            "INSERT INTO plan_courses (plan_id, course_id, examined) VALUES ($1, $2, true)",
            plans[key],
            courses[key],
        )
    scopes = {
        name: scope_of(*user)
        for name, user in users.items()
        if user[2] in ("super", "admin", "teacher")
    }
    return World(orgs, scopes, users, courses, plans)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, min_size=1, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
async def world(pool: asyncpg.Pool) -> World:
    async with pool.acquire() as connection:
        return await build_world(connection)


async def snapshot(pool: asyncpg.Pool) -> list[list[tuple[Any, ...]]]:
    return [
        [tuple(row) for row in await pool.fetch(f"SELECT * FROM {table} ORDER BY id")]
        for table in ("questions", "exams", "exam_attempts", "audit_log")
    ]


async def audit_actions(pool: asyncpg.Pool) -> list[str]:
    return [row["action"] for row in await pool.fetch("SELECT action FROM audit_log ORDER BY id")]


@dataclass
class Target:
    course: int
    question: int
    spare_question: int
    exam: int


async def fresh_target(pool: asyncpg.Pool, boss: Scope, course_id: int) -> Target:
    """Two questions worth 5 and an exam drawing one of them, made by the super admin."""
    await admin.import_bank(
        pool, boss, course_id, bank_csv(("单选题", "A", "5"), ("单选题", "B", "5")), "t.csv", NOW_MS
    )
    view = await admin.bank(pool, boss, course_id, query="题")
    *_, question, spare = view.questions.items
    exam_id = await admin.create_exam(pool, boss, course_id, exam_fields(), NOW_MS)
    return Target(course_id, question.id, spare.id, exam_id)


async def export(pool: asyncpg.Pool, scope: Scope, exam_id: int) -> list[bytes]:
    await result_export.results_export(pool, scope, exam_id)
    return [line async for line in result_export.result_lines(pool, scope, exam_id)]


Operation = Callable[[asyncpg.Pool, Scope, Target], Awaitable[object]]
# Each use case, and whether an allowed call appends an audit row.
OPERATIONS: dict[str, tuple[Operation, bool]] = {
    "bank": (lambda pool, scope, t: admin.bank(pool, scope, t.course), False),
    "exams": (lambda pool, scope, t: admin.exams(pool, scope, t.course), False),
    "question": (lambda pool, scope, t: admin.question(pool, scope, t.question), False),
    "exam": (lambda pool, scope, t: admin.exam(pool, scope, t.exam), False),
    "import": (
        lambda pool, scope, t: admin.import_bank(
            pool, scope, t.course, bank_csv(("单选题", "C", "5")), "q.csv", NOW_MS
        ),
        True,
    ),
    "edit_question": (
        lambda pool, scope, t: admin.edit_question(
            pool,
            scope,
            t.question,
            {
                "kind": "单选题",
                "stem": f"改过的题{next(_stems)}",
                "option_a": "甲",
                "option_b": "乙",
                "answer": "B",
                "score": "5",
            },
            NOW_MS,
        ),
        True,
    ),
    "delete_question": (
        lambda pool, scope, t: admin.delete_question(pool, scope, t.spare_question, NOW_MS),
        True,
    ),
    "create_exam": (
        lambda pool, scope, t: admin.create_exam(pool, scope, t.course, exam_fields(), NOW_MS),
        True,
    ),
    "edit_exam": (
        lambda pool, scope, t: admin.edit_exam(pool, scope, t.exam, exam_fields(title="新名称")),
        True,
    ),
    "export": (lambda pool, scope, t: export(pool, scope, t.exam), True),
    "delete_exam": (lambda pool, scope, t: admin.delete_exam(pool, scope, t.exam), True),
}
ALLOWED = {
    "boss": {"a", "a1", "b", "platform"},
    "admin_a": {"a", "a1"},
    "admin_b": {"b"},
    "teacher_a": set(),
}


async def test_every_use_case_as_every_role_on_every_organisation(
    pool: asyncpg.Pool, world: World
) -> None:
    boss = world.scopes["boss"]
    for actor, course_key in itertools.product(ALLOWED, world.courses):
        target = await fresh_target(pool, boss, world.courses[course_key])
        scope = world.scopes[actor]
        for name, (operation, audited) in OPERATIONS.items():
            before = await snapshot(pool)
            if course_key in ALLOWED[actor]:
                await operation(pool, scope, target)
                actions = await audit_actions(pool)
                assert len(actions) == len(before[3]) + audited, (actor, course_key, name)
                continue
            expected = Forbidden if actor == "teacher_a" else NotFound
            with pytest.raises(expected):
                await operation(pool, scope, target)
            assert await snapshot(pool) == before, (actor, course_key, name)
    # A learner has no administrative scope at all.
    with pytest.raises(Forbidden):
        scope_of(*world.users["learner_a"])


async def test_course_lists_show_only_the_scope(pool: asyncpg.Pool, world: World) -> None:
    listed = {
        actor: {bank.course.id for bank in (await admin.course_banks(pool, scope)).items}
        for actor, scope in world.scopes.items()
        if actor != "teacher_a"
    }
    ids = world.courses
    assert listed == {
        "boss": set(ids.values()),
        "admin_a": {ids["a"], ids["a1"]},
        "admin_b": {ids["b"]},
    }
    found = await admin.course_banks(pool, world.scopes["boss"], query="课程a")
    assert {bank.course.id for bank in found.items} == {ids["a"], ids["a1"]}
    assert found.total == 2


async def test_an_import_stores_every_row_or_nothing(pool: asyncpg.Pool, world: World) -> None:
    scope, course = world.scopes["admin_a"], world.courses["a"]
    report = await admin.import_bank(pool, scope, course, template_csv(), "模板.csv", NOW_MS)
    assert (report.imported, report.counts) == (3, {"single": 1, "multiple": 1, "true_false": 1})
    [row] = await pool.fetch("SELECT actor_name, action, object_id, after FROM audit_log")
    assert (row["actor_name"], row["action"], row["object_id"]) == (
        "admin_a",
        "question.import",
        str(course),
    )
    after = json.loads(row["after"])
    assert (after["file"], after["imported"], len(after["question_ids"])) == ("模板.csv", 3, 3)

    before = await snapshot(pool)
    bad = bank_csv(("单选题", "A", "2"), ("单选题", "G", "2"), ("多选题", "AB", "2"))
    with pytest.raises(BankFileRefused) as refused:
        await admin.import_bank(pool, scope, course, bad, "bad.csv", NOW_MS)
    assert refused.value.errors == ["第 3 行：答案 G 不在选项中"]
    with pytest.raises(BankFileRefused) as refused:
        await admin.import_bank(pool, scope, course, template_csv(), "again.csv", NOW_MS)
    assert refused.value.errors == [f"第 {row} 行：题库中已有相同的题目" for row in (2, 3, 4)]
    assert await snapshot(pool) == before

    view = await admin.bank(pool, scope, course, kind="multiple")
    assert [question.answer for question in view.questions.items] == [["A", "B"]]
    assert view.counts == {"single": 1, "multiple": 1, "true_false": 1}


async def start_attempt(
    pool: db.Executor, exam_id: int, learner_id: int, question_ids: list[int], **fields: Any
) -> int:
    """An attempt as the exam service would store it (the paper lists the questions)."""
    attempt_id: int = await pool.fetchval(
        """INSERT INTO exam_attempts (exam_id, learner_id, number, started_at, deadline, paper,
                                      total_score, status, score, passed, submitted_at)
           VALUES ($1, $2, $3, now(), now() + interval '1 hour', $4::jsonb, 5, $5, $6, $7, $8)
           RETURNING id""",
        exam_id,
        learner_id,
        fields.get("number", 1),
        json.dumps([[question, ["A", "B", "C", "D"]] for question in question_ids]),
        fields.get("status", "in_progress"),
        fields.get("score"),
        fields.get("passed"),
        fields.get("submitted_at"),
    )
    return attempt_id


async def test_questions_change_by_new_versions_and_papers_keep_theirs(
    pool: asyncpg.Pool, world: World
) -> None:
    scope, course = world.scopes["admin_a"], world.courses["a"]
    target = await fresh_target(pool, scope, course)
    learner = world.users["learner_a"][0]
    attempt = await start_attempt(pool, target.exam, learner, [target.question])
    old = await pool.fetchrow("SELECT * FROM questions WHERE id = $1", target.question)

    fields = {"kind": "单选题", "stem": "新题干", "option_a": "甲", "option_b": "乙",
              "answer": "B", "score": "5", "explanation": "新解析"}  # fmt: skip
    new = await admin.edit_question(pool, scope, target.question, fields, NOW_MS)
    assert new.id != target.question
    assert (new.stem, new.answer, new.explanation) == ("新题干", ["B"], "新解析")
    # The paper's question is as it was drawn, retired, and points at its new version.
    kept = await pool.fetchrow("SELECT * FROM questions WHERE id = $1", target.question)
    assert (kept["stem"], kept["answer"], kept["options"]) == (
        old["stem"],
        old["answer"],
        old["options"],
    )
    assert (kept["retired_at"] is not None, kept["replaced_by"]) == (True, new.id)
    paper = json.loads(
        await pool.fetchval("SELECT paper FROM exam_attempts WHERE id = $1", attempt)
    )
    assert paper[0][0] == target.question
    with pytest.raises(NotFound):
        await admin.question(pool, scope, target.question)
    # Unchanged fields store nothing.
    assert await admin.edit_question(pool, scope, new.id, fields, NOW_MS) == new
    [edit] = await pool.fetch("SELECT before, after FROM audit_log WHERE action = 'question.edit'")
    assert json.loads(edit["before"])["stem"] == old["stem"]
    assert json.loads(edit["after"])["id"] == new.id

    with pytest.raises(InvalidInput) as refused:
        await admin.edit_question(
            pool, scope, new.id, {**fields, "answer": "G", "stem": ""}, NOW_MS
        )
    assert refused.value.fields == {"stem": "题干不能为空", "answer": "答案 G 不在选项中"}

    await admin.delete_question(pool, scope, target.spare_question, NOW_MS)
    view = await admin.bank(pool, scope, course)
    assert [question.id for question in view.questions.items] == [new.id]
    # The exam draws one question: the last one cannot go.
    before = await snapshot(pool)
    with pytest.raises(Conflict) as conflict:
        await admin.delete_question(pool, scope, new.id, NOW_MS)
    assert (
        conflict.value.message
        == "删除后，考试“课程考试”将无法组卷：单选题需抽 1 道，题库中只有 0 道"
    )
    # Nor may another score make papers worth other than the exam's total.
    with pytest.raises(Conflict):
        await admin.edit_question(pool, scope, new.id, {**fields, "score": "4"}, NOW_MS)
    with pytest.raises(BankFileRefused) as refused:
        await admin.import_bank(
            pool, scope, course, bank_csv(("单选题", "A", "2")), "x.csv", NOW_MS
        )
    assert refused.value.errors == [
        "导入后，考试“课程考试”将无法组卷：题库中单选题的分值不一（2–5 分），"
        "每份试卷的总分会不同；请统一同一题型的分值"
    ]
    assert await snapshot(pool) == before


async def test_exam_rules_are_checked_against_the_bank(pool: asyncpg.Pool, world: World) -> None:
    scope, course = world.scopes["admin_a"], world.courses["a"]
    await admin.import_bank(
        pool,
        scope,
        course,
        bank_csv(("单选题", "A", "2"), ("单选题", "B", "2"), ("多选题", "AB", "4"), ("判断题", "正确", "1"), ("判断题", "错误", "2")),
        "b.csv",
        NOW_MS,
    )  # fmt: skip
    refusals = [
        (exam_fields(recipe_single="3", total_score="6"), {"recipe_single": "单选题需抽 3 道，题库中只有 2 道"}),
        (exam_fields(recipe_single="2", total_score="5"), {"total_score": "按组卷规则抽题，试卷总分为 4 分，与考试总分 5 分不符"}),
        (exam_fields(recipe_true_false="1", total_score="5"), {"recipe_true_false": "题库中判断题的分值不一（1–2 分），每份试卷的总分会不同；请统一同一题型的分值"}),
        (exam_fields(recipe_single="0"), {"recipe_single": "组卷规则至少要抽取 1 道题"}),
        (exam_fields(plan_id=str(world.plans["b"]), recipe_single="2", total_score="4"), {"plan_id": "该培训计划不含本课程"}),
        (exam_fields(closes_at="2027-01-01 08:00", opens_at="2026-12-01 08:00"), {"closes_at": "结束时间已过，考试将无法参加"}),
        (exam_fields(pass_score="9", closes_at="2027-01-01 07:00"), {"pass_score": "及格线不能高于总分", "closes_at": "结束时间应晚于开始时间"}),
        (exam_fields(duration_min="零", title=""), {"duration_min": "考试时长（分钟）应为 1 到 1440 的整数", "title": "考试名称不能为空"}),
    ]  # fmt: skip
    for fields, errors in refusals:
        with pytest.raises(InvalidInput) as refused:
            await admin.create_exam(pool, scope, course, fields, NOW_MS)
        assert refused.value.fields == errors
    assert await pool.fetchval("SELECT count(*) FROM exams") == 0

    exam_id = await admin.create_exam(
        pool,
        scope,
        course,
        exam_fields(
            plan_id=str(world.plans["a"]),
            recipe_single="2",
            recipe_multiple="1",
            total_score="8",
            pass_score="5",
            partial_credit="on",
        ),
        NOW_MS,
    )
    exam, _ = await admin.exam(pool, scope, exam_id)
    assert exam.rules.recipe == {"single": 2, "multiple": 1, "true_false": 0}
    assert (exam.rules.duration_s, exam.rules.partial_credit, exam.plan_title) == (
        3600,
        True,
        "计划a",
    )
    # The form's times are Beijing time: 08:00 there is midnight UTC.
    assert exam.rules.opens_ms == NOW_MS - 8 * HOUR_MS


async def test_exam_edits_under_attempts(pool: asyncpg.Pool, world: World) -> None:
    scope = world.scopes["admin_a"]
    target = await fresh_target(pool, scope, world.courses["a"])
    learner = world.users["learner_a"][0]
    attempt = await start_attempt(pool, target.exam, learner, [target.question])

    # Stored to the second (not by the form): the form's minutes still count as unchanged.
    await pool.execute(
        """UPDATE exams SET opens_at = opens_at + interval '17 seconds', duration_s = 3630
           WHERE id = $1""",
        target.exam,
    )
    exam, _ = await admin.exam(pool, scope, target.exam)
    await admin.edit_exam(pool, scope, target.exam, {**form_of(exam.rules), "title": "新名称"})
    exam, _ = await admin.exam(pool, scope, target.exam)
    assert (exam.rules.title, exam.rules.duration_s) == ("新名称", 3630)

    before = await snapshot(pool)
    for change in ({"pass_score": "4"}, {"closes_at": "2027-03-01 08:00"}, {"duration_min": "90"}):
        with pytest.raises(Conflict) as conflict:
            await admin.edit_exam(pool, scope, target.exam, exam_fields(**change))
        assert conflict.value.message.startswith("有 1 名考生正在作答，现在只能修改考试名称")
    with pytest.raises(Conflict):
        await admin.delete_exam(pool, scope, target.exam)
    assert await snapshot(pool) == before
    await admin.edit_exam(pool, scope, target.exam, exam_fields(title="期末考试"))

    await pool.execute(
        "UPDATE exam_attempts SET status = 'submitted', score = 5, passed = true WHERE id = $1",
        attempt,
    )
    with pytest.raises(Conflict) as conflict:
        await admin.edit_exam(
            pool, scope, target.exam, exam_fields(title="期末考试", pass_score="4")
        )
    assert conflict.value.message.startswith("已有考生参加过本考试，其成绩按现有规则评定")
    await admin.edit_exam(
        pool,
        scope,
        target.exam,
        exam_fields(title="期末考试", closes_at="2027-03-01 08:00", attempts_allowed="3"),
    )
    exam, _ = await admin.exam(pool, scope, target.exam)
    assert (exam.rules.title, exam.rules.attempts_allowed, exam.attempts) == ("期末考试", 3, 1)
    edits = await pool.fetch(
        "SELECT before, after FROM audit_log WHERE action = 'exam.edit' ORDER BY id"
    )
    titles = [json.loads(edit["after"])["title"] for edit in edits]
    assert titles == ["新名称", "期末考试", "期末考试"]
    assert json.loads(edits[2]["before"])["attempts_allowed"] == 2


async def test_an_edit_waits_for_a_starting_attempt_and_then_sees_it(
    pool: asyncpg.Pool, world: World
) -> None:
    """A learner's start commits while the edit waits for the exam's row: the edit must
    count that attempt, not the attempts its first statement saw."""
    scope = world.scopes["admin_a"]
    target = await fresh_target(pool, scope, world.courses["a"])
    async with pool.acquire() as learner, learner.transaction():
        await start_attempt(learner, target.exam, world.users["learner_a"][0], [target.question])
        edit = asyncio.create_task(
            admin.edit_exam(pool, scope, target.exam, exam_fields(pass_score="4"))
        )
        await asyncio.sleep(0.3)
        assert not edit.done()
    with pytest.raises(Conflict) as conflict:
        await edit
    assert conflict.value.message.startswith("有 1 名考生正在作答")


async def test_results_export(
    pool: asyncpg.Pool, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One learner a query: the batches follow each other.
    monkeypatch.setattr(result_export, "RESULT_BATCH", 1)
    boss = world.scopes["boss"]
    target = await fresh_target(pool, boss, world.courses["a"])
    learner_a, learner_b = world.users["learner_a"][0], world.users["learner_b"][0]
    passed_at = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
    for number, score in ((1, 2), (2, 5)):
        await start_attempt(
            pool, target.exam, learner_a, [target.question], number=number, status="submitted",
            score=score, passed=score >= 3, submitted_at=passed_at,
        )  # fmt: skip
    best_attempt = await pool.fetchval("SELECT max(id) FROM exam_attempts")
    await pool.execute(
        """INSERT INTO exam_results (learner_id, exam_id, best_score, best_attempt_id, passed,
                                     passed_at, passed_score)
           VALUES ($1, $2, 5, $3, true, $4, 5)""",
        learner_a,
        target.exam,
        best_attempt,
        passed_at,
    )
    # learner_b selected the course but has not taken the exam.
    await pool.execute(
        "INSERT INTO enrolments (learner_id, plan_id) VALUES ($1, $2)", learner_b, world.plans["a"]
    )
    await pool.execute(
        "INSERT INTO selections (learner_id, plan_id, course_id, source) VALUES ($1, $2, $3, 'purchase')",
        learner_b,
        world.plans["a"],
        world.courses["a"],
    )

    lines = await export(pool, world.scopes["admin_a"], target.exam)
    assert lines[0].startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(b"".join(lines).decode("utf-8-sig"))))
    assert rows == [
        ["姓名", "用户名", "单位", "考试次数", "最高分", "是否通过", "首次开考时间", "最近交卷时间", "通过时间"],
        ["学员learner_a", "learner_a", "单位A1", "2", "5", "是", rows[1][6], "2027-01-15 17:30", "2027-01-15 17:30"],
        ["'=learner_b", "learner_b", "单位B", "0", "", "否", "", "", ""],
    ]  # fmt: skip
    [row] = await pool.fetch(
        "SELECT actor_name, object_id FROM audit_log WHERE action = 'exam.export_results'"
    )
    assert tuple(row) == ("admin_a", str(target.exam))
    with pytest.raises(NotFound):
        await result_export.results_export(pool, world.scopes["admin_b"], target.exam)
    with pytest.raises(NotFound):
        await anext(aiter(result_export.result_lines(pool, world.scopes["admin_b"], target.exam)))


async def test_refusals_are_domain_errors_with_chinese_messages(
    pool: asyncpg.Pool, world: World
) -> None:
    with pytest.raises(DomainError) as refused:
        await admin.import_bank(
            pool, world.scopes["admin_a"], world.courses["a"], b"\x00\x01", "x.xlsx", NOW_MS
        )
    assert refused.value.status == 400
    assert (
        refused.value.message == "未导入任何题目：文件不是有效的 XLSX 或 CSV 文件，请使用题库模板"
    )


async def test_a_paper_in_progress_is_graded_on_the_question_it_drew(
    client: TestClient, clock: Clock, database_url: str, org_id: int, registration: Payload
) -> None:
    """The whole path: a learner starts, the administrator changes the drawn question's answer
    and text, the learner answers as the paper showed and is graded on what it showed."""
    app = client.server.app
    pool, exams = app[DB], app[EXAMS]
    course = await build_course(database_url, examined=True, compulsory=True, hour_tenths=30)
    learner = await new_learner(client, registration)
    await enrol(database_url, learner.id, course)
    await complete_course(database_url, learner.id, course)
    boss_id = await pool.fetchval(
        """INSERT INTO users (username, password_hash, role, org_id, real_name, phone, id_type,
                              id_number)
           VALUES ('boss', 'x', 'super', $1, '管理员', '13800000000', 'passport', 'boss')
           RETURNING id""",
        org_id,
    )
    boss = scope_of(boss_id, "boss", "super", org_id)
    await admin.import_bank(
        pool, boss, course.course_id, bank_csv(("单选题", "A", "5")), "q.csv", clock.now_ms
    )
    window = {
        "opens_at": china_time(clock.now_ms - HOUR_MS).strftime("%Y-%m-%d %H:%M"),
        "closes_at": china_time(clock.now_ms + 24 * HOUR_MS).strftime("%Y-%m-%d %H:%M"),
    }
    exam_id = await admin.create_exam(
        pool, boss, course.course_id, exam_fields(**window), clock.now_ms
    )

    started = await exams.start(pool, learner.id, exam_id, clock.now_ms)
    [shown] = started.questions
    right = await correct_answers(database_url, started.id)
    drawn = await admin.question(pool, boss, shown.id)
    edited = await admin.edit_question(
        pool,
        boss,
        shown.id,
        {
            "kind": "单选题",
            "stem": "改过的题干",
            "option_a": "甲",
            "option_b": "乙",
            "option_c": "丙",
            "option_d": "丁",
            "answer": "D",
            "score": "5",
        },
        clock.now_ms,
    )
    assert edited.id != shown.id
    # The exam's title may change under the attempt; its rules may not.
    await admin.edit_exam(pool, boss, exam_id, exam_fields(**window, title="改名的考试"))

    joined, _, _ = await exams.join(pool, learner.id, started.id, "conn", "node", clock.now_ms)
    await exams.save(learner.id, joined, shown.id, right[shown.id], False, 1, clock.now_ms)
    result, _ = await exams.submit(pool, learner.id, started.id, clock.now_ms)
    assert (result.score, result.passed) == (5, True)
    view = await exams.view(pool, learner.id, started.id, with_paper=True)
    assert [question.stem for question in view.questions] == [drawn[0].stem]
    assert view.exam.title == "改名的考试"


async def test_a_file_of_the_most_rows_allowed_is_stored_whole(
    pool: asyncpg.Pool, world: World
) -> None:
    rows = [("判断题", "正确", "1")] * MAX_ROWS
    report = await admin.import_bank(
        pool, world.scopes["admin_b"], world.courses["b"], bank_csv(*rows), "大题库.csv", NOW_MS
    )
    assert report.imported == MAX_ROWS
    assert report.counts == {"single": 0, "multiple": 0, "true_false": MAX_ROWS}
    stems = await pool.fetch("SELECT stem FROM questions ORDER BY id")
    assert len({row["stem"] for row in stems}) == MAX_ROWS


async def test_exam_lists_show_only_the_scope(pool: asyncpg.Pool, world: World) -> None:
    boss = world.scopes["boss"]
    targets = {key: await fresh_target(pool, boss, world.courses[key]) for key in world.courses}
    await admin.edit_exam(
        pool,
        boss,
        targets["a1"].exam,
        exam_fields(title="已结束的考试", closes_at="2027-01-15 09:00"),
    )

    async def listed(actor: str, **filters: str) -> set[int]:
        page = await admin.all_exams(pool, world.scopes[actor], NOW_MS, **filters)
        return {row.exam.id for row in page.items}

    exams = {key: target.exam for key, target in targets.items()}
    assert await listed("boss") == set(exams.values())
    assert await listed("admin_a") == {exams["a"], exams["a1"]}
    assert await listed("admin_b") == {exams["b"]}
    assert await listed("admin_a", state="closed") == {exams["a1"]}
    assert await listed("admin_a", state="open") == {exams["a"]}
    assert await listed("boss", query="课程b") == {exams["b"]}
    assert await listed("boss", query="已结束") == {exams["a1"]}
    with pytest.raises(Forbidden):
        await admin.all_exams(pool, world.scopes["teacher_a"], NOW_MS)
