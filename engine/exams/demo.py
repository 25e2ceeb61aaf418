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

import msgspec

from engine.catalog.store import CourseRow, PlanCourseRow
from engine.db import Connection
from engine.exams import demo_questions as material
from engine.exams.types import KINDS, Option, QuestionKind

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

_encoder = msgspec.json.Encoder()


class QuestionRow(msgspec.Struct, frozen=True):
    course_code: str
    kind: QuestionKind
    stem: str
    options: list[Option]
    answer: list[str]
    score: int
    explanation: str


class ExamRow(msgspec.Struct, frozen=True):
    plan_code: str
    course_code: str
    title: str


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


def _inserted(status: str) -> int:
    """The row count of an INSERT command tag ("INSERT 0 <rows>")."""
    return int(status.rsplit(" ", 1)[1])


async def insert_questions(connection: Connection, rows: Sequence[QuestionRow]) -> int:
    """Insert the banks of courses that have no question yet; return how many questions.

    A course's bank goes in whole or not at all: the NOT EXISTS sees the table as it was
    before this statement, not the rows the statement itself inserts.
    """
    status = await connection.execute(
        """INSERT INTO questions (course_id, kind, stem, options, answer, score, explanation)
           SELECT c.id, r.kind, r.stem, r.options::jsonb, string_to_array(r.answer, ','),
                  r.score, r.explanation
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[],
                       $7::text[])
                AS r (course_code, kind, stem, options, answer, score, explanation)
           JOIN courses c ON c.code = r.course_code
           WHERE NOT EXISTS (SELECT 1 FROM questions q WHERE q.course_id = c.id)""",
        [row.course_code for row in rows],
        [row.kind for row in rows],
        [row.stem for row in rows],
        [_encoder.encode(row.options).decode() for row in rows],
        [",".join(row.answer) for row in rows],
        [row.score for row in rows],
        [row.explanation for row in rows],
    )
    return _inserted(status)


async def insert_exams(connection: Connection, rows: Sequence[ExamRow]) -> int:
    """Insert an exam for each course that has none in its plan, open as long as the plan."""
    status = await connection.execute(
        """INSERT INTO exams (course_id, plan_id, title, opens_at, closes_at, duration_s,
                              total_score, pass_score, attempts_allowed, recipe)
           SELECT c.id, p.id, r.title, p.opens_at, p.closes_at, $4, $5, $6, $7, $8::jsonb
           FROM unnest($1::text[], $2::text[], $3::text[]) AS r (plan_code, course_code, title)
           JOIN plans p ON p.code = r.plan_code
           JOIN courses c ON c.code = r.course_code
           WHERE NOT EXISTS (SELECT 1 FROM exams x WHERE x.course_id = c.id
                             AND (x.plan_id IS NULL OR x.plan_id = p.id))""",
        [row.plan_code for row in rows],
        [row.course_code for row in rows],
        [row.title for row in rows],
        DURATION_S,
        TOTAL_SCORE,
        PASS_SCORE,
        ATTEMPTS_ALLOWED,
        _encoder.encode(RECIPE).decode(),
    )
    return _inserted(status)
