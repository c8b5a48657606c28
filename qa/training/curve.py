"""The training curve: reader-alone F1 and EM on the measuring sample at each checkpoint, as an SVG.

python -m qa.training.curve RUN_DIR OUT.svg [--then RUN_DIR2] [--baseline "heuristic reader=44.8"]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.eval.svg import COLORS, line_chart, standalone


def read_log(run_dir: Path) -> list[dict[str, Any]]:
    """The checkpoints of a run that were measured, in step order."""
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    return sorted((r for r in records if "eval" in r), key=lambda r: r["step"])


def curve_svg(records: Sequence[dict[str, Any]], baselines: Sequence[tuple[str, float]] = ()) -> str:
    """F1 and EM against training steps; each baseline a flat line across the same steps."""
    if not records:
        raise ValueError("no measured checkpoint in the log")
    steps = [r["step"] for r in records]
    total = max(records[-1].get("total_steps", steps[-1]), steps[-1])
    series = [
        ("F1", COLORS["blue"], [(r["step"], r["eval"]["f1"]) for r in records]),
        ("EM", COLORS["green"], [(r["step"], r["eval"]["em"]) for r in records]),
    ]
    series += [(name, COLORS["grey"], [(0, value), (total, value)]) for name, value in baselines]
    questions = records[-1]["eval"].get("questions", "")
    return standalone(
        line_chart(
            f"Reader alone, {questions} questions of the measuring set",
            series,
            "training step",
            "percent",
            (0, total),
            (0, 100),
            markers=True,
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.training.curve", description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the training run folder (qa train-reader --out)")
    parser.add_argument("out", type=Path, help="the SVG file to write")
    parser.add_argument(
        "--then", type=Path, help="a run that continued from RUN's last checkpoint (its steps follow on)"
    )
    parser.add_argument(
        "--baseline", action="append", default=[], metavar="NAME=F1", help="a flat reference line"
    )
    args = parser.parse_args(argv)
    baselines = [(name, float(value)) for name, value in (b.rsplit("=", 1) for b in args.baseline)]
    records = read_log(args.run)
    if args.then is not None:
        # The second phase's steps count on from where the first stopped; its own schedule's
        # total is not the x range, so every record carries the combined last step instead.
        offset = records[-1]["step"] if records else 0
        records += [{**r, "step": r["step"] + offset} for r in read_log(args.then)]
        records = [{**r, "total_steps": records[-1]["step"]} for r in records]
    args.out.write_text(curve_svg(records, baselines), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
