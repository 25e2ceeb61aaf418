"""The report pages' SVG bar chart: a bar part per non-zero value, stacked up from zero and
down for negative ones, labels escaped, round grid values."""

import re

from web.admin.charts import bar_chart


def test_bars_stack_above_and_below_zero() -> None:
    svg = str(
        bar_chart(
            "收入",
            ["01月", "<b>"],
            [("余额支付", [100, -50]), ("支付宝", [0, 30])],
            lambda value: f"{value:g}",
        )
    )
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert svg.count("<rect") == 3 + 2  # three non-zero values, two legend keys
    assert "&lt;b&gt;" in svg
    assert "<b>" not in svg
    grid = [float(v) for v in re.findall(r'text-anchor="end" font-size="11">(-?[0-9.]+)<', svg)]
    # From -50 to 100: at most five steps of a round size.
    assert grid == [-50.0, 0.0, 50.0, 100.0]


def test_nothing_to_draw() -> None:
    assert str(bar_chart("空", [], [])) == ""
    assert "<svg" in str(bar_chart("零", ["a"], [("x", [0])]))
