"""The evaluation report: one self-contained HTML file with inline SVG plots and the error examples."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.eval.report_markup import escape
from qa.eval.report_plots import answer_score_plot, latency_plots, margin_plot, recall_plot, sweep_plot
from qa.eval.report_tables import (
    CLASS_COLORS,
    ERROR_MEANINGS,
    SNIPPET_CHARS,
    all_questions,
    config_table,
    errors_section,
    headline,
)
from qa.eval.svg import CHART_CSS

# Names imported from here before the sections moved to report_tables.py.
__all__ = ["CLASS_COLORS", "ERROR_MEANINGS", "SNIPPET_CHARS", "render_report", "write_report"]


def write_report(
    path: Path, records: Sequence[dict[str, Any]], metrics: dict[str, Any], *, examples: int = 30
) -> Path:
    """Write report.html for a run: headline figures, plots, error attribution with examples, every
    question."""
    path.write_text(render_report(records, metrics, examples=examples), encoding="utf-8")
    return path


def render_report(records: Sequence[dict[str, Any]], metrics: dict[str, Any], *, examples: int = 30) -> str:
    cfg = metrics.get("config", {})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>QA evaluation: {escape(Path(str(cfg.get('questions', ''))).name)}</title>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>QA evaluation: {escape(Path(str(cfg.get('questions', ''))).name)}</h1>",
    ]
    if metrics.get("partial"):
        parts.append(
            f"<p class='partial'>PARTIAL RUN: {metrics['n']} of {metrics.get('questions_in_run', '?')} "
            "questions were evaluated (interrupted). Figures cover only those; "
            "rerun with <code>--resume</code> to finish.</p>"
        )
    parts += [headline(metrics), config_table(cfg)]
    parts.append("<h2>Plots</h2><div class='plots'>")
    parts += [
        recall_plot(records, metrics),
        sweep_plot(records, metrics),
        answer_score_plot(records),
        margin_plot(records, metrics),
    ]
    parts.append(latency_plots(records, metrics))
    parts.append("</div>")
    parts.append(errors_section(records, metrics, examples))
    parts.append(all_questions(records))
    parts.append("</body></html>\n")
    return "\n".join(parts)


_CSS = (
    """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;
padding:0 16px;color:#111}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.partial{background:#fef3c7;border:1px solid #f59e0b;padding:8px 12px;border-radius:6px;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px}.card .label{color:#555;font-size:13px}
.card .value{font-size:24px;font-weight:600}.sub{color:#666;font-size:12px}.note{color:#555;font-size:13px}
.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #eee;border-radius:8px;padding:6px;max-width:552px}
figcaption{font-size:13px;color:#444;max-width:540px}svg{max-width:100%;height:auto}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #e5e7eb;padding:4px 6px;vertical-align:top;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}table.examples td{max-width:340px}
td.passage{max-width:520px}
.snippet{font-size:12px;color:#333;margin-bottom:6px}mark{background:#fde68a;padding:0 1px}
.dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
details{margin:10px 0}summary{cursor:pointer}table.config th{background:#f9fafb}
tr.correct td:nth-child(5){color:#16a34a}
"""
    + CHART_CSS
)
