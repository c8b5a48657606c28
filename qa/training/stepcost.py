"""What a training step costs each base here: `python -m qa.training.stepcost --base minilm --base mpnet`.

A run is planned from this (docs/reader.md, "Teacher and distillation"): seconds per optimiser step
as `qa train-reader` takes it (same model class, no attention dropout, AdamW, autocast where the
hardware has bf16, gradient clipping) on random token ids of one fixed shape, so that bases compare
like with like, and seconds per forward pass without gradients (what caching a teacher costs).
With `--train`, the mean padded width of real batches of those files is printed too, for each
base's own tokenizer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np


def step_seconds(base: str, *, batch_size: int, width: int, steps: int, device: Any) -> dict[str, Any]:
    """Median seconds of a training step and of a forward pass, after one untimed warm-up each."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa.training.bases import resolve_base
    from qa.training.loop import _autocast_dtype

    folder = resolve_base(base)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForQuestionAnswering.from_pretrained(
        folder, attention_probs_dropout_prob=0.0, dtype=torch.float32
    ).to(device)
    dtype = _autocast_dtype(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 20000, (batch_size, width), generator=generator).to(device)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if "token_type_ids" in tokenizer.model_input_names:
        inputs["token_type_ids"] = torch.zeros_like(ids)
    labels = torch.randint(0, width, (2, batch_size), generator=generator).to(device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    train_times: list[float] = []
    model.train()
    for i in range(steps + 1):
        sync()
        t = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss = model(**inputs, start_positions=labels[0], end_positions=labels[1]).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        if i:
            train_times.append(time.perf_counter() - t)
    forward_times: list[float] = []
    model.eval()
    for i in range(steps + 1):
        sync()
        t = time.perf_counter()
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            model(**inputs)
        sync()
        if i:
            forward_times.append(time.perf_counter() - t)
    return {
        "base": base,
        "model": type(model).__name__,
        "parameters_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
        "batch": [batch_size, width],
        "autocast": str(dtype),
        "train_step_s": round(statistics.median(train_times), 3),
        "train_steps_s": [round(t, 3) for t in train_times],
        "forward_s": round(statistics.median(forward_times), 3),
    }


def mean_padded_width(base: str, files: Sequence[str], examples: int, batch_size: int) -> float:
    """The mean width of an epoch's batches of the first `examples` questions, as the run pads them."""
    from transformers import AutoTokenizer

    from qa.training.bases import resolve_base
    from qa.training.features import epoch_batches, featurize
    from qa.training.squad import load_squad

    loaded = [e for f in files for e in load_squad(f)][:examples]
    features = featurize(
        loaded, AutoTokenizer.from_pretrained(resolve_base(base)), max_seq_len=384, doc_stride=128
    )
    batches = epoch_batches(features.lengths, batch_size=batch_size, seed=42, epoch=0)
    widths = [-(-int(features.lengths[b].max()) // 32) * 32 for b in batches]
    return round(float(np.mean(widths)), 1)


def main(argv: Sequence[str] | None = None) -> int:
    import torch

    p = argparse.ArgumentParser(prog="python -m qa.training.stepcost", description=__doc__.splitlines()[0])
    p.add_argument("--base", action="append", required=True, help="as qa train-reader --base-model; repeat")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--width", type=int, default=256, help="tokens per window (padded)")
    p.add_argument("--steps", type=int, default=3, help="timed steps, after one warm-up")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--train", nargs="*", default=[], help="SQuAD files: print real batches' mean width")
    p.add_argument("--examples", type=int, default=3000)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    for base in args.base:
        record = step_seconds(
            base, batch_size=args.batch_size, width=args.width, steps=args.steps, device=device
        )
        record["device"] = (
            torch.cuda.get_device_name() if device.type == "cuda" else f"cpu x{torch.get_num_threads()}"
        )
        if args.train:
            record["mean_padded_width"] = mean_padded_width(base, args.train, args.examples, args.batch_size)
        print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
