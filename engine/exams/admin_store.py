"""SQL of bank and exam administration. Every query takes the scope's organisation and
applies it to the course's owner (`owned_by`): what lies outside is simply not found."""

from collections.abc import Sequence
from typing import Any

import msgspec

from engine.admin.paging import Page, fetch_page
from engine.admin.scope import owned_by
from engine.clock import utc_time
from engine.db import Connection, Executor
from engine.exams.admin_types import (
    AdminExam,
    BankQuestion,
    CourseBank,
    CourseRef,
    ListedExam,
    PlanChoice,
)
from engine.exams.exam_form import ExamDraft
from engine.exams.question_form import NewQuestion
from engine.exams.store import ms
from engine.exams.types import KINDS, Option, QuestionKind

_options_decoder = msgspec.json.Decoder(list[Option])
_recipe_decoder = msgspec.json.Decoder(dict[QuestionKind, int])
_encoder = msgspec.json.Encoder()
# pg_advisory_xact_lock(namespace, course): bank changes and exam rules of one course are
# checked against each other, so they take turns.
BANK_LOCK_NAMESPACE = 0x4A58


def _course(row: Any) -> CourseRef:
    return CourseRef(id=row["id"], code=row["code"], title=row["title"], org_id=row["org_id"])


def _counts(row: Any) -> dict[QuestionKind, int]:
    return {kind: row[kind] for kind in KINDS}


COUNTS = """count(*) FILTER (WHERE q.kind = 'single')::int AS single,
            count(*) FILTER (WHERE q.kind = 'multiple')::int AS multiple,
            count(*) FILTER (WHERE q.kind = 'true_false')::int AS true_false"""


def _course_bank(row: Any) -> CourseBank:
    return CourseBank(
        course=_course(row), org_name=row["org_name"], counts=_counts(row), exams=row["exams"]
    )


async def courses(db: Executor, org: int | None, query: str, number: int) -> Page[CourseBank]:
    """Courses within the scope whose title or code contains `query`, with their banks."""
    return await fetch_page(
        db,
        f"""SELECT c.id, c.code, c.title, c.org_id, coalesce(o.name, '平台') AS org_name,
                   (SELECT count(*) FROM exams x WHERE x.course_id = c.id)::int AS exams, b.*
            FROM courses c
            LEFT JOIN orgs o ON o.id = c.org_id
            CROSS JOIN LATERAL (SELECT {COUNTS} FROM questions q
                                WHERE q.course_id = c.id AND q.retired_at IS NULL) b
            WHERE {owned_by("c.org_id", 1)}
              AND ($2 = '' OR strpos(c.title, $2) > 0 OR strpos(c.code, $2) > 0)
            ORDER BY c.id DESC""",
        (org, query),
        number=number,
        row=_course_bank,
    )


async def course(db: Executor, course_id: int, org: int | None) -> CourseRef | None:
    row = await db.fetchrow(
        f"""SELECT c.id, c.code, c.title, c.org_id FROM courses c
            WHERE c.id = $1 AND {owned_by("c.org_id", 2)}""",
        course_id,
        org,
    )
    return _course(row) if row else None


async def lock_bank(connection: Connection, course_id: int) -> None:
    """Until the transaction ends, no other bank change or exam rule of the course."""
    await connection.execute(
        "SELECT pg_advisory_xact_lock($1::int, $2::int)", BANK_LOCK_NAMESPACE, course_id
    )


async def counts(db: Executor, course_id: int) -> dict[QuestionKind, int]:
    row = await db.fetchrow(
        f"SELECT {COUNTS} FROM questions q WHERE q.course_id = $1 AND q.retired_at IS NULL",
        course_id,
    )
    return _counts(row)


async def bank_scores(db: Executor, course_id: int) -> dict[QuestionKind, list[int]]:
    """The scores of the bank's questions, per kind: what a recipe draws from."""
    rows = await db.fetch(
        """SELECT kind, array_agg(score) AS scores FROM questions
           WHERE course_id = $1 AND retired_at IS NULL GROUP BY kind""",
        course_id,
    )
    return {row["kind"]: list(row["scores"]) for row in rows}


