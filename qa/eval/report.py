"""The evaluation report: one self-contained HTML file with inline SVG plots and the error examples."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.eval.metrics import (
    ERROR_CLASSES,
    RETRIEVAL_DEPTH,
    STAGES,
    percentile,
    recall_at_k,
    threshold_sweep,
)
from qa.eval.svg import CHART_CSS, COLORS, bar_chart, histogram, line_chart

ERROR_MEANINGS = {
    "correct": "exact match with a gold answer (or null for an unanswerable question)",
    "retrieval_miss": "answerable, but no passage the reader saw holds a gold answer",
    "reader_miss": "a passage the reader saw holds the answer; the reader picked another span",
    "false_no_answer": "a passage the reader saw holds the answer; the pipeline answered null",
    "false_answer": "unanswerable, but the pipeline gave an answer",
}
CLASS_COLORS = {
    "correct": COLORS["green"],
    "retrieval_miss": COLORS["grey"],
    "reader_miss": COLORS["orange"],
    "false_no_answer": COLORS["purple"],
    "false_answer": COLORS["red"],
}
SNIPPET_CHARS = 260  # passage text shown either side of a highlighted span


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
        f"<title>QA evaluation: {_e(Path(str(cfg.get('questions', ''))).name)}</title>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>QA evaluation: {_e(Path(str(cfg.get('questions', ''))).name)}</h1>",
    ]
    if metrics.get("partial"):
        parts.append(
            f"<p class='partial'>PARTIAL RUN: {metrics['n']} of {metrics.get('questions_in_run', '?')} "
            "questions were evaluated (interrupted). Figures cover only those; "
            "rerun with <code>--resume</code> to finish.</p>"
        )
    parts += [_headline(metrics), _config_table(cfg)]
    parts.append("<h2>Plots</h2><div class='plots'>")
    parts += [
        _recall_plot(records, metrics),
        _sweep_plot(records, metrics),
        _answer_score_plot(records),
        _margin_plot(records, metrics),
    ]
    parts.append(_latency_plots(records, metrics))
    parts.append("</div>")
    parts.append(_errors_section(records, metrics, examples))
    parts.append(_all_questions(records))
    parts.append("</body></html>\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------
# Figures and tables


def _fmt(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}{suffix}" if isinstance(value, (int, float)) else str(value)


def _headline(m: dict[str, Any]) -> str:
    recall = m.get("retrieval_recall_at_k", {})
    k = str(m.get("config", {}).get("k", ""))
    total = m.get("latency_ms", {}).get("total", {})
    best = m["no_answer_threshold"]["best_f1"]
    cards = [
        ("Exact match", _fmt(m["exact_match"]), f"F1 {_fmt(m['f1'])}"),
        (
            "Has-answer",
            f"EM {_fmt(m['has_ans_exact_match'])}",
            f"F1 {_fmt(m['has_ans_f1'])} · {m['n_has_answer']} questions",
        ),
        ("No-answer accuracy", _fmt(m["no_ans_accuracy"]), f"{m['n_no_answer']} questions"),
        (
            f"Retrieval recall@{k}",
            _fmt(recall.get(k)),
            " · ".join(f"@{x} {_fmt(v)}" for x, v in recall.items() if x != k),
        ),
        (
            "MRR",
            _fmt(m["mrr"], 3),
            "first passage holding the answer, "
            f"top {m.get('config', {}).get('retrieval_depth', RETRIEVAL_DEPTH)}",
        ),
        (
            "Reader when retrieved",
            f"EM {_fmt(m.get('reader_exact_match_when_retrieved'))}",
            f"F1 {_fmt(m.get('reader_f1_when_retrieved'))}",
        ),
        ("Latency (total)", f"{_fmt(total.get('p50'), 0)} ms", f"p50 · p95 {_fmt(total.get('p95'), 0)} ms"),
        (
            "Best no-answer threshold",
            f"{best['threshold']:+.3f}",
            f"F1 {_fmt(best['f1'])} · EM {_fmt(best['exact_match'])} "
            f"(now {m['no_answer_threshold']['used']})",
        ),
    ]
    body = "".join(
        f"<div class='card'><div class='label'>{_e(a)}</div><div class='value'>{_e(b)}</div>"
        f"<div class='sub'>{_e(c)}</div></div>"
        for a, b, c in cards
    )
    return (
        f"<div class='cards'>{body}</div><p class='note'>EM, F1, accuracies and recall in percent "
        "(SQuAD 2.0 normalisation; unanswerable questions score 1 only for a null answer). "
        "Retrieval figures count answerable questions whose answer text occurs in a retrieved passage.</p>"
    )


def _config_table(cfg: dict[str, Any]) -> str:
    keys = (
        "questions",
        "questions_format",
        "limit",
        "corpus",
        "index",
        "index_passages",
        "index_articles",
        "embedder",
        "reader",
        "k",
        "retrieval_depth",
        "mode",
        "no_answer_threshold",
        "git_commit",
        "git_dirty",
        "started",
        "cpu_count",
        "command",
    )
    rows = "".join(f"<tr><th>{_e(key)}</th><td>{_e(cfg.get(key))}</td></tr>" for key in keys if key in cfg)
    return f"<details><summary>Run configuration</summary><table class='config'>{rows}</table></details>"


def _recall_plot(records: Sequence[dict[str, Any]], m: dict[str, Any]) -> str:
    depth = int(m.get("config", {}).get("retrieval_depth", RETRIEVAL_DEPTH))
    ks = list(range(1, depth + 1))
    answerable = [r for r in records if r["has_answer"]]
    series = [
        (
            "answer text in top k",
            COLORS["blue"],
            [(k, 100 * recall_at_k([r["answer_rank"] for r in answerable], k)) for k in ks],
        )
    ]
    sourced = [r for r in records if "source_rank" in r]
    if sourced:
        series.append(
            (
                "gold article in top k",
                COLORS["teal"],
                [(k, 100 * recall_at_k([r["source_rank"] for r in sourced], k)) for k in ks],
            )
        )
    k = m.get("config", {}).get("k")
    chart = line_chart(
        "Retrieval recall@k",
        series,
        "k (passages retrieved)",
        "recall (%)",
        (1, max(depth, 2)),
        (0, 100),
        vlines=[(k, f"read k={k}", COLORS["grey"])] if k else [],
        markers=True,
    )
    return _figure(
        chart,
        f"Share of the {len(answerable)} answerable questions with a passage holding the answer "
        f"among the top k. The reader sees the top {k}; left of the line the reader could have answered.",
    )


def _sweep_plot(records: Sequence[dict[str, Any]], m: dict[str, Any]) -> str:
    rows = [
        (r["margin"], r["candidate_exact_match"] or 0.0, r["candidate_f1"] or 0.0, r["has_answer"])
        for r in records
    ]
    sweep = threshold_sweep(rows)
    points = sweep.points
    lo, hi = points[0].threshold, points[-1].threshold
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    f1 = [(p.threshold, p.f1) for p in points]
    em = [(p.threshold, p.exact_match) for p in points]
    used, best = m["no_answer_threshold"]["used"], sweep.best_f1
    chart = line_chart(
        "F1 / EM vs no-answer threshold",
        [("F1", COLORS["blue"], f1), ("EM", COLORS["orange"], em)],
        "threshold (null when no-answer score − span score > threshold)",
        "score (%)",
        (lo, hi),
        (0, 100),
        vlines=[
            (used, f"used {used:+.2f}", COLORS["grey"]),
            (best.threshold, f"best {best.threshold:+.3f}", COLORS["green"]),
        ],
        step=True,
    )
    return _figure(
        chart,
        "Raising the threshold answers more questions (fewer nulls). "
        f"Best F1 {best.f1:.1f} at {best.threshold:+.3f}; pass it as --threshold to qa ask / qa eval.",
    )


def _answer_score_plot(records: Sequence[dict[str, Any]]) -> str:
    answered = [r for r in records if r["answer"] is not None]
    right = [r["confidence"] for r in answered if r["exact_match"] == 1.0]
    wrong = [r["confidence"] for r in answered if r["exact_match"] != 1.0]
    chart = histogram(
        "Answer confidence: correct vs wrong answers",
        [
            (f"correct ({len(right)})", COLORS["green"], right),
            (f"wrong ({len(wrong)})", COLORS["red"], wrong),
        ],
        "answer confidence",
        (0.0, 1.0),
    )
    return _figure(
        chart,
        "Scores of the non-null answers. "
        "Where the two overlap, the score cannot tell a right answer from a wrong one.",
    )


def _margin_plot(records: Sequence[dict[str, Any]], m: dict[str, Any]) -> str:
    has = [r["margin"] for r in records if r["has_answer"] and r["margin"] is not None]
    no = [r["margin"] for r in records if not r["has_answer"] and r["margin"] is not None]
    values = has + no
    lo, hi = (min(values), max(values)) if values else (-1.0, 1.0)
    used, best = m["no_answer_threshold"]["used"], m["no_answer_threshold"]["best_f1"]["threshold"]
    chart = histogram(
        "Margin (best span − no-answer score)",
        [(f"has answer ({len(has)})", COLORS["blue"], has), (f"no answer ({len(no)})", COLORS["orange"], no)],
        "margin",
        (min(lo, -used, -best), max(hi, -used, -best)),
        vlines=[(-used, "used", COLORS["grey"]), (-best, "best", COLORS["green"])],
    )
    return _figure(
        chart,
        "The pipeline answers when the margin is at least −threshold (right of the line). "
        "Well separated colours mean a threshold can tell answerable from unanswerable questions.",
    )


def _latency_plots(records: Sequence[dict[str, Any]], m: dict[str, Any]) -> str:
    out = []
    for stage, color in zip(STAGES, (COLORS["teal"], COLORS["purple"], COLORS["blue"])):
        values = [r["timings_ms"][f"{stage}_ms"] for r in records]
        if not values:
            continue
        stats = m.get("latency_ms", {}).get(stage, {})
        top = max(percentile(values, 99) * 1.1, stats.get("p95", 0) * 1.05, 1e-3)
        chart = histogram(
            f"Latency: {stage}",
            [(f"{stage} ({len(values)})", color, values)],
            "milliseconds (last bin holds the slowest 1%)",
            (0.0, top),
            vlines=[
                (stats.get("p50"), f"p50 {_fmt(stats.get('p50'), 0)}", COLORS["grey"]),
                (stats.get("p95"), f"p95 {_fmt(stats.get('p95'), 0)}", COLORS["red"]),
            ],
        )
        out.append(
            _figure(
                chart,
                f"Per-question {stage} time; mean {_fmt(stats.get('mean'), 1)} ms. "
                "Indicative: other work may share the CPU.",
            )
        )
    return "".join(out)


def _errors_section(records: Sequence[dict[str, Any]], m: dict[str, Any], examples: int) -> str:
    counts = m["errors"]
    n = max(1, m["n"])
    bars = [(name, counts.get(name, 0), CLASS_COLORS[name]) for name in ("correct", *ERROR_CLASSES)]
    rows = "".join(
        f"<tr><td><span class='dot' style='background:{CLASS_COLORS[name]}'></span>{_e(name)}</td>"
        f"<td class='num'>{count}</td>"
        f"<td class='num'>{100 * count / n:.1f}%</td><td>{_e(ERROR_MEANINGS[name])}</td></tr>"
        for name, count, _ in bars
    )
    parts = [
        "<h2>Error attribution</h2>",
        "<div class='plots'>"
        + _figure(
            bar_chart("Outcomes", bars),
            "Each wrong answer gets one class: retrieval first (the reader never saw the answer), "
            "then the reader's choice.",
        )
        + "<table class='counts'><tr><th>class</th><th>count</th><th>share</th><th>meaning</th></tr>"
        f"{rows}</table></div>",
    ]
    for name in ERROR_CLASSES:
        wrong = [r for r in records if r["error_class"] == name]
        if not wrong:
            continue
        shown = wrong[:examples]
        note = (
            f"all {len(wrong)}"
            if len(shown) == len(wrong)
            else f"the first {len(shown)} of {len(wrong)} (all are in predictions.jsonl)"
        )
        body = "".join(_example_row(r) for r in shown)
        parts.append(
            f"<details open><summary><b>{_e(name)}</b>: {len(wrong)} questions, showing {note}</summary>"
            "<table class='examples'><tr><th>question</th><th>prediction</th><th>gold</th>"
            f"<th>passage</th></tr>{body}</table></details>"
        )
    return "\n".join(parts)


def _example_row(r: dict[str, Any]) -> str:
    prediction = "<i>null</i>" if r["answer"] is None else f"{_e(r['answer'])}"
    shown = r["no_answer_score"] if r["answer"] is None else r["confidence"]
    prediction += f"<div class='sub'>{'no-answer score' if r['answer'] is None else 'confidence'} {shown:.2f}"
    if r["answer"] is None and r.get("best_candidate"):
        prediction += f"; best span {_e(r['best_candidate'])}"
    prediction += f"; margin {_fmt(r.get('margin'), 2)}</div>"
    gold = "<i>unanswerable</i>" if not r["has_answer"] else "<br>".join(_e(g) for g in r["gold"])
    passage = ""
    citation = r["citations"][0] if r["citations"] else None
    if citation is not None:
        span = (citation["start"], citation["end"]) if citation["start"] is not None else None
        label = "cited" if span else "top passage"
        passage += (
            f"<div class='sub'>{label}: {_e(citation['title'])}</div>{_snippet(citation['text'], span)}"
        )
    holder = r.get("answer_passage")
    if (
        r["has_answer"]
        and holder is not None
        and (citation is None or holder["passage_id"] != citation["passage_id"] or r["answer"] is None)
    ):
        if r.get("read_answer_rank") is not None:
            where = f"answer in read passage #{r['read_answer_rank'] + 1}"
        else:
            where = f"answer only at rank {r['answer_rank'] + 1} of {len(r.get('retrieved', []))} (not read)"
        passage += (
            f"<div class='sub'>{where}: {_e(holder['title'])}</div>"
            f"{_snippet(holder['text'], _find(holder['text'], r['gold']))}"
        )
    elif r["has_answer"] and holder is None:
        passage += (
            f"<div class='sub'>none of the {len(r.get('retrieved', []))} retrieved passages "
            "holds the answer</div>"
        )
    return (
        f"<tr><td>{_e(r['question'])}<div class='sub'>{_e(r['id'])}</div></td><td>{prediction}</td>"
        f"<td>{gold}</td><td class='passage'>{passage}</td></tr>"
    )


def _all_questions(records: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr class='{_e(r['error_class'] or 'correct')}'><td>{_e(r['id'])}</td><td>{_e(r['question'])}</td>"
        f"<td>{'<i>null</i>' if r['answer'] is None else _e(r['answer'])}</td>"
        f"<td>{'<i>unanswerable</i>' if not r['has_answer'] else ' | '.join(_e(g) for g in r['gold'])}</td>"
        f"<td>{_e(r['error_class'] or 'correct')}</td><td class='num'>{r['f1']:.2f}</td>"
        f"<td class='num'>{_fmt(r['confidence'], 2)}</td>"
        f"<td class='num'>{_fmt(r.get('margin'), 2)}</td>"
        f"<td class='num'>{'-' if r['answer_rank'] is None else r['answer_rank'] + 1}</td>"
        f"<td class='num'>{r['timings_ms']['total_ms']:.0f}</td></tr>"
        for r in records
    )
    head = (
        "<tr><th>id</th><th>question</th><th>prediction</th><th>gold</th><th>outcome</th><th>F1</th>"
        "<th>confidence</th><th>margin</th><th>answer rank</th><th>ms</th></tr>"
    )
    return (
        f"<h2>Every question</h2><details><summary>{len(records)} questions (also in predictions.jsonl)"
        f"</summary><table class='all'>{head}{rows}</table></details>"
    )


def _find(text: str, answers: Sequence[str]) -> tuple[int, int] | None:
    lowered = text.lower()
    for answer in sorted(answers, key=len, reverse=True):
        start = lowered.find(answer.lower()) if answer.strip() else -1
        if start >= 0:
            return start, start + len(answer)
    return None


def _snippet(text: str, span: tuple[int, int] | None) -> str:
    if span is None:
        cut = text[: 2 * SNIPPET_CHARS]
        return f"<div class='snippet'>{_e(cut)}{'…' if len(text) > len(cut) else ''}</div>"
    start, end = span
    a, b = max(0, start - SNIPPET_CHARS), min(len(text), end + SNIPPET_CHARS)
    return (
        f"<div class='snippet'>{'…' if a > 0 else ''}{_e(text[a:start])}<mark>{_e(text[start:end])}</mark>"
        f"{_e(text[end:b])}{'…' if b < len(text) else ''}</div>"
    )


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


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
