"""The administration of 我的消息: 系统通知 to chosen learners, 公告 and 调查问卷 to an
organisation subtree, the sends' list and a survey's results (and their CSV), all within the
administrator's scope, each send audited in its own transaction."""

import csv
import io
import re
from collections.abc import Sequence

import asyncpg

from engine.admin import audit
from engine.admin.paging import Page
from engine.admin.scope import Scope, require
from engine.db import Connection, Executor
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.messages import admin_store, survey_store
from engine.messages.service import check_text
from engine.messages.surveys import check_draft
from engine.messages.types import (
    Dispatch,
    OptionCount,
    QuestionResult,
    SurveyDraft,
    SurveyResults,
)

MAX_CHOSEN = 500  # learners of one notice: a larger audience is an announcement's
TEXT_ANSWERS_SHOWN = 200  # per question on the results page; the CSV has them all
SEPARATORS = re.compile(r"[\s,，、;；]+")
NO_ORG = "组织机构不存在"
PLATFORM_ONLY = "只有超级管理员可以向全平台发布"
SURVEY_NOT_FOUND = "问卷不存在"
KIND_ACTIONS = {"system": "notice", "announcement": "announcement", "survey": "survey"}


def usernames(text: str) -> list[str]:
    """The usernames a form lists, separated by spaces, commas, 、 or lines; each once."""
    return list(dict.fromkeys(name for name in SEPARATORS.split(text) if name))


async def org_by_code(db: Executor, code: str | None) -> int | None:
    """The organisation of this code (None: every organisation); InvalidInput if unknown."""
    if code is None:
        return None
    found = await admin_store.org_by_code(db, code)
    if found is None:
        raise InvalidInput({"org": f"没有编码为{code}的组织机构"})
    return found


async def send_notice(
    pool: asyncpg.Pool, scope: Scope, names: Sequence[str], title: str, body: str
) -> tuple[int, int]:
    """A 系统通知 to the learners named (their usernames), all within the scope: the send's
    id and how many received it. NotFound names those not found (or outside the scope: the
    two look alike)."""
    require(scope, "admin")
    check_text(title, body)
    if not names:
        raise InvalidInput({"to": "请填写收件学员的用户名"}, "请填写收件学员的用户名")
    if len(names) > MAX_CHOSEN:
        too_many = f"一次最多发给{MAX_CHOSEN}位学员，更多请发布公告"
        raise InvalidInput({"to": too_many}, too_many)
    found = await admin_store.learners_in_scope(pool, names, scope.org_id)
    unknown = [name for name in names if name.lower() not in found]
    if unknown:
        raise NotFound(f"没有这些学员：{'、'.join(unknown)}")
    async with pool.acquire() as connection, connection.transaction():
        return await _send(
            connection,
            scope,
            "system",
            title,
            body,
            None,
            list(found.values()),
            scope.org_id,
            {"to": sorted(found)},
        )


async def announce(
    pool: asyncpg.Pool, scope: Scope, title: str, body: str, org_id: int | None
) -> tuple[int, int]:
    """A 公告 to the learners of an organisation subtree within the scope (None: every
    learner, super administrators only): the send's id and how many received it."""
    require(scope, "admin")
    check_text(title, body)
    await _check_audience(pool, scope, org_id)
    async with pool.acquire() as connection, connection.transaction():
        return await _send(connection, scope, "announcement", title, body, None, None, org_id)


async def post_survey(
    pool: asyncpg.Pool, scope: Scope, draft: SurveyDraft, org_id: int | None
) -> tuple[int, int]:
    """A 调查问卷 to the learners of an organisation subtree within the scope (None: every
    learner, super only): the survey's id and how many received it."""
    require(scope, "admin")
    check_draft(draft)
    await _check_audience(pool, scope, org_id)
    body = draft.intro or "请填写调查问卷"
    async with pool.acquire() as connection, connection.transaction():
        survey_id = await survey_store.insert_survey(
            connection, draft.title, draft.intro, draft.questions
        )
        _, sent = await _send(
            connection,
            scope,
            "survey",
            draft.title,
            body,
            survey_id,
            None,
            org_id,
            {"questions": draft.questions},
        )
    return survey_id, sent


async def _check_audience(db: Executor, scope: Scope, org_id: int | None) -> None:
    if org_id is None:
        if not scope.is_super:
            raise Forbidden(PLATFORM_ONLY)
    elif await admin_store.org_name(db, org_id, scope.org_id) is None:
        raise NotFound(NO_ORG)


