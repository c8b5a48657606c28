"""F1 against the no-answer threshold, one curve per evaluation run, from runs that already exist.

    python -m bench.threshold_curves RUN_DIR[=LABEL] ... [--svg FILE] [--transfer FROM:TO ...]

Each RUN_DIR is a `qa eval --out` folder: its predictions.jsonl holds, per question, the margin
(best span score minus no-answer score) and the F1 the best span would score, so every threshold
can be scored again without running a model. The rule is the pipeline's
(`qa.answer.compose.assemble_answers`): a question is answered when -margin <= threshold. Prints per
set the F1 at the shipped threshold (checked against the run's metrics.json when it used that one),
the best threshold of `qa.eval.metrics.threshold_sweep` with its F1 and the span of thresholds that
score as well, then F1 over a grid of thresholds; `--transfer FROM:TO` scores set TO at the
threshold best on set FROM (a tuning half applied to its measuring half). `--svg` writes the curves.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import table
from qa import config
from qa.eval.metrics import ThresholdSweep, threshold_sweep
from qa.eval.svg import COLORS, line_chart, standalone


def shipped_threshold() -> float:
    """The bundled reader's no-answer threshold, read from its card (reader.json) without loading it."""
    info = json.loads((config.BUNDLED_READER_DIR / config.READER_INFO_FILE).read_text(encoding="utf-8"))
    return float(info["no_answer_threshold"])


# The margin is a difference of two probabilities, so thresholds outside [-1, 1] change nothing.
GRID = tuple(round(-1.0 + 0.1 * i, 1) for i in range(21))
CURVE_COLORS = ("blue", "orange", "green", "purple", "red", "teal")

Row = tuple[float | None, float, float, bool]  # threshold_sweep's row: margin, cand. EM, cand. F1, answerable


@dataclass(frozen=True)
class RunCurve:
    label: str
    run_dir: Path
    rows: tuple[Row, ...]
    sweep: ThresholdSweep
    used_threshold: float | None  # the threshold the run itself answered with (metrics.json)
    used_f1: float | None  # its F1 there, as metrics.json reports it


def sweep_rows(records: Sequence[dict[str, Any]]) -> tuple[Row, ...]:
    """The rows of `threshold_sweep`, as `qa.eval.metrics.threshold_figures` builds them."""
    return tuple(
        (r["margin"], r["candidate_exact_match"] or 0.0, r["candidate_f1"] or 0.0, r["has_answer"])
        for r in records
    )


def f1_at(rows: Sequence[Row], threshold: float) -> float:
    """F1 (percent) with the pipeline's rule: answered when -margin <= threshold, else null (which
    scores 1 on an unanswerable question and 0 on an answerable one).

    >>> f1_at([(0.5, 1.0, 1.0, True), (-0.2, 0.0, 0.0, False)], -0.15)
    100.0
    >>> f1_at([(0.5, 1.0, 1.0, True), (-0.2, 0.0, 0.0, False)], 0.3)
    50.0
    """
    if not rows:
        raise ValueError("no questions to score")
    total = 0.0
    for margin, _em, cand_f1, has_answer in rows:
        if margin is not None and -margin <= threshold:
            total += cand_f1
        elif not has_answer:
            total += 1.0
    return 100.0 * total / len(rows)


def best_span(rows: Sequence[Row], sweep: ThresholdSweep) -> tuple[float, float]:
    """The thresholds [low, high) that make the same decisions as the sweep's best-F1 point: a small
    set's best is a plateau, and where on it one lands is chance."""
    flips = sorted({-m for m, *_ in rows if m is not None})
    best = sweep.best_f1.threshold
    low = max((v for v in flips if v <= best), default=float("-inf"))
    high = min((v for v in flips if v > best), default=float("inf"))
    return low, high


def load_run(spec: str) -> RunCurve:
    """A RUN_DIR[=LABEL] argument: the run's predictions, its sweep and the threshold it used."""
    folder, _, label = spec.partition("=")
    run_dir = Path(folder)
    predictions = run_dir / "predictions.jsonl"
    if not predictions.is_file():
        raise SystemExit(f"{spec}: no predictions.jsonl in {run_dir}")
    with predictions.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    if not records:
        raise SystemExit(f"{spec}: {predictions} holds no predictions")
    rows = sweep_rows(records)
    used_threshold = used_f1 = None
    metrics_file = run_dir / "metrics.json"
    if metrics_file.is_file():
        metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
        used_threshold = metrics.get("no_answer_threshold", {}).get("used")
        used_f1 = metrics.get("f1")
    return RunCurve(label or run_dir.name, run_dir, rows, threshold_sweep(rows), used_threshold, used_f1)


