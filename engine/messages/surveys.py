"""调查问卷: posted to learners as messages; single, multiple and text questions; one
response per learner."""

from collections.abc import Mapping

import asyncpg

from engine.db import Executor
from engine.errors import Conflict, InvalidInput, NotFound
from engine.messages import store, survey_store
from engine.messages.service import check_text
from engine.messages.types import Survey, SurveyDraft

ANSWER_MAX_LENGTH = 1000
MAX_QUESTIONS = 50
MAX_OPTIONS = 10
OPTION_MAX_LENGTH = 100
PROMPT_MAX_LENGTH = 500
NOT_FOUND = "问卷不存在"
ANSWERED = "您已提交过该问卷，每位学员只能提交一次"
CHOOSE_ONE = "请选择一项"
CHOOSE_SOME = "请至少选择一项"
WRITE = "请填写此题"


def check_draft(draft: SurveyDraft) -> None:
    """A survey worth posting: questions within limits, choices with options."""
    check_text(draft.title, draft.intro or draft.title)
    if not 1 <= len(draft.questions) <= MAX_QUESTIONS:
        raise InvalidInput({}, f"问卷应有1至{MAX_QUESTIONS}道题")
    for number, question in enumerate(draft.questions, 1):
        if not question.prompt.strip() or len(question.prompt) > PROMPT_MAX_LENGTH:
            raise InvalidInput({}, f"第{number}题的题目应为1至{PROMPT_MAX_LENGTH}个字")
        if question.kind == "text":
            if question.options:
                raise InvalidInput({}, f"第{number}题是问答题，不应有选项")
        elif not 2 <= len(question.options) <= MAX_OPTIONS or any(
            not option.strip() or len(option) > OPTION_MAX_LENGTH for option in question.options
        ):
            raise InvalidInput(
                {}, f"第{number}题应有2至{MAX_OPTIONS}个选项，每项1至{OPTION_MAX_LENGTH}个字"
            )


def _option_index(value: str) -> bool:
    """Whether a form value can name an option: a few ASCII digits (int() also reads other
    scripts' digits, and refuses thousands of them)."""
    return value.isascii() and value.isdigit() and len(value) <= 2


async def post(
    pool: asyncpg.Pool, draft: SurveyDraft, org_id: int | None = None
) -> tuple[int, int]:
    """Post a survey to every learner (of one organisation): its id, and how many got it."""
    check_draft(draft)
    async with pool.acquire() as connection, connection.transaction():
        survey_id = await survey_store.insert_survey(
            connection, draft.title, draft.intro, draft.questions
        )
        body = draft.intro or "请填写调查问卷"
        sent = await store.insert_for_learners(
            connection, "survey", draft.title, body, survey_id, org_id
        )
    return survey_id, sent


async def show(db: Executor, learner_id: int, survey_id: int) -> Survey:
    """A survey sent to the learner, and whether they answered it."""
    survey = await survey_store.survey(db, survey_id, learner_id)
    if survey is None:
        raise NotFound(NOT_FOUND)
    return survey


async def answer(
    pool: asyncpg.Pool, learner_id: int, survey_id: int, answers: Mapping[int, list[str]]
) -> None:
    """Store the learner's one response. `answers` maps each question id to what the form
    sent: option indexes for choices, the text for a text question. Every question must be
    answered; a second response is refused and changes nothing."""
    survey = await show(pool, learner_id, survey_id)
    if survey.answered:
        raise Conflict(ANSWERED, code="answered")
    rows: list[tuple[int, list[int], str]] = []
    errors: dict[str, str] = {}
    for question in survey.questions:
        given = answers.get(question.id, [])
        field = f"q{question.id}"
        if question.kind == "text":
            text = given[0] if len(given) == 1 else ""
            if not text.strip():
                errors[field] = WRITE
            elif len(text) > ANSWER_MAX_LENGTH:
                errors[field] = f"回答不能超过{ANSWER_MAX_LENGTH}个字"
            rows.append((question.id, [], text))
            continue
        choices = sorted({int(value) for value in given if _option_index(value)})
        valid = len(choices) == len(set(given)) and all(
            choice < len(question.options) for choice in choices
        )
        if not choices or not valid:
            errors[field] = CHOOSE_ONE if question.kind == "single" else CHOOSE_SOME
        elif question.kind == "single" and len(choices) != 1:
            errors[field] = CHOOSE_ONE
        rows.append((question.id, choices, ""))
    if errors:
        raise InvalidInput(errors, "请完成问卷的每一道题")
    async with pool.acquire() as connection, connection.transaction():
        if not await survey_store.insert_response(connection, survey_id, learner_id, rows):
            raise Conflict(ANSWERED, code="answered")
