"""The evaluation report's plots: retrieval recall, the no-answer threshold, scores, margins, latency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qa.eval.metrics import RETRIEVAL_DEPTH, STAGES, percentile, recall_at_k, threshold_sweep
from qa.eval.report_markup import figure, fmt
from qa.eval.svg import COLORS, histogram, line_chart


def recall_plot(records: Sequence[dict[str, Any]], m: dict[str, Any]) -> str:
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
    return figure(
        chart,
        f"Share of the {len(answerable)} answerable questions with a passage holding the answer "
        f"among the top k. The reader sees the top {k}; left of the line the reader could have answered.",
    )


def sweep_plot(records: Sequence[dict[str, Any]], m: dict[str, Any]) -> str:
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
    return figure(
        chart,
        "Raising the threshold answers more questions (fewer nulls). "
        f"Best F1 {best.f1:.1f} at {best.threshold:+.3f}; pass it as --threshold to qa ask / qa eval.",
    )


def answer_score_plot(records: Sequence[dict[str, Any]]) -> str:
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
    return figure(
        chart,
        "Scores of the non-null answers. "
        "Where the two overlap, the score cannot tell a right answer from a wrong one.",
    )


def margin_plot(records: Sequence[dict[str, Any]], m: dict[str, Any]) -> str:
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
    return figure(
        chart,
        "The pipeline answers when the margin is at least −threshold (right of the line). "
        "Well separated colours mean a threshold can tell answerable from unanswerable questions.",
    )


def latency_plots(records: Sequence[dict[str, Any]], m: dict[str, Any]) -> str:
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
                (stats.get("p50"), f"p50 {fmt(stats.get('p50'), 0)}", COLORS["grey"]),
                (stats.get("p95"), f"p95 {fmt(stats.get('p95'), 0)}", COLORS["red"]),
            ],
        )
        out.append(
            figure(
                chart,
                f"Per-question {stage} time; mean {fmt(stats.get('mean'), 1)} ms. "
                "Indicative: other work may share the CPU.",
            )
        )
    return "".join(out)