QUESTION_COLUMNS = "q.id, q.course_id, q.kind, q.stem, q.options, q.answer, q.score, q.explanation"


def _question(row: Any) -> BankQuestion:
    return BankQuestion(
        id=row["id"],
        course_id=row["course_id"],
        kind=row["kind"],
        stem=row["stem"],
        options=_options_decoder.decode(row["options"]),
        answer=sorted(row["answer"]),
        score=row["score"],
        explanation=row["explanation"],
    )


async def questions(
    db: Executor,
    course_id: int,
    org: int | None,
    kind: QuestionKind | None,
    query: str,
    number: int,
) -> Page[BankQuestion]:
    """A page of the course's bank (of one kind, stems containing `query`), oldest first."""
    return await fetch_page(
        db,
        f"""SELECT {QUESTION_COLUMNS}
            FROM questions q JOIN courses c ON c.id = q.course_id
            WHERE q.course_id = $1 AND {owned_by("c.org_id", 2)} AND q.retired_at IS NULL
              AND ($3::text IS NULL OR q.kind = $3) AND ($4 = '' OR strpos(q.stem, $4) > 0)
            ORDER BY q.id""",
        (course_id, org, kind, query),
        number=number,
        row=_question,
    )


async def question(
    db: Executor, question_id: int, org: int | None
) -> tuple[BankQuestion, CourseRef] | None:
    """A question still in its bank, with its course, within the scope."""
    row = await db.fetchrow(
        f"""SELECT {QUESTION_COLUMNS}, c.code, c.title, c.org_id
            FROM questions q JOIN courses c ON c.id = q.course_id
            WHERE q.id = $1 AND {owned_by("c.org_id", 2)} AND q.retired_at IS NULL""",
        question_id,
        org,
    )
    if row is None:
        return None
    return _question(row), CourseRef(
        id=row["course_id"], code=row["code"], title=row["title"], org_id=row["org_id"]
    )


async def existing_stems(
    db: Executor, course_id: int, questions: Sequence[NewQuestion]
) -> set[tuple[str, str]]:
    """Which of these (kind, stem) pairs the course's bank holds already."""
    rows = await db.fetch(
        """SELECT q.kind, q.stem FROM questions q
           JOIN unnest($2::text[], $3::text[]) AS n (kind, stem)
             ON n.kind = q.kind AND n.stem = q.stem
           WHERE q.course_id = $1 AND q.retired_at IS NULL""",
        course_id,
        [question.kind for question in questions],
        [question.stem for question in questions],
    )
    return {(row["kind"], row["stem"]) for row in rows}


async def insert_questions(
    connection: Connection, course_id: int, questions: Sequence[NewQuestion]
) -> list[int]:
    """Add questions to the course's bank in one statement; their ids, in order."""
    rows = await connection.fetch(
        """INSERT INTO questions (course_id, kind, stem, options, answer, score, explanation)
           SELECT $1, n.kind, n.stem, n.options::jsonb, string_to_array(n.answer, ','), n.score,
                  n.explanation
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])
                WITH ORDINALITY AS n (kind, stem, options, answer, score, explanation, position)
           ORDER BY n.position
           RETURNING id""",
        course_id,
        [question.kind for question in questions],
        [question.stem for question in questions],
        [_encoder.encode(question.options).decode() for question in questions],
        [",".join(question.answer) for question in questions],
        [question.score for question in questions],
        [question.explanation for question in questions],
    )
    return [row["id"] for row in rows]


async def retire_question(
    connection: Connection, question_id: int, replaced_by: int | None, now_ms: int
) -> bool:
    """Take a question out of its bank (papers that drew it keep it); False if it was gone."""
    status = await connection.execute(
        """UPDATE questions SET retired_at = $3, replaced_by = $2
           WHERE id = $1 AND retired_at IS NULL""",
        question_id,
        replaced_by,
        utc_time(now_ms),
    )
    return status == "UPDATE 1"