async def _send(
    connection: Connection,
    scope: Scope,
    kind: str,
    title: str,
    body: str,
    survey_id: int | None,
    learner_ids: list[int] | None,
    org_id: int | None,
    details: dict[str, object] | None = None,
) -> tuple[int, int]:
    dispatch_id = await admin_store.insert_dispatch(
        connection,
        kind=kind,
        title=title,
        body=body,
        survey_id=survey_id,
        org_id=org_id,
        sender_id=scope.user_id,
        sender_name=scope.name,
    )
    sent = await admin_store.send(
        connection,
        dispatch_id,
        kind=kind,
        title=title,
        body=body,
        survey_id=survey_id,
        learner_ids=learner_ids,
        org_id=org_id,
    )
    after = {"title": title, "body": body, "survey_id": survey_id, "recipients": sent}
    await audit.record(
        connection,
        scope,
        f"{KIND_ACTIONS[kind]}.send",
        kind="dispatch",
        object_id=dispatch_id,
        org_id=org_id,
        after=after | (details or {}),
    )
    return dispatch_id, sent


async def sent(
    db: Executor, scope: Scope, kind: str | None = None, page: int = 1
) -> Page[Dispatch]:
    """A page of the sends within the scope, newest first, and whether more pages follow."""
    require(scope, "admin")
    if kind is not None and kind not in KIND_ACTIONS:
        raise InvalidInput({"kind": "消息类型不正确"}, "消息类型不正确")
    return await admin_store.dispatches(db, scope.org_id, kind, max(1, page))


async def survey_results(db: Executor, scope: Scope, survey_id: int) -> SurveyResults:
    """How many chose each option, the text answers (the latest of each question) and the
    response rate of a survey sent within the scope."""
    require(scope, "admin")
    dispatch = await admin_store.survey_dispatch(db, survey_id, scope.org_id)
    if dispatch is None:
        raise NotFound(SURVEY_NOT_FOUND)
    responses = await admin_store.response_count(db, survey_id)
    counts = await admin_store.choice_counts(db, survey_id)
    texts: dict[int, list[str]] = {}
    for row in await admin_store.text_answers(db, survey_id, TEXT_ANSWERS_SHOWN):
        texts.setdefault(row["question_id"], []).append(row["answer"])
    recipients = dispatch["recipients"]
    return SurveyResults(
        survey_id=survey_id,
        dispatch_id=dispatch["id"],
        title=dispatch["title"],
        recipients=recipients,
        responses=responses,
        rate=round(100 * responses / recipients, 1) if recipients else 0.0,
        questions=[
            QuestionResult(
                id=question["id"],
                kind=question["kind"],
                prompt=question["prompt"],
                options=[
                    OptionCount(option, counts.get((question["id"], index), 0))
                    for index, option in enumerate(question["options"])
                ],
                answers=texts.get(question["id"], []),
            )
            for question in await admin_store.questions(db, survey_id)
        ],
    )


async def survey_csv(db: Executor, scope: Scope, survey_id: int) -> str:
    """Every response of a survey sent within the scope, one row each: who, when, and each
    question's answer (options by their text, several joined by ；)."""
    require(scope, "admin")
    if await admin_store.survey_dispatch(db, survey_id, scope.org_id) is None:
        raise NotFound(SURVEY_NOT_FOUND)
    questions = await admin_store.questions(db, survey_id)
    given: dict[tuple[int, int], str] = {}
    options = {question["id"]: question["options"] for question in questions}
    for row in await admin_store.answers(db, survey_id):
        chosen = [options[row["question_id"]][index] for index in row["choices"]]
        given[row["learner_id"], row["question_id"]] = "；".join(chosen) or row["answer"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["用户名", "姓名", "组织机构", "提交时间"]
        + [f"{n}. {q['prompt']}" for n, q in enumerate(questions, 1)]
    )
    for response in await admin_store.responses(db, survey_id):
        learner = response["learner_id"]
        writer.writerow(
            [
                cell(response["username"]),
                cell(response["real_name"]),
                cell(response["org_name"]),
                response["answered_at"].isoformat(timespec="seconds"),
            ]
            + [cell(given.get((learner, question["id"]), "")) for question in questions]
        )
    return out.getvalue()


def cell(text: str) -> str:
    """A learner's text as a CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
