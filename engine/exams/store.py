"""SQL of exams: the learner's exams, banks, attempts, grading and best results."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from engine.clock import utc_time
from engine.db import Connection, Executor, row_count
from engine.exams.grading import best_results
from engine.exams.types import (
    ExamRow,
    ExamSummary,
    Graded,
    OpenAttempt,
    Option,
    PaperItem,
    Question,
    QuestionKind,
    QuestionRow,
)

_paper_decoder = msgspec.json.Decoder(list[PaperItem])
_options_decoder = msgspec.json.Decoder(list[Option])
_answers_decoder = msgspec.json.Decoder(dict[int, list[str]])
_recipe_decoder = msgspec.json.Decoder(dict[str, int])
_encoder = msgspec.json.Encoder()


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


async def unscheduled(db: Executor, learner_id: int) -> list[dict[str, Any]]:
    """The learner's selected courses that need an exam for which none is scheduled."""
    rows = await db.fetch(
        """SELECT c.id AS course_id, c.title AS course_title, p.id AS plan_id,
                  p.title AS plan_title
           FROM selections s
           JOIN plan_courses pc ON pc.plan_id = s.plan_id AND pc.course_id = s.course_id
           JOIN courses c ON c.id = s.course_id
           JOIN plans p ON p.id = s.plan_id
           WHERE s.learner_id = $1 AND pc.examined
             AND NOT EXISTS (SELECT 1 FROM exams x
                             WHERE x.course_id = s.course_id
                               AND (x.plan_id IS NULL OR x.plan_id = s.plan_id))
           ORDER BY p.id, c.id""",
        learner_id,
    )
    return [dict(row.items()) for row in rows]


def _question(row: Any) -> Question:
    return Question(
        id=row["id"],
        kind=row["kind"],
        stem=row["stem"],
        options=_options_decoder.decode(row["options"]),
        answer=frozenset(row["answer"]),
        score=row["score"],
    )


async def paper_source(db: Executor, exam_id: int) -> tuple[dict[str, int], list[Question]]:
    """What a paper of the exam is drawn from: its recipe (questions per type) and the bank
    of its course (retired questions left out), in one round trip."""
    rows = await db.fetch(
        """SELECT x.recipe, q.id, q.kind, q.stem, q.options, q.answer, q.score
           FROM exams x
           LEFT JOIN questions q ON q.course_id = x.course_id AND q.retired_at IS NULL
           WHERE x.id = $1 ORDER BY q.id""",
        exam_id,
    )
    if not rows:
        raise LookupError(f"no exam {exam_id}")
    recipe = _recipe_decoder.decode(rows[0]["recipe"])
    return recipe, [_question(row) for row in rows if row["id"] is not None]


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
        utc_time(now_ms),
        utc_time(deadline_ms),
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


async def claim_due(db: Executor, now_ms: int, grace_ms: int, limit: int) -> list[AttemptRow]:
    """Attempts past their deadline and grace, earliest first, locked until the transaction
    ends; attempts another transaction holds (a node grading them, a learner submitting)
    are skipped."""
    rows = await db.fetch(
        f"""SELECT {ATTEMPT_COLUMNS} FROM exam_attempts
            WHERE status = 'in_progress' AND deadline < $1
            ORDER BY deadline, id LIMIT $2 FOR UPDATE SKIP LOCKED""",
        utc_time(now_ms - grace_ms),
        limit,
    )
    return [_attempt(row) for row in rows]


async def next_deadline(db: Executor, after_ms: int) -> int | None:
    """The earliest deadline still in progress at or after `after_ms`, if any."""
    deadline = await db.fetchval(
        "SELECT min(deadline) FROM exam_attempts WHERE status = 'in_progress' AND deadline >= $1",
        utc_time(after_ms),
    )
    return ms(deadline) if deadline is not None else None


async def grading_rules(db: Executor, exam_ids: Iterable[int]) -> dict[int, tuple[bool, int]]:
    """Per exam: whether multiple choice earns partial credit, and the pass score."""
    rows = await db.fetch(
        "SELECT id, partial_credit, pass_score FROM exams WHERE id = ANY($1::bigint[])",
        list(exam_ids),
    )
    return {row["id"]: (row["partial_credit"], row["pass_score"]) for row in rows}


async def exam_titles(db: Executor, exam_ids: Iterable[int]) -> dict[int, str]:
    rows = await db.fetch(
        "SELECT id, title FROM exams WHERE id = ANY($1::bigint[])", list(exam_ids)
    )
    return {row["id"]: row["title"] for row in rows}


# Only attempts still in progress are graded: however many transactions race, each attempt
# is stored once.
GRADE = """
UPDATE exam_attempts a SET status = 'submitted', answers = g.answers::jsonb,
       flags = g.flags::bigint[], score = g.score, passed = g.passed, submitted_at = $6,
       submitted_by = $7
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::bool[])
     AS g (id, answers, flags, score, passed)
WHERE a.id = g.id AND a.status = 'in_progress'
RETURNING a.id
"""

