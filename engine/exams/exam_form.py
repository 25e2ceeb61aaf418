"""An exam as an administrator fills it in: its fields read and checked, times in Beijing
time as a browser's datetime-local control sends them."""

from collections.abc import Mapping
from datetime import datetime

import msgspec

from engine.clock import CHINA, china_time
from engine.exams.recipe import MAX_DRAWN
from engine.exams.types import KINDS, QuestionKind

MAX_TITLE = 100
MAX_DURATION_MIN = 24 * 60
MAX_TOTAL = 1000
MAX_ATTEMPTS = 100
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")


class ExamDraft(msgspec.Struct, frozen=True, kw_only=True):
    """A checked exam, ready to store (its recipe not yet checked against the bank)."""

    title: str
    plan_id: int | None  # None: the course's exam in every plan that offers it
    opens_ms: int
    closes_ms: int
    duration_s: int
    total_score: int
    pass_score: int
    attempts_allowed: int
    partial_credit: bool
    recipe: dict[QuestionKind, int]


def read_exam(fields: Mapping[str, str]) -> tuple[ExamDraft | None, dict[str, str]]:
    """The exam the fields describe, or None and the error of each bad field."""
    errors: dict[str, str] = {}
    text = {name: (value or "").strip() for name, value in fields.items()}
    title = text.get("title", "")
    if not title:
        errors["title"] = "考试名称不能为空"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"考试名称不能超过 {MAX_TITLE} 字"
    plan_id = _number(text, "plan_id", "培训计划", 1, 2**62, errors, optional=True)
    opens_ms = _moment(text, "opens_at", "开始时间", errors)
    closes_ms = _moment(text, "closes_at", "结束时间", errors)
    if opens_ms is not None and closes_ms is not None and closes_ms <= opens_ms:
        errors["closes_at"] = "结束时间应晚于开始时间"
    duration = _number(text, "duration_min", "考试时长（分钟）", 1, MAX_DURATION_MIN, errors)
    total = _number(text, "total_score", "总分", 1, MAX_TOTAL, errors)
    passing = _number(text, "pass_score", "及格线", 1, MAX_TOTAL, errors)
    if total is not None and passing is not None and passing > total:
        errors["pass_score"] = "及格线不能高于总分"
    attempts = _number(text, "attempts_allowed", "考试次数", 1, MAX_ATTEMPTS, errors)
    recipe: dict[QuestionKind, int] = {}
    for kind in KINDS:
        drawn = _number(text, f"recipe_{kind}", "抽题数量", 0, MAX_DRAWN, errors, optional=True)
        recipe[kind] = drawn or 0
    if (
        errors
        or opens_ms is None
        or closes_ms is None
        or duration is None
        or total is None
        or passing is None
        or attempts is None
    ):
        return None, errors
    return (
        ExamDraft(
            title=title,
            plan_id=plan_id,
            opens_ms=opens_ms,
            closes_ms=closes_ms,
            duration_s=duration * 60,
            total_score=total,
            pass_score=passing,
            attempts_allowed=attempts,
            partial_credit=text.get("partial_credit", "") in ("on", "1", "true"),
            recipe=recipe,
        ),
        errors,
    )


def _number(
    text: Mapping[str, str],
    field: str,
    label: str,
    low: int,
    high: int,
    errors: dict[str, str],
    *,
    optional: bool = False,
) -> int | None:
    value = text.get(field, "")
    if not value:
        if not optional:
            errors[field] = f"{label}不能为空"
        return None
    # Length first: int() of thousands of digits is refused by Python itself.
    if (
        len(value) > 12
        or not value.isascii()
        or not value.isdigit()
        or not low <= int(value) <= high
    ):
        errors[field] = f"{label}应为 {low} 到 {high} 的整数"
        return None
    return int(value)


def _moment(text: Mapping[str, str], field: str, label: str, errors: dict[str, str]) -> int | None:
    value = text.get(field, "")
    if not value:
        errors[field] = f"{label}不能为空"
        return None
    for layout in TIME_FORMATS:
        try:
            moment = datetime.strptime(value, layout).replace(tzinfo=CHINA)
        except ValueError:
            continue
        return round(moment.timestamp() * 1000)
    errors[field] = f"{label}格式应为 2026-09-01 08:00"
    return None


def exam_fields(draft: ExamDraft) -> dict[str, str]:
    """A stored exam as the fields of the edit form (the inverse of `read_exam`)."""
    return {
        "title": draft.title,
        "plan_id": "" if draft.plan_id is None else str(draft.plan_id),
        "opens_at": china_time(draft.opens_ms).strftime(TIME_FORMATS[0]),
        "closes_at": china_time(draft.closes_ms).strftime(TIME_FORMATS[0]),
        "duration_min": str(draft.duration_s // 60),
        "total_score": str(draft.total_score),
        "pass_score": str(draft.pass_score),
        "attempts_allowed": str(draft.attempts_allowed),
        "partial_credit": "on" if draft.partial_credit else "",
        **{f"recipe_{kind}": str(draft.recipe.get(kind, 0)) for kind in KINDS},
    }


def as_precise_as(draft: ExamDraft, stored: ExamDraft) -> ExamDraft:
    """The form shows times to the minute and durations in minutes: a value the form
    showed unchanged keeps the stored one's seconds rather than count as a change."""
    minute_ms = 60_000
    return msgspec.structs.replace(
        draft,
        opens_ms=stored.opens_ms
        if draft.opens_ms == stored.opens_ms // minute_ms * minute_ms
        else draft.opens_ms,
        closes_ms=stored.closes_ms
        if draft.closes_ms == stored.closes_ms // minute_ms * minute_ms
        else draft.closes_ms,
        duration_s=stored.duration_s
        if draft.duration_s == stored.duration_s // 60 * 60
        else draft.duration_s,
    )
