"""Inline SVG charts for the report: no plotting dependency, so the report is one file that opens anywhere."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

COLORS = {
    "blue": "#2563eb",
    "orange": "#ea580c",
    "green": "#16a34a",
    "red": "#dc2626",
    "purple": "#7c3aed",
    "grey": "#6b7280",
    "teal": "#0d9488",
}
WIDTH, HEIGHT = 540, 270
# The chart classes, for the report's page and for a chart saved as a file of its own (standalone).
CHART_CSS = (
    "svg .t{font-size:14px;font-weight:600}svg .g{stroke:#eee}svg .a{stroke:#999}"
    "svg .yl{font-size:11px;text-anchor:end;fill:#444}svg .xl{font-size:11px;text-anchor:middle;fill:#444}"
    "svg .al{font-size:12px;text-anchor:middle;fill:#333}"
    "svg .vl{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    "svg .lg{font-size:11px;text-anchor:end}"
    "svg .lgv{font-size:12px}"
)
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 44, 42


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    span = hi - lo if hi > lo else 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(s * magnitude for s in (1, 2, 2.5, 5, 10) if s * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _tick_label(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:g}"


class _Frame:
    """Maps data to pixels and draws the axes, grid, title and legend."""

    def __init__(
        self,
        title: str,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        x_label: str,
        y_label: str,
    ):
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        if self.x1 <= self.x0:
            self.x1 = self.x0 + 1.0
        if self.y1 <= self.y0:
            self.y1 = self.y0 + 1.0
        self.parts = [
            f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' "
            f"width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='{_e(title)}'>",
            f"<text x='{LEFT - 40}' y='16' class='t'>{_e(title)}</text>",
        ]
        for value in ticks(self.y0, self.y1):
            y = self.y(value)
            self.parts.append(
                f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y:.1f}' y2='{y:.1f}' class='g'/>"
                f"<text x='{LEFT - 6}' y='{y + 4:.1f}' class='yl'>{_tick_label(value)}</text>"
            )
        for value in ticks(self.x0, self.x1, 6):
            x = self.x(value)
            self.parts.append(
                f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{HEIGHT - BOTTOM}' y2='{HEIGHT - BOTTOM + 4}' "
                "class='a'/>"
                f"<text x='{x:.1f}' y='{HEIGHT - BOTTOM + 16}' class='xl'>{_tick_label(value)}</text>"
            )
        self.parts.append(
            f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{HEIGHT - BOTTOM}' y2='{HEIGHT - BOTTOM}' "
            "class='a'/>"
        )
        self.parts.append(
            f"<text x='{(LEFT + WIDTH - RIGHT) / 2:.0f}' y='{HEIGHT - 6}' class='al'>{_e(x_label)}</text>"
        )
        self.parts.append(
            f"<text transform='translate(14 {(TOP + HEIGHT - BOTTOM) / 2:.0f}) rotate(-90)' class='al'>"
            f"{_e(y_label)}</text>"
        )

    def x(self, value: float) -> float:
        return LEFT + (value - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - (value - self.y0) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)

    def vlines(self, lines: Sequence[tuple[float | None, str, str]]) -> None:
        for i, (value, label, color) in enumerate(lines):
            if value is None or not (self.x0 <= value <= self.x1):
                continue
            x = self.x(value)
            anchor = "end" if x > WIDTH - 90 else "start"
            dx = -4 if anchor == "end" else 4
            self.parts.append(
                f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{TOP}' y2='{HEIGHT - BOTTOM}' stroke='{color}' "
                "stroke-dasharray='4 3'/>"
                f"<text x='{x + dx:.1f}' y='{TOP + 10 + 12 * i}' fill='{color}' text-anchor='{anchor}' "
                f"class='vl'>{_e(label)}</text>"
            )

    def legend(self, entries: Sequence[tuple[str, str]]) -> None:
        """One row between the title and the plot, right-aligned, so it never hides data."""
        x = WIDTH - RIGHT
        for label, color in reversed(entries):
            self.parts.append(f"<text x='{x}' y='{TOP - 12}' class='lg'>{_e(label)}</text>")
            x -= 6.2 * len(label) + 16  # about 6.2 px a character at 11 px
            self.parts.append(f"<rect x='{x + 3:.1f}' y='{TOP - 21}' width='10' height='10' fill='{color}'/>")
            x -= 10

    def svg(self) -> str:
        return "".join(self.parts) + "</svg>"


def line_chart(
    title: str,
    series: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    x_label: str,
    y_label: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    *,
    vlines: Sequence[tuple[float | None, str, str]] = (),
    step: bool = False,
    markers: bool = False,
) -> str:
    frame = _Frame(title, x_range, y_range, x_label, y_label)
    for _label, color, points in series:
        coords: list[tuple[float, float]] = []
        for i, (x, y) in enumerate(points):
            if step and i > 0:
                coords.append((frame.x(x), frame.y(points[i - 1][1])))
            coords.append((frame.x(x), frame.y(y)))
        if coords:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            frame.parts.append(f"<polyline points='{path}' fill='none' stroke='{color}' stroke-width='2'/>")
        if markers:
            frame.parts += [
                f"<circle cx='{frame.x(x):.1f}' cy='{frame.y(y):.1f}' r='3' fill='{color}'>"
                f"<title>{_e(f'{x:g}: {y:.1f}')}</title></circle>"
                for x, y in points
            ]
    frame.vlines(vlines)
    frame.legend([(label, color) for label, color, _ in series])
    return frame.svg()


def histogram(
    title: str,
    groups: Sequence[tuple[str, str, Sequence[float]]],
    x_label: str,
    x_range: tuple[float, float],
    *,
    bins: int = 20,
    vlines: Sequence[tuple[float | None, str, str]] = (),
) -> str:
    lo, hi = x_range
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    counts = []
    for _label, _color, values in groups:
        row = [0] * bins
        for value in values:
            # Values outside the range land in the edge bins, so nothing silently disappears.
            row[min(bins - 1, max(0, int((value - lo) / width)))] += 1
        counts.append(row)
    top = max((c for row in counts for c in row), default=0)
    frame = _Frame(title, (lo, hi), (0, max(1, top) * 1.1), x_label, "questions")
    bin_px = frame.x(lo + width) - frame.x(lo)
    bar_px = (bin_px - 1) / len(groups)  # groups side by side within a bin
    for g, ((label, color, _values), row) in enumerate(zip(groups, counts)):
        for i, count in enumerate(row):
            if count:
                x, y = frame.x(lo + i * width) + g * bar_px, frame.y(count)
                frame.parts.append(
                    f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar_px:.1f}' height='{HEIGHT - BOTTOM - y:.1f}' "
                    f"fill='{color}' fill-opacity='0.85'>"
                    f"<title>{_e(f'{label}: {count} in [{lo + i * width:.3g}, {lo + (i + 1) * width:.3g})')}"
                    "</title></rect>"
                )
    frame.vlines(vlines)
    frame.legend([(label, color) for label, color, _ in groups])
    return frame.svg()


def bar_chart(title: str, bars: Sequence[tuple[str, int, str]]) -> str:
    """Horizontal bars with their counts."""
    top = max((value for _, value, _ in bars), default=0) or 1
    row = (HEIGHT - TOP - 10) / max(1, len(bars))
    left = 130
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' "
        f"width='{WIDTH}' height='{HEIGHT}' role='img' aria-label='{_e(title)}'>",
        f"<text x='{LEFT - 40}' y='16' class='t'>{_e(title)}</text>",
    ]
    for i, (label, value, color) in enumerate(bars):
        y = TOP + i * row
        length = (WIDTH - left - 60) * value / top
        parts.append(
            f"<text x='{left - 8}' y='{y + row * 0.55:.1f}' class='yl'>{_e(label)}</text>"
            f"<rect x='{left}' y='{y + row * 0.15:.1f}' width='{length:.1f}' height='{row * 0.7:.1f}' "
            f"fill='{color}'/>"
            f"<text x='{left + length + 6:.1f}' y='{y + row * 0.55:.1f}' class='lgv'>{value}</text>"
        )
    return "".join(parts) + "</svg>"


def standalone(svg: str) -> str:
    """A chart as an .svg file of its own: its styles inside it, a white background, sans-serif text."""
    head, rest = svg.split(">", 1)
    return (
        f"{head}><style>svg{{font-family:system-ui,sans-serif}}{CHART_CSS}</style>"
        f"<rect width='100%' height='100%' fill='#fff'/>{rest}"
    )
