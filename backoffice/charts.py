"""Charts as inline SVG, drawn on the server: the pages' CSP allows no scripts, and a chart
that is markup prints, zooms and reads aloud (each bar and point carries its own <title>).
Every label goes through html.escape."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

COLOURS = ("#0b5394", "#e69138", "#6aa84f", "#cc0000", "#674ea7")
WIDTH = 720
LABEL_WIDTH = 220  # room for a department's or doctor's name in Chinese and a work number
BAR_HEIGHT = 18
BAR_GAP = 6


def _svg(title: str, height: int, body: str) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" style="max-width:{WIDTH}px" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(title: str, bars: Sequence[tuple[str, int]]) -> str:
    """Horizontal bars, one per (label, value), longest for the largest value."""
    if not bars:
        return f'<p class="chart-empty">{escape(title)}: 无数据 no data.</p>'
    top = max(max(v for _, v in bars), 1)
    room = WIDTH - LABEL_WIDTH - 60
    parts = []
    for n, (label, value) in enumerate(bars):
        y = 4 + n * (BAR_HEIGHT + BAR_GAP)
        length = _number(room * value / top)
        text_y = y + BAR_HEIGHT - 4
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{text_y}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
            f'fill="{COLOURS[0]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{LABEL_WIDTH + float(length) + 4:.1f}" y="{text_y}" font-size="12">'
            f"{value}</text>"
        )
    height = 8 + len(bars) * (BAR_HEIGHT + BAR_GAP)
    return _svg(title, height, "".join(parts))


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, list[int]]]) -> str:
    """One line per named series over the same x labels (the days of a period), with a
    legend, the y scale at 0, half and top, and the first, middle and last x labels."""
    if not labels or not series:
        return f'<p class="chart-empty">{escape(title)}: 无数据 no data.</p>'
    left, right, top_pad, plot_h = 48, 16, 28, 180
    plot_w = WIDTH - left - right
    top = max(max((max(values, default=0) for _, values in series), default=0), 1)
    top += top % 2 if top > 1 else 1  # an even top: the middle line is a whole number too
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> str:
        return _number(left + i * step)

    def y(v: int) -> str:
        return _number(top_pad + plot_h - plot_h * v / top)

    parts = []
    for v in (0, top // 2, top):
        yy = _number(top_pad + plot_h - plot_h * v / top)
        parts.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{yy}" y2="{yy}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{yy}" text-anchor="end" font-size="11">{_number(v)}</text>'
        )
    for i in sorted({0, (len(labels) - 1) // 2, len(labels) - 1}):
        parts.append(
            f'<text x="{x(i)}" y="{top_pad + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{escape(labels[i])}</text>'
        )
    for n, (name, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values))
        parts.append(
            f'<polyline class="line" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{points}"><title>{escape(name)}</title></polyline>'
        )
        parts.extend(
            f'<circle cx="{x(i)}" cy="{y(v)}" r="2.5" fill="{colour}">'
            f"<title>{escape(labels[i])} {escape(name)}: {v}</title></circle>"
            for i, v in enumerate(values)
        )
        legend_x = left + n * 150
        parts.append(
            f'<rect x="{legend_x}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="16" font-size="12">{escape(name)}</text>'
        )
    return _svg(title, top_pad + plot_h + 24, "".join(parts))
