"""SQL of surveys: questions, and one response per learner with its answers."""

from collections.abc import Sequence

from engine.db import Connection, Executor
from engine.messages.types import Question, QuestionDraft, Survey


async def insert_survey(
    connection: Connection, title: str, intro: str, questions: Sequence[QuestionDraft]
) -> int:
    survey_id: int = await connection.fetchval(
        "INSERT INTO surveys (title, intro) VALUES ($1, $2) RETURNING id", title, intro
    )
    await connection.executemany(
        "INSERT INTO survey_questions (survey_id, position, kind, prompt, options)"
        " VALUES ($1, $2, $3, $4, $5)",
        [
            (survey_id, position, question.kind, question.prompt, question.options)
            for position, question in enumerate(questions)
        ],
    )
    return survey_id


async def survey(db: Executor, survey_id: int, learner_id: int) -> Survey | None:
    """The survey, if it was sent to the learner."""
    row = await db.fetchrow(
        "SELECT s.id, s.title, s.intro, EXISTS (SELECT 1 FROM survey_responses r"
        "  WHERE r.survey_id = s.id AND r.learner_id = $2) AS answered"
        " FROM surveys s WHERE s.id = $1 AND EXISTS (SELECT 1 FROM messages m"
        "  WHERE m.survey_id = s.id AND m.learner_id = $2)",
        survey_id,
        learner_id,
    )
    if row is None:
        return None
    questions = await db.fetch(
        "SELECT id, kind, prompt, options FROM survey_questions WHERE survey_id = $1"
        " ORDER BY position",
        survey_id,
    )
    return Survey(
        id=row["id"],
        title=row["title"],
        intro=row["intro"],
        answered=row["answered"],
        questions=[Question(**question) for question in questions],
    )


async def insert_response(
    connection: Connection,
    survey_id: int,
    learner_id: int,
    answers: Sequence[tuple[int, list[int], str]],
) -> bool:
    """Store the learner's response and its (question, choices, text) answers; False when
    the learner had answered already (nothing stored)."""
    first: int | None = await connection.fetchval(
        "INSERT INTO survey_responses (survey_id, learner_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        survey_id,
        learner_id,
    )
    if first is None:
        return False
    await connection.executemany(
        "INSERT INTO survey_answers (survey_id, learner_id, question_id, choices, answer)"
        " VALUES ($1, $2, $3, $4, $5)",
        [(survey_id, learner_id, question, choices, text) for question, choices, text in answers],
    )
    return True


async def response_count(db: Executor, survey_id: int) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM survey_responses WHERE survey_id = $1", survey_id
    )
    return count
