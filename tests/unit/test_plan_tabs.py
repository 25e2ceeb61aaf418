"""The tabs of 我的课程 (F7) and the year they are counted from."""

import pytest

from engine.catalog.service import PLAN_TABS, in_tab, learning_year
from engine.catalog.types import PlanSummary


def plan(year: int, kind: str = "public", state: str = "pending") -> PlanSummary:
    return PlanSummary(
        id=1, title="计划", kind=kind, year=year, category=None, state=state,
        required_hours=32, compulsory_hours=6, elective_hours=26, selected_hours=0,
        earned_hours=0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "tabs"),
    [
        pytest.param(plan(2018), {"all", "public"}, id="this-year-public"),
        pytest.param(plan(2017), {"all", "catch-up"}, id="last-year-public"),
        pytest.param(plan(2014), {"all", "catch-up"}, id="four-years-back"),
        pytest.param(plan(2013), {"all"}, id="five-years-back"),
        pytest.param(plan(2016, state="passed"), {"all"}, id="catch-up-already-passed"),
        pytest.param(plan(2016, state="learning"), {"all", "catch-up"}, id="catch-up-learning"),
        pytest.param(plan(2018, "professional"), {"all", "professional"}, id="professional"),
        pytest.param(plan(2017, "professional"), {"all"}, id="last-year-professional"),
        pytest.param(plan(2019), {"all"}, id="next-year"),
    ],
)
def test_tabs_of_a_plan_in_2018(subject: PlanSummary, tabs: set[str]) -> None:
    assert {tab for tab in PLAN_TABS if in_tab(subject, tab, 2018)} == tabs


@pytest.mark.parametrize(
    ("configured", "now_ms", "year"),
    [
        pytest.param(2018, 1_700_000_000_000, 2018, id="configured"),
        pytest.param(None, 1_700_000_000_000, 2023, id="calendar"),
        # 2023-12-31 16:30 UTC is already 2024-01-01 00:30 in China.
        pytest.param(None, 1_704_040_200_000, 2024, id="new-year-in-china"),
    ],
)
def test_learning_year(configured: int | None, now_ms: int, year: int) -> None:
    assert learning_year(configured, now_ms) == year
