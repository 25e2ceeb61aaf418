"""Exam values: questions of the bank, drawn papers, joined attempts and results, and the
rows the demo writes."""

from typing import Literal

import msgspec

QuestionKind = Literal["single", "multiple", "true_false"]
# The order in which a paper groups its questions: 单选题, 多选题, 判断题.
KINDS: tuple[QuestionKind, ...] = ("single", "multiple", "true_false")


class Option(msgspec.Struct, frozen=True):
    key: str
    text: str


class Question(msgspec.Struct, frozen=True):
    """A question of the bank, with its correct keys: never sent before submission."""

    id: int
    kind: QuestionKind
    stem: str
    options: list[Option]
    answer: frozenset[str]
    score: int


class PaperItem(msgspec.Struct, frozen=True, array_like=True):
    """One question of an attempt and its options' original keys in the order shown."""

    question: int
    order: list[str]


class JoinedExam(msgspec.Struct):
    """What a socket that joined an attempt needs to check answers without a round trip."""

    attempt_id: int
    deadline_ms: int
    questions: dict[int, tuple[QuestionKind, int]]  # question → kind, option count


class Result(msgspec.Struct, frozen=True):
    attempt_id: int
    learner_id: int
    score: int
    passed: bool
    total_score: int


class Graded(msgspec.Struct, frozen=True):
    """An attempt scored at submission, with the drafts it was scored on."""

    attempt_id: int
    learner_id: int
    exam_id: int
    answers: dict[int, list[str]]
    flags: list[int]
    score: int
    passed: bool
    total_score: int


class Best(msgspec.Struct, frozen=True):
    """What a set of newly graded attempts brings to one learner's result at one exam."""

    learner_id: int
    exam_id: int
    best_score: int
    best_attempt_id: int  # the first attempt to reach the best score
    passed_score: int | None  # the score of the first passing attempt; None: none passed


class OpenAttempt(msgspec.Struct, frozen=True):
    """An attempt not yet graded: the learner may go back to it until its deadline."""

    id: int
    deadline_ms: int


class ExamSummary(msgspec.Struct, frozen=True):
    """An exam as one learner sees it: the rows of 我的考试."""

    id: int
    title: str
    plan_id: int
    plan_title: str
    course_id: int
    opens_ms: int
    closes_ms: int
    duration_s: int
    pass_score: int
    total_score: int
    attempts_allowed: int
    attempts_used: int
    best_score: int | None
    course_complete: bool
    open_attempt: OpenAttempt | None = None


class ShownQuestion(msgspec.Struct, frozen=True):
    """A question as the paper shows it: options re-keyed A–H in shown order, no answer."""

    id: int
    type: QuestionKind
    stem: str
    options: list[Option]
    score: int


class ExamListing(msgspec.Struct, frozen=True):
    """A row of 我的考试: the exam, what is left of it, and why it cannot start (or None)."""

    id: int
    title: str
    plan_id: int
    plan_title: str
    course_id: int
    opens_ms: int
    closes_ms: int
    duration_s: int
    pass_score: int
    total_score: int
    attempts_left: int
    best_score: int | None
    open_attempt: int | None  # the attempt still taking answers
    eligible: bool
    reason: str | None


class UnscheduledExam(msgspec.Struct, frozen=True):
    """A selected course that needs an exam none has scheduled (F22)."""

    course_id: int
    course_title: str
    plan_id: int
    plan_title: str
    reason: str


class StartedAttempt(msgspec.Struct, frozen=True):
    """A new attempt (or the open one) with its paper, as the API answers a start."""

    id: int
    deadline_ms: int
    server_now_ms: int
    questions: list[ShownQuestion]


class AttemptView(msgspec.Struct, frozen=True):
    """An attempt with its exam, as the exam page and the result page show it."""

    id: int
    number: int
    exam: ExamSummary
    attempts_left: int
    deadline_ms: int
    submitted: bool
    score: int | None
    passed: bool | None
    total_score: int
    submitted_ms: int | None
    submitted_by: str | None
    questions: list[ShownQuestion]  # empty unless asked for

    def taking_answers(self, now_ms: int, grace_ms: int) -> bool:
        """Not submitted, and its deadline (plus the grace) not yet passed."""
        return not self.submitted and now_ms <= self.deadline_ms + grace_ms


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
