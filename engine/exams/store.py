"""SQL of exams: the learner's exams, banks, attempts, grading and best results."""

from datetime import UTC, datetime
from typing import Any

import msgspec

from engine.db import Executor
from engine.exams.types import ExamSummary, OpenAttempt, Option, PaperItem, Question

_paper_decoder = msgspec.json.Decoder(list[PaperItem])
_options_decoder = msgspec.json.Decoder(list[Option])
_answers_decoder = msgspec.json.Decoder(dict[int, list[str]])
_encoder = msgspec.json.Encoder()


def at(now_ms: int) -> datetime:
    return datetime.fromtimestamp(now_ms / 1000, UTC)


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


# The exams of courses the learner has selected in a plan the exam belongs to; `$2` NULL
# for all of them. 100% progress: no chapter of the course left incomplete. The attempt
# still in progress, if any, comes along so the page can offer to go back to it.
SUMMARIES = """
SELECT e.*, p.title AS plan_title
FROM (
    SELECT x.id, x.title,
           coalesce(x.plan_id, (SELECT min(s.plan_id) FROM selections s
                                WHERE s.learner_id = $1 AND s.course_id = x.course_id))
               AS plan_id,
           x.course_id, x.opens_at, x.closes_at, x.duration_s, x.pass_score, x.total_score,
           x.attempts_allowed,
           (SELECT count(*) FROM exam_attempts a
            WHERE a.exam_id = x.id AND a.learner_id = $1)::int AS attempts_used,
           r.best_score,
           NOT EXISTS (SELECT 1 FROM chapters ch
                       LEFT JOIN chapter_progress p ON p.chapter_id = ch.id AND p.learner_id = $1
                       WHERE ch.course_id = x.course_id AND NOT coalesce(p.complete, false))
               AS course_complete,
           o.id AS open_attempt_id, o.deadline AS open_deadline
    FROM exams x
    LEFT JOIN exam_results r ON r.exam_id = x.id AND r.learner_id = $1
    LEFT JOIN LATERAL (SELECT a.id, a.deadline FROM exam_attempts a
                       WHERE a.exam_id = x.id AND a.learner_id = $1
                         AND a.status = 'in_progress'
                       ORDER BY a.id DESC LIMIT 1) o ON true
    WHERE ($2::bigint IS NULL OR x.id = $2)
      AND EXISTS (SELECT 1 FROM selections s
                  WHERE s.learner_id = $1 AND s.course_id = x.course_id
                    AND (x.plan_id IS NULL OR s.plan_id = x.plan_id))
) e
LEFT JOIN plans p ON p.id = e.plan_id
ORDER BY e.closes_at, e.id
"""


async def summaries(db: Executor, learner_id: int, exam_id: int | None = None) -> list[ExamSummary]:
    rows = await db.fetch(SUMMARIES, learner_id, exam_id)
    return [
        ExamSummary(
            id=row["id"],
            title=row["title"],
            plan_id=row["plan_id"],
            plan_title=row["plan_title"] or "",
            course_id=row["course_id"],
            opens_ms=ms(row["opens_at"]),
            closes_ms=ms(row["closes_at"]),
            duration_s=row["duration_s"],
            pass_score=row["pass_score"],
            total_score=row["total_score"],
            attempts_allowed=row["attempts_allowed"],
            attempts_used=row["attempts_used"],
            best_score=row["best_score"],
            course_complete=row["course_complete"],
            open_attempt=(
                OpenAttempt(row["open_attempt_id"], ms(row["open_deadline"]))
                if row["open_attempt_id"] is not None
                else None
            ),
        )
        for row in rows
    ]


async def exam_rules(db: Executor, exam_id: int) -> tuple[dict[str, int], bool]:
    """The exam's recipe and whether multiple choice earns partial credit."""
    row = await db.fetchrow("SELECT recipe, partial_credit FROM exams WHERE id = $1", exam_id)
    assert row is not None
    recipe: dict[str, int] = msgspec.json.decode(row["recipe"], type=dict[str, int])
    return recipe, row["partial_credit"]


def _question(row: Any) -> Question:
    return Question(
        id=row["id"],
        kind=row["kind"],
        stem=row["stem"],
        options=_options_decoder.decode(row["options"]),
        answer=frozenset(row["answer"]),
        score=row["score"],
    )


async def bank(db: Executor, course_id: int) -> list[Question]:
    rows = await db.fetch(
        "SELECT id, kind, stem, options, answer, score FROM questions WHERE course_id = $1"
        " ORDER BY id",
        course_id,
    )
    return [_question(row) for row in rows]


async def questions(db: Executor, ids: list[int]) -> dict[int, Question]:
    rows = await db.fetch(
        "SELECT id, kind, stem, options, answer, score FROM questions WHERE id = ANY($1::bigint[])",
        ids,
    )
    return {row["id"]: _question(row) for row in rows}


class AttemptRow(msgspec.Struct, frozen=True):
    id: int
    exam_id: int
    learner_id: int
    number: int
    deadline_ms: int
    status: str
    paper: list[PaperItem]
    total_score: int
    score: int | None
    passed: bool | None
    answers: dict[int, list[str]]
    flags: list[int]
    submitted_ms: int | None
    submitted_by: str | None


ATTEMPT_COLUMNS = """id, exam_id, learner_id, number, deadline, status, paper, total_score, score,
                     passed, answers, flags, submitted_at, submitted_by"""