def check_against_metrics(run: RunCurve) -> None:
    """Rescoring the run at its own threshold must give its reported F1, or the rows are misread."""
    if run.used_threshold is None or run.used_f1 is None:
        return
    rescored = f1_at(run.rows, run.used_threshold)
    if abs(rescored - run.used_f1) > 0.01:
        raise SystemExit(
            f"{run.label}: F1 {rescored:.2f} at the run's threshold {run.used_threshold} "
            f"but its metrics.json says {run.used_f1}"
        )


def curve_points(rows: Sequence[Row], x_range: tuple[float, float]) -> list[tuple[float, float]]:
    """(threshold, F1) at each flip value inside x_range, plus both ends, for a step chart."""
    lo, hi = x_range
    flips = sorted({-m for m, *_ in rows if m is not None and lo < -m < hi})
    return [(x, f1_at(rows, x)) for x in (lo, *flips, hi)]


def chart(runs: Sequence[RunCurve], shipped: float) -> str:
    x_range = (-1.0, 1.0)
    colors = [COLORS[CURVE_COLORS[i % len(CURVE_COLORS)]] for i in range(len(runs))]
    series = [
        (f"{run.label} ({len(run.rows)})", color, curve_points(run.rows, x_range))
        for run, color in zip(runs, colors)
    ]
    vlines = [(shipped, f"shipped {shipped:+.3f}", COLORS["grey"])] + [
        (run.sweep.best_f1.threshold, f"best {run.label} {run.sweep.best_f1.threshold:+.3f}", color)
        for run, color in zip(runs, colors)
    ]
    return line_chart(
        "F1 against the no-answer threshold, bundled reader",
        series,
        "threshold (null when no-answer score − span score > threshold)",
        "F1",
        x_range,
        (0.0, 100.0),
        vlines=vlines,
        step=True,
    )


def _fmt_span(low: float, high: float) -> str:
    return f"[{low:+.3f}, {high:+.3f})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR[=LABEL]", help="qa eval --out folders")
    parser.add_argument(
        "--threshold",
        type=float,
        help="the threshold to compare with (default: the bundled reader's shipped one, from reader.json)",
    )
    parser.add_argument("--svg", type=Path, help="write the curves here as a standalone SVG")
    parser.add_argument(
        "--transfer",
        action="append",
        default=[],
        metavar="FROM:TO",
        help="score set TO at the threshold best on set FROM (labels); repeatable",
    )
    args = parser.parse_args(argv)

    runs = [load_run(spec) for spec in args.runs]
    by_label = {run.label: run for run in runs}
    if len(by_label) != len(runs):
        raise SystemExit(f"two runs share a label: {[run.label for run in runs]}")
    for run in runs:
        check_against_metrics(run)

    shipped = shipped_threshold() if args.threshold is None else args.threshold
    summary = []
    for run in runs:
        best = run.sweep.best_f1
        at_shipped = f1_at(run.rows, shipped)
        summary.append(
            (
                run.label,
                len(run.rows),
                sum(1 for *_, has in run.rows if not has),
                round(at_shipped, 2),
                f"{best.threshold:+.3f}",
                _fmt_span(*best_span(run.rows, run.sweep)),
                round(best.f1, 2),
                f"{best.f1 - at_shipped:+.2f}",
            )
        )
    print(
        table(
            ("set", "n", "unanswerable", f"F1 at {shipped:+.4f}", "best", "best span", "best F1", "gain"),
            summary,
        )
    )
    print()
    grid_rows = [(f"{t:+.1f}", *(round(f1_at(run.rows, t), 1) for run in runs)) for t in GRID]
    print(table(("threshold", *(run.label for run in runs)), grid_rows))

    transfers = []
    for spec in args.transfer:
        source, _, target = spec.partition(":")
        if source not in by_label or target not in by_label:
            raise SystemExit(f"--transfer {spec}: labels are {sorted(by_label)}")
        threshold = by_label[source].sweep.best_f1.threshold
        target_rows = by_label[target].rows
        transfers.append(
            (
                source,
                target,
                f"{threshold:+.3f}",
                round(f1_at(target_rows, threshold), 2),
                round(f1_at(target_rows, shipped), 2),
                round(by_label[target].sweep.best_f1.f1, 2),
            )
        )
    if transfers:
        print()
        print(
            table(
                ("tuned on", "applied to", "threshold", "F1 there", f"F1 at {shipped:+.4f}", "its own best"),
                transfers,
            )
        )

    if args.svg:
        args.svg.parent.mkdir(parents=True, exist_ok=True)
        args.svg.write_text(standalone(chart(runs, shipped)) + "\n", encoding="utf-8")
        print(f"\nwrote {args.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
