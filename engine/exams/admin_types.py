"""What the administration of banks and exams shows: courses with their banks, questions
with their answers, exams with their rules and attempts."""

import msgspec

from engine.admin.paging import Page
from engine.exams.exam_form import ExamDraft
from engine.exams.types import Option, QuestionKind


class CourseRef(msgspec.Struct, frozen=True, kw_only=True):
    """A course within the scope: its bank and exams are administered with it."""

    id: int
    code: str
    title: str
    org_id: int | None  # None: the platform's own course (super administrators only)


class CourseBank(msgspec.Struct, frozen=True, kw_only=True):
    """A row of 题库与考试: a course, how many questions of each kind, how many exams."""

    course: CourseRef
    org_name: str
    counts: dict[QuestionKind, int]
    exams: int


class BankQuestion(msgspec.Struct, frozen=True, kw_only=True):
    """A question of a bank as its administrators see it: answer and explanation included."""

    id: int
    course_id: int
    kind: QuestionKind
    stem: str
    options: list[Option]
    answer: list[str]
    score: int
    explanation: str


class BankView(msgspec.Struct, frozen=True, kw_only=True):
    """A course's bank: one page of its questions (filtered) and the counts per kind."""

    course: CourseRef
    counts: dict[QuestionKind, int]
    questions: Page[BankQuestion]


class ImportReport(msgspec.Struct, frozen=True, kw_only=True):
    course_id: int
    imported: int
    counts: dict[QuestionKind, int]  # the bank's counts after the import


class AdminExam(msgspec.Struct, frozen=True, kw_only=True):
    """An exam with its rules, and how many attempts are in progress and in all."""

    id: int
    course_id: int
    plan_title: str | None
    rules: ExamDraft
    in_progress: int
    attempts: int


class ListedExam(msgspec.Struct, frozen=True, kw_only=True):
    """A row of 考试安排: an exam of the scope with its course."""

    exam: AdminExam
    course: CourseRef


class PlanChoice(msgspec.Struct, frozen=True):
    """A plan that offers the course: an exam may be tied to it."""

    id: int
    title: str


class ResultsExport(msgspec.Struct, frozen=True, kw_only=True):
    """What a results download is named after."""

    exam_id: int
    title: str
    filename: str