def _attempt(row: Any) -> AttemptRow:
    return AttemptRow(
        id=row["id"],
        exam_id=row["exam_id"],
        learner_id=row["learner_id"],
        number=row["number"],
        deadline_ms=ms(row["deadline"]),
        status=row["status"],
        paper=_paper_decoder.decode(row["paper"]),
        total_score=row["total_score"],
        score=row["score"],
        passed=row["passed"],
        answers=_answers_decoder.decode(row["answers"]),
        flags=list(row["flags"]),
        submitted_ms=ms(row["submitted_at"]) if row["submitted_at"] else None,
        submitted_by=row["submitted_by"],
    )


async def open_attempt(
    db: Executor, learner_id: int, exam_id: int, now_ms: int, grace_ms: int
) -> AttemptRow | None:
    """The learner's attempt at this exam still open to answers, if any."""
    row = await db.fetchrow(
        f"""SELECT {ATTEMPT_COLUMNS} FROM exam_attempts
            WHERE learner_id = $1 AND exam_id = $2 AND status = 'in_progress'
              AND deadline + $3 * interval '1 millisecond' >= $4
            ORDER BY id DESC LIMIT 1""",
        learner_id,
        exam_id,
        grace_ms,
        at(now_ms),
    )
    return _attempt(row) if row else None


async def insert_attempt(
    db: Executor,
    learner_id: int,
    exam_id: int,
    number: int,
    now_ms: int,
    deadline_ms: int,
    paper: list[PaperItem],
    total_score: int,
) -> AttemptRow:
    row = await db.fetchrow(
        f"""INSERT INTO exam_attempts (exam_id, learner_id, number, started_at, deadline, paper,
                                       total_score)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING {ATTEMPT_COLUMNS}""",
        exam_id,
        learner_id,
        number,
        at(now_ms),
        at(deadline_ms),
        _encoder.encode(paper).decode(),
        total_score,
    )
    return _attempt(row)


async def attempt(db: Executor, learner_id: int, attempt_id: int) -> AttemptRow | None:
    row = await db.fetchrow(
        f"SELECT {ATTEMPT_COLUMNS} FROM exam_attempts WHERE id = $1 AND learner_id = $2",
        attempt_id,
        learner_id,
    )
    return _attempt(row) if row else None


async def lock_attempt(db: Executor, learner_id: int, attempt_id: int) -> AttemptRow | None:
    """The attempt, locked until the transaction ends: submissions of it queue here."""
    row = await db.fetchrow(
        f"""SELECT {ATTEMPT_COLUMNS} FROM exam_attempts
            WHERE id = $1 AND learner_id = $2 FOR UPDATE""",
        attempt_id,
        learner_id,
    )
    return _attempt(row) if row else None


async def claim_due(db: Executor, now_ms: int, grace_ms: int) -> AttemptRow | None:
    """One attempt past its deadline and grace, locked; attempts other nodes hold are skipped."""
    row = await db.fetchrow(
        f"""SELECT {ATTEMPT_COLUMNS} FROM exam_attempts
            WHERE status = 'in_progress' AND deadline + $2 * interval '1 millisecond' < $1
            ORDER BY deadline LIMIT 1 FOR UPDATE SKIP LOCKED""",
        at(now_ms),
        grace_ms,
    )
    return _attempt(row) if row else None


GRADE = """
UPDATE exam_attempts a SET status = 'submitted', answers = $2::jsonb, flags = $3::bigint[],
       score = $4, passed = $4 >= x.pass_score, submitted_at = $5, submitted_by = $6
FROM exams x
WHERE a.id = $1 AND x.id = a.exam_id AND a.status = 'in_progress'
RETURNING a.passed
"""

KEEP_BEST = """
INSERT INTO exam_results AS r (learner_id, exam_id, best_score, best_attempt_id, passed,
                               passed_at, passed_score)
VALUES ($1, $2, $3::int, $4, $5::bool, CASE WHEN $5::bool THEN $6::timestamptz END,
        CASE WHEN $5::bool THEN $3::int END)
ON CONFLICT (learner_id, exam_id) DO UPDATE SET
    best_score = greatest(r.best_score, excluded.best_score),
    best_attempt_id = CASE WHEN excluded.best_score > r.best_score
                           THEN excluded.best_attempt_id ELSE r.best_attempt_id END,
    passed = r.passed OR excluded.passed,
    passed_at = coalesce(r.passed_at, excluded.passed_at),
    passed_score = coalesce(r.passed_score, excluded.passed_score)
"""


async def grade(
    db: Executor,
    attempt: AttemptRow,
    answers: dict[int, list[str]],
    flags: list[int],
    score: int,
    now_ms: int,
    submitted_by: str,
) -> bool | None:
    """Store the answers and the score, once: None when the attempt was already graded."""
    passed: bool | None = await db.fetchval(
        GRADE,
        attempt.id,
        _encoder.encode(answers).decode(),
        flags,
        score,
        at(now_ms),
        submitted_by,
    )
    if passed is None:
        return None
    await db.execute(
        KEEP_BEST, attempt.learner_id, attempt.exam_id, score, attempt.id, passed, at(now_ms)
    )
    return passed


async def plans_of_exam(db: Executor, learner_id: int, exam_id: int) -> list[int]:
    """The learner's plans whose hours depend on this exam."""
    rows = await db.fetch(
        """SELECT s.plan_id FROM exams x
           JOIN selections s ON s.course_id = x.course_id AND s.learner_id = $1
           WHERE x.id = $2 AND (x.plan_id IS NULL OR s.plan_id = x.plan_id)""",
        learner_id,
        exam_id,
    )
    return [row["plan_id"] for row in rows]
