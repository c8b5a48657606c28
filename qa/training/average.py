"""Average the weights of two training runs that share a starting point (a "model soup").

    python -m qa.training.average RUN_A RUN_B --weight-a 0.65 --out RUN_SOUP

Both runs fine-tune the same phase-1 weights, so their weights lie in one basin and a weighted mean
of them is a model too (Wortsman et al., 2022, "Model soups"). It lets one reader keep what each run
does best: here the shipped run's answers to news questions and the other run's SQuAD accuracy
(docs/reader.md). The result is written as a run folder with one complete checkpoint, so
`python -m qa.training.export --run RUN_SOUP` ships it like any other run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path


def average_runs(run_a: Path, run_b: Path, weight_a: float, out: Path) -> Path:
    """Write weight_a * A + (1 - weight_a) * B (fp32, each run's last checkpoint) as a run folder at `out`."""
    from safetensors.numpy import load_file, save_file

    from qa.training.loop import latest_checkpoint

    if not 0.0 < weight_a < 1.0:
        raise ValueError(f"--weight-a must be between 0 and 1, got {weight_a}")
    checkpoints = [latest_checkpoint(run) for run in (run_a, run_b)]
    for run, checkpoint in zip((run_a, run_b), checkpoints):
        if checkpoint is None:
            raise FileNotFoundError(f"no complete checkpoint in {run}")
    a, b = (load_file(checkpoint / "model.safetensors") for checkpoint in checkpoints)
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise ValueError(f"{run_a} and {run_b} hold different models; only runs of one architecture average")
    logs = [
        [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()][-1]
        for run in (run_a, run_b)
    ]
    steps = sum(log["step"] for log in logs)
    shutil.rmtree(out, ignore_errors=True)
    (out / "checkpoint").mkdir(parents=True)
    save_file(
        {k: (weight_a * a[k] + (1.0 - weight_a) * b[k]).astype(a[k].dtype) for k in a},
        str(out / "checkpoint" / "model.safetensors"),
        metadata={"format": "pt"},
    )
    config = json.loads((run_a / "config.json").read_text())
    config["train_files"] = sorted(
        {*config["train_files"], *json.loads((run_b / "config.json").read_text())["train_files"]}
    )
    config["averaged"] = {"runs": [str(run_a), str(run_b)], "weight_a": weight_a}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    record = {
        "step": steps,
        "total_steps": steps,
        "epoch": round(sum(log["epoch"] for log in logs), 3),
        "averaged": config["averaged"],
    }
    (out / "log.jsonl").write_text(json.dumps(record) + "\n")
    (out / "checkpoint" / "complete").write_text(str(steps))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.training.average", description=__doc__.splitlines()[0]
    )
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument(
        "--weight-a", type=float, required=True, help="the share of RUN_A's weights (B gets the rest)"
    )
    parser.add_argument("--out", type=Path, required=True, help="the averaged run folder (replaced)")
    args = parser.parse_args(argv)
    try:
        print(average_runs(args.run_a, args.run_b, args.weight_a, args.out))
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
