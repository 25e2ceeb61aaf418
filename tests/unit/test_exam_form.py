"""An exam's form read and checked (Beijing times, numbers in range), and recipes checked
against a bank's scores and the exam's total."""

import pytest

from engine.exams.exam_form import ExamDraft, exam_fields, read_exam
from engine.exams.recipe import recipe_errors

FIELDS = {
    "title": "期末考试",
    "plan_id": "",
    "opens_at": "2027-01-15T08:00",
    "closes_at": "2027-01-31 18:30",
    "duration_min": "45",
    "total_score": "100",
    "pass_score": "60",
    "attempts_allowed": "3",
    "partial_credit": "on",
    "recipe_single": "10",
    "recipe_multiple": "",
    "recipe_true_false": "5",
}


def test_a_filled_form_is_read_and_written_back() -> None:
    draft, errors = read_exam(FIELDS)
    assert errors == {}
    assert draft == ExamDraft(
        title="期末考试",
        plan_id=None,
        opens_ms=1_800_000_000_000 - 8 * 3_600_000,  # 08:00 in Beijing
        closes_ms=1_800_000_000_000 - 8 * 3_600_000 + (16 * 24 + 10.5) * 3_600_000,
        duration_s=45 * 60,
        total_score=100,
        pass_score=60,
        attempts_allowed=3,
        partial_credit=True,
        recipe={"single": 10, "multiple": 0, "true_false": 5},
    )
    assert read_exam(exam_fields(draft)) == (draft, {})


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"title": ""}, {"title": "考试名称不能为空"}),
        ({"title": "长" * 101}, {"title": "考试名称不能超过 100 字"}),
        ({"plan_id": "x"}, {"plan_id": "培训计划应为 1 到 4611686018427387904 的整数"}),
        ({"opens_at": "明天"}, {"opens_at": "开始时间格式应为 2026-09-01 08:00"}),
        ({"closes_at": "2027-01-15T08:00"}, {"closes_at": "结束时间应晚于开始时间"}),
        ({"duration_min": "0"}, {"duration_min": "考试时长（分钟）应为 1 到 1440 的整数"}),
        ({"duration_min": "9" * 5000}, {"duration_min": "考试时长（分钟）应为 1 到 1440 的整数"}),
        ({"total_score": ""}, {"total_score": "总分不能为空"}),
        ({"pass_score": "101"}, {"pass_score": "及格线不能高于总分"}),
        ({"attempts_allowed": "-1"}, {"attempts_allowed": "考试次数应为 1 到 100 的整数"}),
        ({"recipe_single": "201"}, {"recipe_single": "抽题数量应为 0 到 200 的整数"}),
    ],
)
def test_each_bad_field_is_named(changes: dict[str, str], errors: dict[str, str]) -> None:
    assert read_exam({**FIELDS, **changes}) == (None, errors)


@pytest.mark.parametrize(
    ("recipe", "bank", "total", "errors"),
    [
        ({"single": 2, "true_false": 1}, {"single": [5, 5, 5], "true_false": [2]}, 12, {}),
        ({"single": 4}, {"single": [5, 5, 5]}, 20, {"recipe_single": "单选题需抽 4 道，题库中只有 3 道"}),
        ({"multiple": 1}, {}, 4, {"recipe_multiple": "多选题需抽 1 道，题库中只有 0 道"}),
        ({"single": 1}, {"single": [5, 4]}, 5, {"recipe_single": "题库中单选题的分值不一（4–5 分），每份试卷的总分会不同；请统一同一题型的分值"}),
        ({"single": 2}, {"single": [5, 5]}, 100, {"total_score": "按组卷规则抽题，试卷总分为 10 分，与考试总分 100 分不符"}),
        ({"single": 0}, {"single": [5]}, 5, {"recipe_single": "组卷规则至少要抽取 1 道题"}),
        # A kind not drawn may hold any scores.
        ({"single": 1}, {"single": [5], "true_false": [1, 2]}, 5, {}),
    ],
)  # fmt: skip
def test_recipes_against_banks(
    recipe: dict[str, int], bank: dict[str, list[int]], total: int, errors: dict[str, str]
) -> None:
    assert recipe_errors(recipe, bank, total) == errors  # type: ignore[arg-type]
