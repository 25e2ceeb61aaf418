"""Question banks and exams for the examined courses of the demo catalogue (§2.4, §3).

Every examined course (each public plan's 必修课 and the examined 2014 electives) gets a
bank made from its theme's material (demo_questions) and one exam in its plan's window.
A bank holds twice what a paper draws, so attempts see different papers; every question
of a kind is worth the same, so every paper adds up to the exam's total score. Rows are
built from fixed seeds and inserted only for courses that have none, so reruns add nothing.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.catalog.types import CourseRow, PlanCourseRow
from engine.exams import demo_questions as material
from engine.exams.types import KINDS, ExamRow, Option, QuestionKind, QuestionRow

RECIPE: dict[QuestionKind, int] = {"single": 10, "multiple": 5, "true_false": 5}
SCORES: dict[QuestionKind, int] = {"single": 5, "multiple": 6, "true_false": 4}
TOTAL_SCORE = sum(RECIPE[kind] * SCORES[kind] for kind in KINDS)  # 100
BANK_SIZE = {kind: 2 * RECIPE[kind] for kind in KINDS}
PASS_SCORE = 60
DURATION_S = 60 * 60
ATTEMPTS_ALLOWED = 3
BLANK = "（ ）"
CHOICE_KEYS = "ABCD"
TRUE_FALSE_OPTIONS = [Option("A", "正确"), Option("B", "错误")]


@dataclass
class DemoExams:
    questions: list[QuestionRow] = field(default_factory=list)
    exams: list[ExamRow] = field(default_factory=list)


# A question before it is placed in a course: stem, options, correct keys, explanation.
Made = tuple[str, list[Option], list[str], str]


def build_exams(courses: Sequence[CourseRow], links: Sequence[PlanCourseRow]) -> DemoExams:
    """A bank and an exam for every examined course of the catalogue; the same on every call."""
    titles = {course.code: course.title for course in courses}
    built = DemoExams()
    for link in links:
        if link.examined:
            title = titles[link.course_code]
            built.questions += make_bank(link.course_code, title)
            built.exams.append(ExamRow(link.plan_code, link.course_code, f"《{title}》考试"))
    return built


def theme_of(title: str) -> tuple[list[material.Fact], list[material.Group]]:
    """The question material whose key the course title contains."""
    found = [theme for key, theme in material.THEMES.items() if key in title]
    if len(found) != 1:
        raise LookupError(
            f"the examined demo course {title!r} matches {len(found)} themes in "
            "engine/exams/demo_questions.py instead of one"
        )
    return found[0]


def make_bank(course_code: str, title: str) -> list[QuestionRow]:
    """单选题 and 判断题 from distinct facts of the course's theme, 多选题 from its groups."""
    facts, groups = theme_of(title)
    rng = random.Random(f"jixu-demo/exams/{course_code}")
    picked = rng.sample(facts, BANK_SIZE["single"] + BANK_SIZE["true_false"])
    made: list[tuple[QuestionKind, Made]] = [
        ("single", single_choice(fact, rng)) for fact in picked[: BANK_SIZE["single"]]
    ]
    made += [
        ("multiple", multiple_choice(group, rng))
        for group in rng.sample(groups, BANK_SIZE["multiple"])
    ]
    made += [("true_false", true_false(fact, rng, title)) for fact in picked[BANK_SIZE["single"] :]]
    return [
        QuestionRow(course_code, kind, stem, options, answer, SCORES[kind], explanation)
        for kind, (stem, options, answer, explanation) in made
    ]


def single_choice(fact: material.Fact, rng: random.Random) -> Made:
    stem, right, *wrong = fact
    texts = [right, *wrong]
    rng.shuffle(texts)
    options = [Option(key, text) for key, text in zip(CHOICE_KEYS, texts, strict=True)]
    return stem, options, [CHOICE_KEYS[texts.index(right)]], fill(stem, right)


def multiple_choice(group: material.Group, rng: random.Random) -> Made:
    """Two or three right items and the rest wrong, four options in all."""
    stem, right, wrong = group
    count = rng.randint(max(2, len(CHOICE_KEYS) - len(wrong)), min(3, len(right)))
    shown_right = rng.sample(right, count)
    shown_wrong = rng.sample(wrong, len(CHOICE_KEYS) - count)
    texts = shown_right + shown_wrong
    rng.shuffle(texts)
    options = [Option(key, text) for key, text in zip(CHOICE_KEYS, texts, strict=True)]
    answer = [option.key for option in options if option.text in shown_right]
    others = "、".join(f"“{text}”" for text in shown_wrong)
    return stem, options, answer, f"{fill(stem, listed(right))}{others}不在其中。"


def true_false(fact: material.Fact, rng: random.Random, title: str) -> Made:
    """The fact with its right answer (正确) or one of its wrong answers (错误) filled in."""
    stem, right, *wrong = fact
    if rng.random() < 0.5:
        return fill(stem, right), TRUE_FALSE_OPTIONS, ["A"], f"该说法正确，参见《{title}》。"
    return (
        fill(stem, rng.choice(wrong)),
        TRUE_FALSE_OPTIONS,
        ["B"],
        f"该说法错误。{fill(stem, right)}",
    )


def fill(stem: str, text: str) -> str:
    assert stem.count(BLANK) == 1, stem
    return stem.replace(BLANK, text)


def listed(items: Sequence[str]) -> str:
    """Chinese enumeration: 甲、乙和丙."""
    return items[0] if len(items) == 1 else f"{'、'.join(items[:-1])}和{items[-1]}"