EXAM_COLUMNS = """x.id, x.course_id, x.plan_id, p.title AS plan_title, x.title, x.opens_at,
    x.closes_at, x.duration_s, x.total_score, x.pass_score, x.attempts_allowed,
    x.partial_credit, x.recipe,
    (SELECT count(*) FROM exam_attempts a
     WHERE a.exam_id = x.id AND a.status = 'in_progress')::int AS in_progress,
    (SELECT count(*) FROM exam_attempts a WHERE a.exam_id = x.id)::int AS attempts"""


def _exam(row: Any) -> AdminExam:
    return AdminExam(
        id=row["id"],
        course_id=row["course_id"],
        plan_title=row["plan_title"],
        rules=ExamDraft(
            title=row["title"],
            plan_id=row["plan_id"],
            opens_ms=ms(row["opens_at"]),
            closes_ms=ms(row["closes_at"]),
            duration_s=row["duration_s"],
            total_score=row["total_score"],
            pass_score=row["pass_score"],
            attempts_allowed=row["attempts_allowed"],
            partial_credit=row["partial_credit"],
            recipe=_recipe_decoder.decode(row["recipe"]),
        ),
        in_progress=row["in_progress"],
        attempts=row["attempts"],
    )


async def exams(db: Executor, course_id: int, org: int | None) -> list[AdminExam]:
    rows = await db.fetch(
        f"""SELECT {EXAM_COLUMNS} FROM exams x JOIN courses c ON c.id = x.course_id
            LEFT JOIN plans p ON p.id = x.plan_id
            WHERE x.course_id = $1 AND {owned_by("c.org_id", 2)}
            ORDER BY x.opens_at DESC, x.id DESC""",
        course_id,
        org,
    )
    return [_exam(row) for row in rows]


def _listed_exam(row: Any) -> ListedExam:
    return ListedExam(
        exam=_exam(row),
        course=CourseRef(
            id=row["course_id"], code=row["code"], title=row["course_title"], org_id=row["org_id"]
        ),
    )


async def all_exams(
    db: Executor, org: int | None, query: str, state: str, now_ms: int, number: int
) -> Page[ListedExam]:
    """The exams of the scope's courses whose title or course contains `query`; `state`
    'open' (window not closed), 'closed', or '' for both; latest window first."""
    return await fetch_page(
        db,
        f"""SELECT {EXAM_COLUMNS}, c.code, c.title AS course_title, c.org_id
            FROM exams x JOIN courses c ON c.id = x.course_id
            LEFT JOIN plans p ON p.id = x.plan_id
            WHERE {owned_by("c.org_id", 1)}
              AND ($2 = '' OR strpos(x.title, $2) > 0 OR strpos(c.title, $2) > 0)
              AND ($3 = '' OR ($3 = 'open') = (x.closes_at > $4))
            ORDER BY x.closes_at DESC, x.id DESC""",
        (org, query, state, utc_time(now_ms)),
        number=number,
        row=_listed_exam,
    )


async def exam(db: Executor, exam_id: int, org: int | None) -> tuple[AdminExam, CourseRef] | None:
    """The exam within the scope, with its course and its attempts counted."""
    row = await db.fetchrow(
        f"""SELECT {EXAM_COLUMNS}, c.code, c.title AS course_title, c.org_id
            FROM exams x JOIN courses c ON c.id = x.course_id
            LEFT JOIN plans p ON p.id = x.plan_id
            WHERE x.id = $1 AND {owned_by("c.org_id", 2)}""",
        exam_id,
        org,
    )
    if row is None:
        return None
    return _exam(row), CourseRef(
        id=row["course_id"], code=row["code"], title=row["course_title"], org_id=row["org_id"]
    )


async def lock_exam(connection: Connection, exam_id: int, org: int | None) -> bool:
    """Hold the exam's row (within the scope) until the transaction ends: a learner's start
    waits, since its attempt's key on the exam needs the row. False: no such exam.

    Attempts are counted by a later statement: this one's snapshot predates the wait, and
    would miss an attempt committed while it waited."""
    found = await connection.fetchval(
        f"""SELECT x.id FROM exams x JOIN courses c ON c.id = x.course_id
            WHERE x.id = $1 AND {owned_by("c.org_id", 2)} FOR UPDATE OF x""",
        exam_id,
        org,
    )
    return found is not None