KEEP_BEST = """
INSERT INTO exam_results AS r (learner_id, exam_id, best_score, best_attempt_id, passed,
                               passed_at, passed_score)
SELECT b.learner_id, b.exam_id, b.best_score, b.best_attempt_id, b.passed_score IS NOT NULL,
       CASE WHEN b.passed_score IS NOT NULL THEN $6::timestamptz END, b.passed_score
FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[], $5::int[])
     AS b (learner_id, exam_id, best_score, best_attempt_id, passed_score)
ON CONFLICT (learner_id, exam_id) DO UPDATE SET
    best_score = greatest(r.best_score, excluded.best_score),
    best_attempt_id = CASE WHEN excluded.best_score > r.best_score
                           THEN excluded.best_attempt_id ELSE r.best_attempt_id END,
    passed = r.passed OR excluded.passed,
    passed_at = coalesce(r.passed_at, excluded.passed_at),
    passed_score = coalesce(r.passed_score, excluded.passed_score)
"""


async def grade(db: Executor, graded: list[Graded], now_ms: int, submitted_by: str) -> list[Graded]:
    """Store the answers and scores of attempts still in progress, then keep each learner's
    best; returns those stored now (an attempt graded already is left as it was)."""
    stored_ids = {
        row["id"]
        for row in await db.fetch(
            GRADE,
            [attempt.attempt_id for attempt in graded],
            [_encoder.encode(attempt.answers).decode() for attempt in graded],
            ["{" + ",".join(map(str, attempt.flags)) + "}" for attempt in graded],
            [attempt.score for attempt in graded],
            [attempt.passed for attempt in graded],
            utc_time(now_ms),
            submitted_by,
        )
    }
    stored = [attempt for attempt in graded if attempt.attempt_id in stored_ids]
    # In key order, so that transactions keeping results of the same learners lock alike.
    best = sorted(best_results(stored), key=lambda result: (result.learner_id, result.exam_id))
    if best:
        await db.execute(
            KEEP_BEST,
            [result.learner_id for result in best],
            [result.exam_id for result in best],
            [result.best_score for result in best],
            [result.best_attempt_id for result in best],
            [result.passed_score for result in best],
            utc_time(now_ms),
        )
    return stored


async def plans_of_exams(
    db: Executor, learners: list[int], exams: list[int]
) -> list[tuple[int, int]]:
    """The (learner, plan) pairs whose hours depend on these learners' exams (pairwise)."""
    rows = await db.fetch(
        """SELECT DISTINCT s.learner_id, s.plan_id
           FROM unnest($1::bigint[], $2::bigint[]) AS t (learner_id, exam_id)
           JOIN exams x ON x.id = t.exam_id
           JOIN selections s ON s.learner_id = t.learner_id AND s.course_id = x.course_id
           WHERE x.plan_id IS NULL OR s.plan_id = x.plan_id
           ORDER BY s.learner_id, s.plan_id""",
        learners,
        exams,
    )
    return [(row["learner_id"], row["plan_id"]) for row in rows]


async def insert_questions(connection: Connection, rows: Sequence[QuestionRow]) -> int:
    """Insert the banks of courses that have no question yet; return how many questions.

    A course's bank goes in whole or not at all: the NOT EXISTS sees the table as it was
    before this statement, not the rows the statement itself inserts.
    """
    status = await connection.execute(
        """INSERT INTO questions (course_id, kind, stem, options, answer, score, explanation)
           SELECT c.id, r.kind, r.stem, r.options::jsonb, string_to_array(r.answer, ','),
                  r.score, r.explanation
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[],
                       $7::text[])
                AS r (course_code, kind, stem, options, answer, score, explanation)
           JOIN courses c ON c.code = r.course_code
           WHERE NOT EXISTS (SELECT 1 FROM questions q WHERE q.course_id = c.id)""",
        [row.course_code for row in rows],
        [row.kind for row in rows],
        [row.stem for row in rows],
        [_encoder.encode(row.options).decode() for row in rows],
        [",".join(row.answer) for row in rows],
        [row.score for row in rows],
        [row.explanation for row in rows],
    )
    return row_count(status)


async def insert_exams(
    connection: Connection,
    rows: Sequence[ExamRow],
    *,
    duration_s: int,
    total_score: int,
    pass_score: int,
    attempts_allowed: int,
    recipe: Mapping[QuestionKind, int],
) -> int:
    """Insert an exam for each course that has none in its plan, open as long as the plan."""
    status = await connection.execute(
        """INSERT INTO exams (course_id, plan_id, title, opens_at, closes_at, duration_s,
                              total_score, pass_score, attempts_allowed, recipe)
           SELECT c.id, p.id, r.title, p.opens_at, p.closes_at, $4, $5, $6, $7, $8::jsonb
           FROM unnest($1::text[], $2::text[], $3::text[]) AS r (plan_code, course_code, title)
           JOIN plans p ON p.code = r.plan_code
           JOIN courses c ON c.code = r.course_code
           WHERE NOT EXISTS (SELECT 1 FROM exams x WHERE x.course_id = c.id
                             AND (x.plan_id IS NULL OR x.plan_id = p.id))""",
        [row.plan_code for row in rows],
        [row.course_code for row in rows],
        [row.title for row in rows],
        duration_s,
        total_score,
        pass_score,
        attempts_allowed,
        _encoder.encode(recipe).decode(),
    )
    return row_count(status)
