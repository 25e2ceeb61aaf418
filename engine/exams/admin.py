"""Administering question banks and exams, within an organisation subtree.

Every use case takes the acting scope first, requires an administrator, finds its objects
through SQL that applies the scope to the course's owner (outside it: NotFound), and
writes its audit row in the transaction of its change.

Papers reference questions by id and are graded against the question row, so a question
is never changed in place: an edit stores a new version and retires the old one, a deletion
retires it; a paper in progress is graded, and a graded one reviewed, on what it drew.
An exam's rules are fixed while an attempt is in progress (only its title may change), and
its scoring rules once anyone has attempted it.
"""

import asyncio
from collections.abc import Mapping

import asyncpg

from engine.admin import audit
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.db import Connection, Executor
from engine.errors import Conflict, InvalidInput, NotFound
from engine.exams import admin_store as store
from engine.exams.admin_types import (
    AdminExam,
    BankQuestion,
    BankView,
    CourseBank,
    CourseRef,
    ImportReport,
    ListedExam,
    PlanChoice,
)
from engine.exams.bank_file import BankFileRefused, read_bank
from engine.exams.exam_form import ExamDraft, as_precise_as, read_exam
from engine.exams.question_form import NewQuestion, read_question
from engine.exams.recipe import recipe_errors
from engine.exams.types import QuestionKind

# What an attempt in progress is graded by, and what graded attempts were graded by.
SCORING_RULES = ("plan_id", "total_score", "pass_score", "partial_credit", "recipe")
COURSE_NOT_FOUND = "课程不存在"
QUESTION_NOT_FOUND = "题目不存在"
EXAM_NOT_FOUND = "考试不存在"


async def course_banks(
    db: Executor, scope: Scope, *, query: str = "", page: int = 1
) -> Page[CourseBank]:
    """题库与考试: the courses of the scope with their banks, a page at a time."""
    require(scope, "admin")
    return await store.courses(db, scope.org_id, query.strip(), max(page, 1))


async def bank(
    db: Executor,
    scope: Scope,
    course_id: int,
    *,
    kind: QuestionKind | None = None,
    query: str = "",
    page: int = 1,
) -> BankView:
    """A course's bank: counts per kind and a page of its questions, filtered."""
    require(scope, "admin")
    course = await _course(db, scope, course_id)
    return BankView(
        course=course,
        counts=await store.counts(db, course_id),
        questions=await store.questions(
            db, course_id, scope.org_id, kind, query.strip(), max(page, 1)
        ),
    )


async def import_bank(
    pool: asyncpg.Pool, scope: Scope, course_id: int, data: bytes, filename: str, now_ms: int
) -> ImportReport:
    """Add a file's questions to a course's bank: all of them in one transaction, or none
    (BankFileRefused, with every error found and its row)."""
    require(scope, "admin")
    await _course(pool, scope, course_id)
    # Reading a workbook of thousands of rows takes long enough to stall other requests.
    numbered = await asyncio.to_thread(read_bank, data)
    questions = [question for _, question in numbered]
    async with pool.acquire() as connection, connection.transaction():
        await store.lock_bank(connection, course_id)
        course = await _course(connection, scope, course_id)
        present = await store.existing_stems(connection, course_id, questions)
        if present:
            raise BankFileRefused(
                [
                    f"第 {number} 行：题库中已有相同的题目"
                    for number, question in numbered
                    if (question.kind, question.stem) in present
                ]
            )
        before = await store.bank_scores(connection, course_id)
        ids = await store.insert_questions(connection, course_id, questions)
        broken = await _exams_broken(connection, course_id, before, now_ms)
        if broken:
            raise BankFileRefused([f"导入后，{broken}"])
        counts = await store.counts(connection, course_id)
        await audit.record(
            connection,
            scope,
            "question.import",
            kind="course",
            object_id=course_id,
            org_id=course.org_id,
            after={
                "file": filename[:200],
                "imported": len(ids),
                "question_ids": ids,
                "bank": counts,
            },
        )
    return ImportReport(course_id=course_id, imported=len(ids), counts=counts)


async def question(db: Executor, scope: Scope, question_id: int) -> tuple[BankQuestion, CourseRef]:
    """A question still in its bank, with its course."""
    require(scope, "admin")
    found = await store.question(db, question_id, scope.org_id)
    if found is None:
        raise NotFound(QUESTION_NOT_FOUND)
    return found


