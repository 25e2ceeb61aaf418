"""What a generated population studies, read once from the database: the organisations
learners belong to, the plans with their courses and chapters, and each exam's sittings."""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import msgspec

from engine.catalog.measures import price_fen
from engine.db import Connection
from engine.exams import grading
from engine.exams.grading import SHOWN_KEYS
from engine.exams.service import exam_bank
from engine.exams.types import PaperItem, Question
from engine.population import store

# Papers drawn per exam, and answer sheets per paper: every attempt takes one of them, so
# papers and answers are real (the result page shows them) without drawing 100,000.
PAPERS_PER_EXAM = 8
SHEETS_PER_PAPER = 12

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Course:
    id: int
    title: str
    hour_tenths: int
    price_fen: int
    compulsory: bool
    examined: bool
    chapters: tuple[tuple[int, float], ...]  # (chapter id, duration in seconds)


@dataclass(frozen=True)
class Plan:
    id: int
    kind: str
    year: int
    elective_tenths: int
    opens_at: datetime
    courses: tuple[Course, ...]

    @cached_property
    def most_bought(self) -> int:
        """The most electives a learner buys to reach the requirement: as many of the
        shortest as it takes, plus the one that crosses the line."""
        total = 0
        for count, tenths in enumerate(
            sorted(course.hour_tenths for course in self.courses if not course.compulsory), 1
        ):
            total += tenths
            if total >= self.elective_tenths:
                return count
        return len(self.courses)

    def largest_purchase_fen(self) -> int:
        """What a learner buying electives up to the requirement pays at most: the hours
        wanted, plus the dearest course that crosses the line."""
        electives = [course for course in self.courses if not course.compulsory]
        if not electives:
            return 0
        per_tenth = max(course.price_fen / course.hour_tenths for course in electives)
        return int(self.elective_tenths * per_tenth) + max(course.price_fen for course in electives)


@dataclass(frozen=True)
class Sitting:
    """A paper and an answer sheet for it, graded by the engine's own rule."""

    paper: str  # JSON, as exam_attempts.paper stores it
    answers: str  # JSON: question id → shown keys
    score: int


@dataclass(frozen=True)
class Exam:
    id: int
    duration_s: int
    total_score: int
    pass_score: int
    attempts_allowed: int
    sittings: tuple[Sitting, ...]  # by score, lowest first


@dataclass
class World:
    orgs: list[int]  # the organisations learners are placed in (those without children)
    plans: list[Plan]
    exams: dict[tuple[int, int], Exam]  # (plan id, course id) → the exam a learner sits

    def exam(self, plan_id: int, course_id: int) -> Exam | None:
        return self.exams.get((plan_id, course_id))

    def most_cards(self, value_fen: int) -> int:
        """The study cards of `value_fen` one learner could redeem in all: enough for the
        largest purchase of every plan."""
        return sum(-(-plan.largest_purchase_fen() // value_fen) for plan in self.plans)

    def most_attempts(self) -> int:
        """The attempts one learner could make in all: every exam, every attempt."""
        return sum(exam.attempts_allowed for exam in self.exams.values())


async def load_world(connection: Connection, seed: int) -> World:
    """The catalogue as it stands; papers drawn with `seed`, so a rerun draws the same."""
    chapters: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for row in await store.chapters(connection):
        chapters[row["course_id"]].append((row["id"], row["duration_s"]))
    courses: dict[int, list[Course]] = defaultdict(list)
    for row in await store.plan_courses(connection):
        if chapters[row["id"]]:
            courses[row["plan_id"]].append(
                Course(
                    id=row["id"],
                    title=row["title"],
                    hour_tenths=row["hour_tenths"],
                    price_fen=price_fen(row["hour_tenths"], row["price_per_hour_fen"]),
                    compulsory=row["compulsory"],
                    examined=row["examined"],
                    chapters=tuple(chapters[row["id"]]),
                )
            )
    plans = [
        Plan(
            id=row["id"],
            kind=row["kind"],
            year=row["year"],
            elective_tenths=row["elective_tenths"],
            opens_at=row["opens_at"],
            courses=tuple(courses[row["id"]]),
        )
        for row in await store.plans(connection)
        if courses[row["id"]]
    ]
    rng = random.Random(f"jixu-population/{seed}/papers")
    exams: dict[tuple[int, int], Exam] = {}
    for row in await store.examined_exams(connection):
        recipe, bank = await exam_bank(connection, row["id"])
        try:
            sittings = _sittings(rng, recipe, bank, partial_credit=row["partial_credit"])
        except grading.BankTooSmall:
            continue  # an exam nobody can start: no attempts either
        exams[(row["plan_id"], row["course_id"])] = Exam(
            id=row["id"],
            duration_s=row["duration_s"],
            total_score=row["total_score"],
            pass_score=row["pass_score"],
            attempts_allowed=row["attempts_allowed"],
            sittings=sittings,
        )
    return World(orgs=await store.leaf_orgs(connection), plans=plans, exams=exams)


def _sittings(
    rng: random.Random, recipe: dict[str, int], bank: list[Question], *, partial_credit: bool
) -> tuple[Sitting, ...]:
    by_id = {question.id: question for question in bank}
    sittings = []
    for _ in range(PAPERS_PER_EXAM):
        paper = grading.draw_paper(bank, recipe, rng)
        encoded = _encoder.encode(paper).decode()
        for sheet in range(SHEETS_PER_PAPER):
            # From a weak sheet to a perfect one: each question right with this chance.
            skill = 0.4 + 0.6 * sheet / (SHEETS_PER_PAPER - 1)
            answers = {
                item.question: _answer(rng, by_id[item.question], item, right=rng.random() < skill)
                for item in paper
            }
            score = grading.grade(paper, by_id, answers, partial_credit=partial_credit)
            sittings.append(Sitting(encoded, _encoder.encode(answers).decode(), score))
    return tuple(sorted(sittings, key=lambda sitting: sitting.score))


def _answer(rng: random.Random, question: Question, item: PaperItem, *, right: bool) -> list[str]:
    """The shown keys of the right answer, or of one wrong option."""
    shown = {original: SHOWN_KEYS[index] for index, original in enumerate(item.order)}
    if right:
        return sorted(shown[key] for key in question.answer)
    wrong = [key for key in item.order if key not in question.answer]
    return [shown[rng.choice(wrong)]] if wrong else []
