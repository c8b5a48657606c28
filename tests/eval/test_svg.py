"""qa/eval/svg.py: the report's charts."""

from __future__ import annotations

from qa.eval.svg import bar_chart, line_chart, ticks


def test_ticks_are_round_numbers():
    assert ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert ticks(-0.6, 0.4, 5) == [-0.6, -0.4, -0.2, 0, 0.2, 0.4]


def test_charts_are_escaped_svg():
    line = line_chart(
        "F1 <by> k", [("F1", "#000", [(1, 10.0), (3, 20.0)])], "k", "%", (1, 3), (0, 100), markers=True
    )
    assert (
        line.startswith("<svg")
        and line.endswith("</svg>")
        and "F1 &lt;by&gt; k" in line
        and "<polyline" in line
    )
    bars = bar_chart("errors", [("correct", 3, "#0a0"), ("reader_miss", 0, "#a00")])
    assert bars.count("<rect") == 2 and ">3<" in bars