async def open_exams(connection: Connection, course_id: int, now_ms: int) -> list[AdminExam]:
    """The course's exams whose window has not closed: what a bank change must keep drawable."""
    rows = await connection.fetch(
        f"""SELECT {EXAM_COLUMNS} FROM exams x LEFT JOIN plans p ON p.id = x.plan_id
            WHERE x.course_id = $1 AND x.closes_at > $2 ORDER BY x.id""",
        course_id,
        utc_time(now_ms),
    )
    return [_exam(row) for row in rows]


async def plans_offering(db: Executor, course_id: int) -> list[PlanChoice]:
    """The plans that offer the course, newest first."""
    rows = await db.fetch(
        """SELECT p.id, p.title FROM plans p JOIN plan_courses pc ON pc.plan_id = p.id
           WHERE pc.course_id = $1 ORDER BY p.id DESC""",
        course_id,
    )
    return [PlanChoice(row["id"], row["title"]) for row in rows]


def _exam_values(draft: ExamDraft) -> tuple[Any, ...]:
    return (
        draft.plan_id,
        draft.title,
        utc_time(draft.opens_ms),
        utc_time(draft.closes_ms),
        draft.duration_s,
        draft.total_score,
        draft.pass_score,
        draft.attempts_allowed,
        draft.partial_credit,
        _encoder.encode(draft.recipe).decode(),
    )


async def insert_exam(connection: Connection, course_id: int, draft: ExamDraft) -> int:
    exam_id: int = await connection.fetchval(
        """INSERT INTO exams (course_id, plan_id, title, opens_at, closes_at, duration_s,
                              total_score, pass_score, attempts_allowed, partial_credit, recipe)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb) RETURNING id""",
        course_id,
        *_exam_values(draft),
    )
    return exam_id


async def update_exam(connection: Connection, exam_id: int, draft: ExamDraft) -> None:
    await connection.execute(
        """UPDATE exams SET plan_id = $2, title = $3, opens_at = $4, closes_at = $5,
                  duration_s = $6, total_score = $7, pass_score = $8, attempts_allowed = $9,
                  partial_credit = $10, recipe = $11::jsonb
           WHERE id = $1""",
        exam_id,
        *_exam_values(draft),
    )


async def delete_exam(connection: Connection, exam_id: int) -> None:
    await connection.execute("DELETE FROM exams WHERE id = $1", exam_id)


# Everyone the exam concerns: learners who selected its course in a plan it belongs to,
# and anyone who attempted it; a batch of them after the learner id `$5`.
RESULTS = f"""
WITH concerned AS (
    SELECT s.learner_id FROM selections s
    WHERE s.course_id = $3 AND ($4::bigint IS NULL OR s.plan_id = $4) AND s.learner_id > $5
    UNION
    SELECT a.learner_id FROM exam_attempts a WHERE a.exam_id = $1 AND a.learner_id > $5
)
SELECT u.id, u.real_name, u.username, coalesce(o.name, '') AS org_name,
       count(a.id)::int AS attempts, min(a.started_at) AS first_started,
       max(a.submitted_at) AS last_submitted,
       r.best_score, coalesce(r.passed, false) AS passed, r.passed_at
FROM concerned k
JOIN users u ON u.id = k.learner_id
LEFT JOIN orgs o ON o.id = u.org_id
LEFT JOIN exam_attempts a ON a.exam_id = $1 AND a.learner_id = u.id
LEFT JOIN exam_results r ON r.exam_id = $1 AND r.learner_id = u.id
WHERE EXISTS (SELECT 1 FROM exams x JOIN courses c ON c.id = x.course_id
              WHERE x.id = $1 AND {owned_by("c.org_id", 2)})
GROUP BY u.id, o.name, r.best_score, r.passed, r.passed_at
ORDER BY u.id
LIMIT $6
"""


async def results(
    db: Executor, exam: AdminExam, org: int | None, after_learner: int, limit: int
) -> list[dict[str, Any]]:
    """The results of the next `limit` concerned learners (by id) after `after_learner`."""
    rows = await db.fetch(
        RESULTS, exam.id, org, exam.course_id, exam.rules.plan_id, after_learner, limit
    )
    return [dict(row.items()) for row in rows]
