"""Pure rules of papers: drawing and shuffling, mapping shown keys back, grading, and what
graded attempts make of a learner's best result."""

import random
from collections.abc import Iterable, Mapping, Sequence

from engine.exams.types import KINDS, Best, Graded, PaperItem, Question, QuestionKind

# The keys a paper shows its options under, whatever the original keys.
SHOWN_KEYS = "ABCDEFGH"


class BankTooSmall(ValueError):
    """The bank holds fewer questions of a kind than the exam draws."""


def draw_paper(
    bank: Sequence[Question], recipe: Mapping[str, int], rng: random.Random
) -> list[PaperItem]:
    """Questions per kind as the recipe says, shuffled within their kind; options shuffled.

    判断题 keep their order (正确 before 错误): shuffling two fixed words only confuses.
    """
    paper: list[PaperItem] = []
    for kind in KINDS:
        wanted = recipe.get(kind, 0)
        pool = [question for question in bank if question.kind == kind]
        if wanted > len(pool):
            raise BankTooSmall(f"{kind}: {wanted} wanted, {len(pool)} in the bank")
        for question in rng.sample(pool, wanted):
            order = [option.key for option in question.options]
            if kind != "true_false":
                rng.shuffle(order)
            paper.append(PaperItem(question.id, order))
    return paper


def valid_answer(kind: QuestionKind, option_count: int, answer: Sequence[str]) -> bool:
    """Distinct shown keys of the question; one at most unless multiple choice."""
    allowed = SHOWN_KEYS[:option_count]
    if len(set(answer)) != len(answer) or not all(key in allowed for key in answer):
        return False
    return kind == "multiple" or len(answer) <= 1


def to_original(order: Sequence[str], shown: Iterable[str]) -> frozenset[str]:
    """The original option keys behind the shown keys a learner chose."""
    return frozenset(
        order[SHOWN_KEYS.index(key)]
        for key in shown
        if key in SHOWN_KEYS and SHOWN_KEYS.index(key) < len(order)
    )


def question_score(question: Question, chosen: frozenset[str], *, partial_credit: bool) -> int:
    """All or nothing; with partial credit, a multiple-choice subset without a wrong key
    earns its share of the score, rounded down."""
    if not chosen:
        return 0
    if chosen == question.answer:
        return question.score
    if partial_credit and question.kind == "multiple" and chosen < question.answer:
        return question.score * len(chosen) // len(question.answer)
    return 0


def grade(
    paper: Sequence[PaperItem],
    bank: Mapping[int, Question],
    answers: Mapping[int, Sequence[str]],
    *,
    partial_credit: bool,
) -> int:
    """The attempt's score: answers are in shown keys, mapped back through the paper."""
    return sum(
        question_score(
            bank[item.question],
            to_original(item.order, answers.get(item.question, ())),
            partial_credit=partial_credit,
        )
        for item in paper
    )


def best_results(graded: Iterable[Graded]) -> list[Best]:
    """Per learner and exam, the best of these attempts and the first that passed, as if
    they had been kept one by one in the order they started (attempt id)."""
    best: dict[tuple[int, int], Best] = {}
    for attempt in sorted(graded, key=lambda attempt: attempt.attempt_id):
        key = (attempt.learner_id, attempt.exam_id)
        passed_score = attempt.score if attempt.passed else None
        kept = best.get(key)
        if kept is None:
            best[key] = Best(*key, attempt.score, attempt.attempt_id, passed_score)
            continue
        higher = attempt.score > kept.best_score
        best[key] = Best(
            *key,
            attempt.score if higher else kept.best_score,
            attempt.attempt_id if higher else kept.best_attempt_id,
            kept.passed_score if kept.passed_score is not None else passed_score,
        )
    return list(best.values())
