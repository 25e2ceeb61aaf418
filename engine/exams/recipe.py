"""An exam's recipe (questions drawn per kind) against its course's bank and total score."""

from collections.abc import Mapping

from engine.exams.question_form import KIND_NAMES
from engine.exams.types import KINDS, QuestionKind

MAX_DRAWN = 200


def recipe_errors(
    recipe: Mapping[QuestionKind, int],
    bank: Mapping[QuestionKind, list[int]],
    total_score: int,
) -> dict[str, str]:
    """Why papers drawn by `recipe` from a bank (the scores of its questions, per kind) would
    not each add up to `total_score`, by form field; empty when they would.

    Every paper must score the same: a kind whose drawn questions differ in score makes the
    total depend on the draw, which the exam's pass line cannot be fair to."""
    errors: dict[str, str] = {}
    if sum(recipe.values()) < 1:
        return {"recipe_single": "组卷规则至少要抽取 1 道题"}
    total = 0
    for kind in KINDS:
        wanted = recipe.get(kind, 0)
        scores = sorted(bank.get(kind, []))
        if wanted > len(scores):
            errors[f"recipe_{kind}"] = (
                f"{KIND_NAMES[kind]}需抽 {wanted} 道，题库中只有 {len(scores)} 道"
            )
            continue
        if wanted and scores[0] != scores[-1]:
            errors[f"recipe_{kind}"] = (
                f"题库中{KIND_NAMES[kind]}的分值不一（{scores[0]}–{scores[-1]} 分），"
                "每份试卷的总分会不同；请统一同一题型的分值"
            )
            continue
        total += sum(scores[:wanted])
    if not errors and total != total_score:
        errors["total_score"] = (
            f"按组卷规则抽题，试卷总分为 {total} 分，与考试总分 {total_score} 分不符"
        )
    return errors
