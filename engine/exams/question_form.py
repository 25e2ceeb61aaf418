"""One question as an administrator writes it — a row of the bank template or the edit
form — checked field by field, with the manual's words in every message."""

import re
import unicodedata
from collections.abc import Mapping

import msgspec

from engine.exams.types import Option, QuestionKind

KIND_NAMES: dict[QuestionKind, str] = {
    "single": "单选题",
    "multiple": "多选题",
    "true_false": "判断题",
}
KINDS_BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}
OPTION_KEYS = "ABCDEF"
OPTION_FIELDS = tuple(f"option_{key.lower()}" for key in OPTION_KEYS)
# The template's columns (the manual's words) and the field each fills.
COLUMNS: dict[str, str] = {
    "题型": "kind",
    "题干": "stem",
    **{f"选项{key}": field for key, field in zip(OPTION_KEYS, OPTION_FIELDS, strict=True)},
    "答案": "answer",
    "分值": "score",
    "解析": "explanation",
}
FIELDS = tuple(COLUMNS.values())
MAX_STEM = 1000
MAX_OPTION = 500
MAX_EXPLANATION = 2000
MAX_SCORE = 100
# 判断题 are stored like the demo's: A 正确, B 错误.
TRUE_FALSE_OPTIONS = [Option("A", "正确"), Option("B", "错误")]
TRUE_FALSE_ANSWERS = {
    **dict.fromkeys(("正确", "对", "√", "✓", "A", "T", "TRUE"), "A"),
    **dict.fromkeys(("错误", "错", "×", "✗", "X", "B", "F", "FALSE"), "B"),
}
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_INTEGER = re.compile(r"[0-9]{1,6}(\.0*)?")


class NewQuestion(msgspec.Struct, frozen=True):
    """A checked question, ready to store in a course's bank."""

    kind: QuestionKind
    stem: str
    options: list[Option]
    answer: list[str]
    score: int
    explanation: str


# (field, message) pairs: a file prefixes the row, a form shows each by its field.
Errors = list[tuple[str, str]]


def read_question(fields: Mapping[str, str]) -> tuple[NewQuestion | None, Errors]:
    """The question the fields describe, or None and every error found."""
    errors: Errors = []
    text = {field: (fields.get(field) or "").strip() for field in FIELDS}
    # Full-width letters and digits, as a Chinese input method types them, count as ASCII.
    for field in ("answer", "score"):
        text[field] = unicodedata.normalize("NFKC", text[field])
    kind = _kind(text["kind"], errors)
    if not text["stem"]:
        errors.append(("stem", "题干不能为空"))
    elif len(text["stem"]) > MAX_STEM:
        errors.append(("stem", f"题干不能超过 {MAX_STEM} 字"))
    if len(text["explanation"]) > MAX_EXPLANATION:
        errors.append(("explanation", f"解析不能超过 {MAX_EXPLANATION} 字"))
    score = _score(text["score"], errors)
    options: list[Option] = []
    answer: list[str] = []
    if kind == "true_false":
        options, answer = _true_false(text, errors)
    elif kind is not None:
        options = _options(kind, text, errors)
        answer = _choice_answer(kind, text["answer"], options, errors)
    if errors or kind is None or score is None:
        return None, errors
    return NewQuestion(kind, text["stem"], options, answer, score, text["explanation"]), errors


def _shown(text: str) -> str:
    """A cell quoted in a message: a long one cut short."""
    return text if len(text) <= 20 else text[:20] + "…"


def _kind(text: str, errors: Errors) -> QuestionKind | None:
    if not text:
        errors.append(("kind", "题型不能为空"))
        return None
    kind = KINDS_BY_NAME.get(text)
    if kind is None:
        errors.append(("kind", f"题型“{_shown(text)}”无效，应为单选题、多选题或判断题"))
    return kind


def _score(text: str, errors: Errors) -> int | None:
    if not text:
        errors.append(("score", "分值不能为空"))
        return None
    if not _INTEGER.fullmatch(text) or not 1 <= int(float(text)) <= MAX_SCORE:
        errors.append(("score", f"分值“{_shown(text)}”应为 1 到 {MAX_SCORE} 的整数"))
        return None
    return int(float(text))