async def edit_question(
    pool: asyncpg.Pool, scope: Scope, question_id: int, fields: Mapping[str, str], now_ms: int
) -> BankQuestion:
    """Store the question as edited — a new version; the old one stays with the papers that
    drew it — and return the new version (the question itself when nothing changed)."""
    require(scope, "admin")
    edited, errors = read_question(fields)
    async with pool.acquire() as connection, connection.transaction():
        old, course = await _locked_question(connection, scope, question_id)
        if edited is None:
            # The first error of each field: the one to mend first.
            raise InvalidInput(dict(reversed(errors)))
        if edited == NewQuestion(
            old.kind, old.stem, old.options, old.answer, old.score, old.explanation
        ):
            return old
        before = await store.bank_scores(connection, course.id)
        [new_id] = await store.insert_questions(connection, course.id, [edited])
        await store.retire_question(connection, question_id, new_id, now_ms)
        broken = await _exams_broken(connection, course.id, before, now_ms)
        if broken:
            raise Conflict(f"修改后，{broken}", field="score")
        new = BankQuestion(
            id=new_id,
            course_id=course.id,
            kind=edited.kind,
            stem=edited.stem,
            options=edited.options,
            answer=edited.answer,
            score=edited.score,
            explanation=edited.explanation,
        )
        await audit.record(
            connection,
            scope,
            "question.edit",
            kind="question",
            object_id=question_id,
            org_id=course.org_id,
            before=old,
            after=new,
        )
    return new


async def delete_question(pool: asyncpg.Pool, scope: Scope, question_id: int, now_ms: int) -> None:
    """Take a question out of its bank for good (papers that drew it keep it)."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        old, course = await _locked_question(connection, scope, question_id)
        before = await store.bank_scores(connection, course.id)
        await store.retire_question(connection, question_id, None, now_ms)
        broken = await _exams_broken(connection, course.id, before, now_ms)
        if broken:
            raise Conflict(f"删除后，{broken}")
        await audit.record(
            connection,
            scope,
            "question.delete",
            kind="question",
            object_id=question_id,
            org_id=course.org_id,
            before=old,
        )


async def exams(
    db: Executor, scope: Scope, course_id: int
) -> tuple[CourseRef, list[AdminExam], list[PlanChoice]]:
    """A course's exams, and the plans an exam of it may be tied to."""
    require(scope, "admin")
    course = await _course(db, scope, course_id)
    return (
        course,
        await store.exams(db, course_id, scope.org_id),
        await store.plans_offering(db, course_id),
    )


async def all_exams(
    db: Executor, scope: Scope, now_ms: int, *, query: str = "", state: str = "", page: int = 1
) -> Page[ListedExam]:
    """考试安排: the exams of the scope's courses, filtered (`state`: 'open', 'closed' or
    ''), a page at a time."""
    require(scope, "admin")
    state = state if state in ("open", "closed") else ""
    return await store.all_exams(db, scope.org_id, query.strip(), state, now_ms, max(page, 1))


async def exam(db: Executor, scope: Scope, exam_id: int) -> tuple[AdminExam, CourseRef]:
    require(scope, "admin")
    found = await store.exam(db, exam_id, scope.org_id)
    if found is None:
        raise NotFound(EXAM_NOT_FOUND)
    return found


async def create_exam(
    pool: asyncpg.Pool, scope: Scope, course_id: int, fields: Mapping[str, str], now_ms: int
) -> int:
    """Schedule an exam of the course; its recipe must draw papers worth its total score."""
    require(scope, "admin")
    draft, errors = read_exam(fields)
    async with pool.acquire() as connection, connection.transaction():
        course = await _course(connection, scope, course_id)
        if draft is None:
            raise InvalidInput(errors)
        if draft.closes_ms <= now_ms:
            raise InvalidInput({"closes_at": "结束时间已过，考试将无法参加"})
        await store.lock_bank(connection, course_id)
        await _check_rules(connection, course_id, draft)
        exam_id = await store.insert_exam(connection, course_id, draft)
        await audit.record(
            connection,
            scope,
            "exam.create",
            kind="exam",
            object_id=exam_id,
            org_id=course.org_id,
            after=draft,
        )
    return exam_id


