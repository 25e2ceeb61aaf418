"""Grading rules of exam papers, table-driven; eligibility reasons."""

import random

import pytest

from engine.exams import grading
from engine.exams.eligibility import refusal
from engine.exams.types import Best, ExamSummary, Graded, Option, PaperItem, Question

OPTIONS = [Option(key, f"选项{key}") for key in "ABCD"]
SINGLE = Question(1, "single", "单选", OPTIONS, frozenset("B"), 2)
MULTIPLE = Question(2, "multiple", "多选", OPTIONS, frozenset("ACD"), 3)
TRUE_FALSE = Question(
    3, "true_false", "判断", [Option("T", "正确"), Option("F", "错误")], frozenset("F"), 1
)


@pytest.mark.parametrize(
    ("question", "chosen", "partial", "expected"),
    [
        (SINGLE, "B", False, 2),
        (SINGLE, "A", False, 0),
        (SINGLE, "", False, 0),
        (MULTIPLE, "ACD", False, 3),
        (MULTIPLE, "AC", False, 0),
        (MULTIPLE, "AC", True, 2),
        (MULTIPLE, "A", True, 1),
        (MULTIPLE, "AB", True, 0),
        (MULTIPLE, "ABCD", True, 0),
        (MULTIPLE, "", True, 0),
        (TRUE_FALSE, "F", False, 1),
        (TRUE_FALSE, "T", False, 0),
        (TRUE_FALSE, "", False, 0),
    ],
)
def test_question_score(question: Question, chosen: str, partial: bool, expected: int) -> None:
    assert grading.question_score(question, frozenset(chosen), partial_credit=partial) == expected


def test_shown_keys_map_back_through_the_shuffle() -> None:
    # Shown A, B, C, D stand for original D, B, A, C.
    order = ["D", "B", "A", "C"]
    assert grading.to_original(order, ["A"]) == {"D"}
    assert grading.to_original(order, ["C", "D"]) == {"A", "C"}
    assert grading.to_original(order, ["E"]) == frozenset()


def test_grade_a_shuffled_paper() -> None:
    bank = {q.id: q for q in (SINGLE, MULTIPLE, TRUE_FALSE)}
    paper = [
        PaperItem(1, ["C", "B", "A", "D"]),  # B is shown as B
        PaperItem(2, ["D", "B", "C", "A"]),  # A, C, D are shown as D, C, A
        PaperItem(3, ["T", "F"]),
    ]
    right = {1: ["B"], 2: ["A", "C", "D"], 3: ["B"]}
    assert grading.grade(paper, bank, right, partial_credit=False) == 6
    original_keys = {1: ["B"], 2: ["A", "C", "D"], 3: ["F"]}  # unshuffled keys are wrong here
    assert grading.grade(paper, bank, original_keys, partial_credit=False) == 5
    assert grading.grade(paper, bank, {}, partial_credit=True) == 0


@pytest.mark.parametrize(
    ("kind", "answer", "valid"),
    [
        ("single", ["A"], True),
        ("single", ["A", "B"], False),
        ("single", [], True),
        ("single", ["E"], False),
        ("multiple", ["A", "D"], True),
        ("multiple", ["A", "A"], False),
        ("true_false", ["B"], True),
        ("true_false", ["C"], False),
    ],
)
def test_valid_answer(kind: str, answer: list[str], valid: bool) -> None:
    count = 2 if kind == "true_false" else 4
    assert grading.valid_answer(kind, count, answer) is valid  # type: ignore[arg-type]


def test_draw_follows_the_recipe_and_groups_by_kind() -> None:
    bank = [Question(i, "single", "s", OPTIONS, frozenset("A"), 1) for i in range(1, 6)]
    bank += [
        Question(i, "true_false", "t", TRUE_FALSE.options, frozenset("T"), 1) for i in range(6, 9)
    ]
    paper = grading.draw_paper(bank, {"single": 3, "true_false": 2}, random.Random(7))
    assert [item.question <= 5 for item in paper] == [True] * 3 + [False] * 2
    assert len({item.question for item in paper}) == 5
    assert all(sorted(item.order) == list("ABCD") for item in paper[:3])
    assert all(item.order == ["T", "F"] for item in paper[3:])
    with pytest.raises(grading.BankTooSmall):
        grading.draw_paper(bank, {"multiple": 1}, random.Random(7))


def graded(attempt_id: int, score: int, *, learner_id: int = 7, exam_id: int = 1) -> Graded:
    return Graded(attempt_id, learner_id, exam_id, {}, [], score, score >= 60, 100)


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        ([graded(1, 40)], [Best(7, 1, 40, 1, None)]),
        ([graded(1, 80)], [Best(7, 1, 80, 1, 80)]),
        ([graded(1, 40), graded(2, 80)], [Best(7, 1, 80, 2, 80)]),
        # The first pass is kept with its score; the best score moves on.
        ([graded(1, 70), graded(2, 90)], [Best(7, 1, 90, 2, 70)]),
        ([graded(2, 90), graded(1, 70)], [Best(7, 1, 90, 2, 70)]),
        # A tie keeps the earlier attempt as the best.
        ([graded(1, 60), graded(2, 60)], [Best(7, 1, 60, 1, 60)]),
        ([graded(1, 90), graded(2, 10)], [Best(7, 1, 90, 1, 90)]),
        (
            [graded(1, 50), graded(2, 65, learner_id=8), graded(3, 75, exam_id=2)],
            [Best(7, 1, 50, 1, None), Best(8, 1, 65, 2, 65), Best(7, 2, 75, 3, 75)],
        ),
    ],
)
def test_best_results_fold_a_batch_as_one_by_one(
    attempts: list[Graded], expected: list[Best]
) -> None:
    assert grading.best_results(attempts) == expected


def summary(**overrides: object) -> ExamSummary:
    fields: dict[str, object] = {
        "id": 1,
        "title": "考试",
        "plan_id": 1,
        "plan_title": "计划",
        "course_id": 1,
        "opens_ms": 1000,
        "closes_ms": 5000,
        "duration_s": 60,
        "pass_score": 6,
        "total_score": 10,
        "attempts_allowed": 2,
        "attempts_used": 0,
        "best_score": None,
        "course_complete": True,
    }
    fields.update(overrides)
    return ExamSummary(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "now_ms", "reason"),
    [
        ({}, 2000, None),
        ({"course_complete": False}, 2000, "课程学习进度未达到100%，完成全部章节后才能参加考试"),
        ({}, 999, "考试尚未开始，请在考试时间内参加"),
        ({}, 5000, "考试已结束"),
        ({"attempts_used": 2}, 2000, "考试次数已用完"),
    ],
)
def test_eligibility(overrides: dict[str, object], now_ms: int, reason: str | None) -> None:
    assert refusal(summary(**overrides), now_ms) == reason
