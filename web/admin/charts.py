"""Charts of the report pages as inline SVG drawn on the server: no script, no library, and the
figures are in the table beside each chart for whoever cannot see it."""

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 30, 72
COLOURS = ("#2f6db5", "#e08a2c", "#4a9b5f", "#b5495b", "#7a5fb0")
TICKS = 5


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    value_text: Callable[[float], str] = lambda value: f"{value:g}",
) -> Markup:
    """Bars, one per label, each stacking the values of every series (negative values below
    the zero line), with a legend when there is more than one series."""
    if not labels:
        return Markup("")
    highs = [sum(max(0.0, values[i]) for _, values in series) for i in range(len(labels))]
    lows = [sum(min(0.0, values[i]) for _, values in series) for i in range(len(labels))]
    step = _step(max([*highs, 0.0]) - min([*lows, 0.0]))
    top = math.ceil(max([*highs, 0.0]) / step) * step
    bottom = math.floor(min([*lows, 0.0]) / step) * step
    if top == bottom:  # nothing but zeros
        top = step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + (top - value) / (top - bottom) * plot_h

    slot = plot_w / len(labels)
    bar = max(2.0, slot * 0.7)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(round((top - bottom) / step) + 1):
        value = bottom + step * tick
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'font-size="11">{escape(value_text(value))}</text>'
        )
    for index, label in enumerate(labels):
        x = LEFT + slot * index + (slot - bar) / 2
        up = down = 0.0
        for number, (name, values) in enumerate(series):
            value = values[index]
            if value == 0:
                continue
            if value > 0:
                y_top, y_bottom, up = y(up + value), y(up), up + value
            else:
                y_top, y_bottom, down = y(down), y(down + value), down + value
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar:.1f}" '
                f'height="{max(0.5, y_bottom - y_top):.1f}" fill="{COLOURS[number % len(COLOURS)]}">'
                f"<title>{escape(label)} {escape(name)}：{escape(value_text(value))}</title></rect>"
            )
        centre = LEFT + slot * index + slot / 2
        parts.append(
            f'<text x="{centre:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="11" text-anchor="end" '
            f'transform="rotate(-35 {centre:.1f} {HEIGHT - BOTTOM + 14})">'
            f"{escape(_short(label))}</text>"
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#555"/>'
    )
    if len(series) > 1:
        for number, (name, _) in enumerate(series):
            x = LEFT + number * 110
            parts.append(
                f'<rect x="{x}" y="6" width="10" height="10" '
                f'fill="{COLOURS[number % len(COLOURS)]}"/>'
                f'<text x="{x + 14}" y="15" font-size="11">{escape(name)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _step(span: float) -> float:
    """A round distance between grid lines (1, 2 or 5 times a power of ten) giving at most
    TICKS of them over `span`."""
    if span <= 0:
        return 1.0
    raw = span / TICKS
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _short(label: str) -> str:
    return label if len(label) <= 10 else label[:9] + "…"
