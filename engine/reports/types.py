"""The reports' figures, as the pages and the exports read them."""

import msgspec

from engine.accounts.types import Org


class Completion(msgspec.Struct, frozen=True, kw_only=True):
    """Plans activated (已激活, enrolled) and passed (已通过) by some learners."""

    key: int
    label: str
    enrolled: int
    passed: int

    @property
    def rate(self) -> float:
        """已通过 of 已激活, in percent (0 when nobody activated)."""
        return 100 * self.passed / self.enrolled if self.enrolled else 0.0


class CompletionReport(msgspec.Struct, frozen=True, kw_only=True):
    """完成情况 of one organisation's subtree: per plan, and per organisation right below it
    (each with its own subtree), the organisation itself first for its direct learners."""

    org: Org | None  # None: the whole portal (the super administrator's)
    path: list[Org]  # the scope's root down to `org`: the way back up the drill-down
    plans: list[Completion]
    orgs: list[Completion]
    has_children: frozenset[int]
    total: Completion


class ShortLearner(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    real_name: str
    username: str
    org_name: str
    title_level: str | None
    required_tenths: int
    earned_tenths: int

    @property
    def missing_tenths(self) -> int:
        return max(0, self.required_tenths - self.earned_tenths)


class HoursSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A year's hours of the learners of a subtree against what their titles require."""

    year: int
    learners: int
    short: int
    missing_tenths: int  # all the short learners' shortfalls together
    bins: list[int]  # learners by earned hours, HOURS_BIN_TENTHS wide, the last open-ended


class ExamRate(msgspec.Struct, frozen=True, kw_only=True):
    """An exam's results among the learners of a subtree (each learner's kept best)."""

    exam_id: int
    title: str
    course_title: str
    total_score: int
    pass_score: int
    takers: int
    passed: int
    average_score: float

    @property
    def rate(self) -> float:
        return 100 * self.passed / self.takers if self.takers else 0.0


class ScoreBin(msgspec.Struct, frozen=True, kw_only=True):
    low: int  # scores from low to high, high included only in the last bin
    high: int
    learners: int


class RevenueLine(msgspec.Struct, frozen=True, kw_only=True):
    """Money of one month, payment method and plan: what was paid, what was refunded."""

    month: str  # 2026-03, China's calendar
    method: str
    plan_id: int
    plan_title: str
    paid_fen: int
    refunded_fen: int

    @property
    def net_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


class RevenueTotal(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    paid_fen: int
    refunded_fen: int

    @property
    def net_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


class RevenueReport(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    months: list[str]  # the year's months, January first
    by_month_method: dict[str, dict[str, int]]  # month → method → net fen
    by_plan: list[RevenueTotal]
    by_method: list[RevenueTotal]
    by_month: list[RevenueTotal]
    total: RevenueTotal