async def edit_exam(
    pool: asyncpg.Pool, scope: Scope, exam_id: int, fields: Mapping[str, str]
) -> None:
    """Change an exam. While an attempt is in progress only its title may change; once anyone
    has attempted it, its plan and scoring rules stay as the attempts were graded by."""
    require(scope, "admin")
    draft, errors = read_exam(fields)
    async with pool.acquire() as connection, connection.transaction():
        # The exam's row is held: a learner starting an attempt waits for this change.
        found = await _locked_exam(connection, scope, exam_id)
        if found is None:
            raise NotFound(EXAM_NOT_FOUND)
        if draft is None:
            raise InvalidInput(errors)
        old, course = found
        draft = as_precise_as(draft, old.rules)
        changed = [
            name
            for name in ExamDraft.__struct_fields__
            if getattr(draft, name) != getattr(old.rules, name)
        ]
        if not changed:
            return
        if old.in_progress and changed != ["title"]:
            raise Conflict(
                f"有 {old.in_progress} 名考生正在作答，现在只能修改考试名称；"
                "其他规则请在作答结束后再修改"
            )
        if old.attempts and set(changed) & set(SCORING_RULES):
            raise Conflict(
                "已有考生参加过本考试，其成绩按现有规则评定：培训计划、总分、及格线、"
                "多选题部分得分和组卷规则不能再修改；可修改名称、考试时间、时长和考试次数"
            )
        await store.lock_bank(connection, course.id)
        if set(changed) & set(SCORING_RULES):
            await _check_rules(connection, course.id, draft)
        await store.update_exam(connection, exam_id, draft)
        await audit.record(
            connection,
            scope,
            "exam.edit",
            kind="exam",
            object_id=exam_id,
            org_id=course.org_id,
            before=old.rules,
            after=draft,
        )


async def delete_exam(pool: asyncpg.Pool, scope: Scope, exam_id: int) -> None:
    """Remove an exam nobody has attempted."""
    require(scope, "admin")
    async with pool.acquire() as connection, connection.transaction():
        found = await _locked_exam(connection, scope, exam_id)
        if found is None:
            raise NotFound(EXAM_NOT_FOUND)
        old, course = found
        if old.attempts:
            raise Conflict("已有考生参加本考试，不能删除；可将结束时间改为现在以结束考试")
        await store.delete_exam(connection, exam_id)
        await audit.record(
            connection,
            scope,
            "exam.delete",
            kind="exam",
            object_id=exam_id,
            org_id=course.org_id,
            before=old.rules,
        )


async def _course(db: Executor, scope: Scope, course_id: int) -> CourseRef:
    course = await store.course(db, course_id, scope.org_id)
    if course is None:
        raise NotFound(COURSE_NOT_FOUND)
    return course


async def _locked_question(
    connection: Connection, scope: Scope, question_id: int
) -> tuple[BankQuestion, CourseRef]:
    """The question within the scope, its bank locked for this transaction, read again under
    the lock (another change may have retired it meanwhile)."""
    found = await store.question(connection, question_id, scope.org_id)
    if found is None:
        raise NotFound(QUESTION_NOT_FOUND)
    await store.lock_bank(connection, found[1].id)
    found = await store.question(connection, question_id, scope.org_id)
    if found is None:
        raise NotFound(QUESTION_NOT_FOUND)
    return found


async def _locked_exam(
    connection: Connection, scope: Scope, exam_id: int
) -> tuple[AdminExam, CourseRef] | None:
    """The exam within the scope, its row held for this transaction, read after the lock."""
    if not await store.lock_exam(connection, exam_id, scope.org_id):
        return None
    return await store.exam(connection, exam_id, scope.org_id)


async def _check_rules(connection: Connection, course_id: int, draft: ExamDraft) -> None:
    """The draft's plan offers the course, and its recipe draws papers worth its total."""
    errors: dict[str, str] = {}
    if draft.plan_id is not None and draft.plan_id not in {
        plan.id for plan in await store.plans_offering(connection, course_id)
    }:
        errors["plan_id"] = "该培训计划不含本课程"
    errors |= recipe_errors(
        draft.recipe, await store.bank_scores(connection, course_id), draft.total_score
    )
    if errors:
        raise InvalidInput(errors)


async def _exams_broken(
    connection: Connection,
    course_id: int,
    before: Mapping[QuestionKind, list[int]],
    now_ms: int,
) -> str:
    """Why a bank change just made (its scores `before` it given) leaves an exam still open
    unable to draw papers worth its total; empty when none. An exam that could not before
    the change is not held against it."""
    after = await store.bank_scores(connection, course_id)
    for exam in await store.open_exams(connection, course_id, now_ms):
        rules = exam.rules
        errors = recipe_errors(rules.recipe, after, rules.total_score)
        if errors and not recipe_errors(rules.recipe, before, rules.total_score):
            return f"考试“{rules.title}”将无法组卷：{next(iter(errors.values()))}"
    return ""