def _options(kind: QuestionKind, text: Mapping[str, str], errors: Errors) -> list[Option]:
    """Options filled from A on without a gap, at least two, none repeated."""
    texts = [text[field] for field in OPTION_FIELDS]
    count = max((index + 1 for index, value in enumerate(texts) if value), default=0)
    for index in range(count):
        if not texts[index]:
            errors.append(
                (OPTION_FIELDS[index], f"选项{OPTION_KEYS[index]}为空，选项须从 A 起连续填写")
            )
    if count < 2:
        errors.append((OPTION_FIELDS[max(count, 1)], f"{KIND_NAMES[kind]}至少需要 2 个选项"))
    seen: dict[str, str] = {}
    for index in range(count):
        key, value = OPTION_KEYS[index], texts[index]
        if len(value) > MAX_OPTION:
            errors.append((OPTION_FIELDS[index], f"选项{key}不能超过 {MAX_OPTION} 字"))
        if value and value in seen:
            errors.append((OPTION_FIELDS[index], f"选项{key}与选项{seen[value]}内容相同"))
        seen.setdefault(value, key)
    return [Option(OPTION_KEYS[index], texts[index]) for index in range(count)]


def _choice_answer(
    kind: QuestionKind, text: str, options: list[Option], errors: Errors
) -> list[str]:
    if not text:
        errors.append(("answer", "答案不能为空"))
        return []
    keys = list("".join(_SEPARATORS.split(text.upper())))
    if not all("A" <= key <= "Z" for key in keys):
        errors.append(("answer", f"答案“{_shown(text)}”应为选项字母，如 A 或 ABD"))
        return []
    offered = {option.key for option in options}
    outside = [key for key in dict.fromkeys(keys) if key not in offered]
    if outside:
        errors.append(("answer", f"答案 {'、'.join(outside)} 不在选项中"))
    repeated = [key for key in dict.fromkeys(keys) if keys.count(key) > 1]
    if repeated:
        errors.append(("answer", f"答案中的 {'、'.join(repeated)} 重复"))
    if kind == "single" and len(set(keys)) > 1:
        errors.append(("answer", "单选题只能有一个答案"))
    if kind == "multiple" and len(set(keys)) < 2:
        errors.append(("answer", "多选题至少应有两个答案"))
    return sorted(set(keys))


def _true_false(text: Mapping[str, str], errors: Errors) -> tuple[list[Option], list[str]]:
    """判断题: options left blank or exactly 正确 / 错误; the answer 正确 or 错误 (or A / B)."""
    filled = [text[field] for field in OPTION_FIELDS]
    if any(filled) and filled != ["正确", "错误", "", "", "", ""]:
        errors.append(("option_a", "判断题的选项固定为“正确”“错误”，可不填写"))
    if not text["answer"]:
        errors.append(("answer", "答案不能为空"))
        return TRUE_FALSE_OPTIONS, []
    key = TRUE_FALSE_ANSWERS.get(text["answer"].upper())
    if key is None:
        errors.append(("answer", f"判断题的答案“{_shown(text['answer'])}”应为“正确”或“错误”"))
        return TRUE_FALSE_OPTIONS, []
    return TRUE_FALSE_OPTIONS, [key]


def question_fields(
    kind: QuestionKind,
    stem: str,
    options: list[Option],
    answer: list[str],
    score: int,
    explanation: str,
) -> dict[str, str]:
    """A stored question as the fields of the edit form (the inverse of `read_question`)."""
    texts = {option.key: option.text for option in options}
    return {
        "kind": KIND_NAMES[kind],
        "stem": stem,
        **{
            field: ("" if kind == "true_false" else texts.get(key, ""))
            for key, field in zip(OPTION_KEYS, OPTION_FIELDS, strict=True)
        },
        "answer": (
            {"A": "正确", "B": "错误"}[answer[0]] if kind == "true_false" else "".join(answer)
        ),
        "score": str(score),
        "explanation": explanation,
    }
