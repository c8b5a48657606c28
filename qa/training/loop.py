"""The training run: a seeded, checkpointed, resumable fine-tune of an encoder for extractive QA.

A run lives in one folder (`--out`): `config.json` (what was asked), `features.npz` (the tokenised
windows, made once), with `--teacher` the teacher's distributions per window (`teacher/`, made once:
qa/training/distill.py), `checkpoint/` (weights, optimiser, scheduler and RNG state, the step), and
`log.jsonl` (loss and the measuring-set figures at every checkpoint). Stop it at any moment; the same
command with `--resume` continues from the last checkpoint with the same batches it would have seen.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.training import distill, measure
from qa.training.bases import NAMES, resolve_base
from qa.training.features import TrainFeatures, epoch_batches, featurize, windows
from qa.training.squad import SquadExample, load_squad, other_paragraph_negatives
from qa.training.unanswerable import entity_swap_negatives, question_edit_negatives

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a run learns; a resumed run must ask for the same."""

    train_files: tuple[str, ...]
    eval_file: str | None
    base_model: str
    max_seq_len: int = 384
    doc_stride: int = 128
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    epochs: float = 2.0
    negative_ratio: float = 0.2
    # Share of answerable questions also asked with one name or number swapped, as unanswerable.
    swap_ratio: float = 0.0
    # Share of answerable questions also asked with an antonym or a negation, as unanswerable.
    edit_ratio: float = 0.0
    # Read each paragraph with its article's title in front (qa/read/headline.py).
    headline: bool = False
    # Distillation (qa/training/distill.py): a reader folder whose start/end distributions the
    # student learns too, the weight of that loss against the gold spans', and the temperature.
    teacher: str | None = None
    distill_weight: float = 0.5
    distill_temperature: float = 2.0
    seed: int = 42
    limit_examples: int = 0  # 0: all; a small number for a smoke run
    # Not part of what is learnt: may differ on resume.
    checkpoint_minutes: float = field(default=10.0, compare=False)
    eval_questions: int = field(default=1000, compare=False)
    max_steps: int = field(
        default=0, compare=False
    )  # stop after this many steps in total (0: run to the end)

    def learning_fields(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("checkpoint_minutes", "eval_questions", "max_steps"):
            data.pop(name)
        return data


def _default_learning_fields() -> dict[str, Any]:
    defaults = TrainConfig(train_files=(), eval_file=None, base_model="").learning_fields()
    return {
        name: value
        for name, value in defaults.items()
        if name not in ("train_files", "eval_file", "base_model")
    }


class TrainingError(ValueError):
    """A run that cannot start as asked (bad files, a resume that does not match)."""


def training_examples(config: TrainConfig) -> list[SquadExample]:
    examples: list[SquadExample] = []
    for path in config.train_files:
        examples.extend(load_squad(path))
    if config.limit_examples:
        examples = examples[: config.limit_examples]
    negatives = other_paragraph_negatives(examples, ratio=config.negative_ratio, seed=config.seed)
    if config.swap_ratio:
        negatives += entity_swap_negatives(examples, ratio=config.swap_ratio, seed=config.seed)
    if config.edit_ratio:
        negatives += question_edit_negatives(examples, ratio=config.edit_ratio, seed=config.seed)
    return examples + negatives


def _device() -> Any:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _autocast_dtype(device: Any) -> Any:
    """bf16 where the hardware does it natively (AMX/AVX-512 BF16 CPUs, recent GPUs), else fp32."""
    import torch

    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if torch.ops.mkldnn._is_mkldnn_bf16_supported() else None


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def train(config: TrainConfig, out_dir: Path, *, resume: bool) -> dict[str, Any]:
    """Train (or continue training) into `out_dir`; returns the last logged record."""
    import torch
    from safetensors.torch import load_file, save_file
    from tqdm.auto import tqdm
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    for path in (*config.train_files, *([config.eval_file] if config.eval_file else [])):
        if not Path(path).is_file():
            raise TrainingError(f"training file not found: {path}")
    if not 0.0 <= config.distill_weight <= 1.0:
        raise TrainingError(f"--distill-weight must be between 0 and 1, got {config.distill_weight}")
    if config.teacher is not None and config.distill_temperature <= 0:
        raise TrainingError(f"--distill-temperature must be above 0, got {config.distill_temperature}")
    teacher = _teacher_folder(config.teacher) if config.teacher else None
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = out_dir / "config.json"
    if config_path.exists():
        # A setting added after a run began is read as its default (what the run did).
        previous = {**_default_learning_fields(), **json.loads(config_path.read_text())}
        if not resume:
            raise TrainingError(
                f"{out_dir} already holds a run: pass --resume to continue it, or choose another --out"
            )
        asked = json.loads(json.dumps(config.learning_fields()))  # tuples read back as lists
        if previous != asked:
            changed = sorted(k for k in set(previous) | set(asked) if previous.get(k) != asked.get(k))
            raise TrainingError(
                f"--resume with different settings than the run in {out_dir}: {', '.join(changed)}"
            )
    else:
        config_path.write_text(json.dumps(config.learning_fields(), indent=2))

    torch.manual_seed(config.seed)
    device = _device()
    dtype = _autocast_dtype(device)
    base = resolve_base(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    features_path = out_dir / "features.npz"
    if features_path.exists():
        features = TrainFeatures.load(features_path)
    else:
        logger.info("tokenising the training files (once per run)")
        features = featurize(
            training_examples(config),
            tokenizer,
            max_seq_len=config.max_seq_len,
            doc_stride=config.doc_stride,
            headline=config.headline,
        )
        features.save(features_path)
    targets = (
        _teacher_targets(teacher, config, features, tokenizer, out_dir, device, dtype)
        if teacher is not None
        else None
    )
    eval_examples = (
        measure.sample(load_squad(config.eval_file), config.eval_questions, config.seed)
        if config.eval_file
        else []
    )

    # No dropout on attention probabilities: with it, PyTorch's attention leaves its fused kernel
    # for the plain one, 4x slower per step on a CPU; hidden-state dropout still regularises.
    # fp32 master weights whatever the base holds: the bundled reader (fp16) can be a base too.
    model = AutoModelForQuestionAnswering.from_pretrained(
        base, attention_probs_dropout_prob=0.0, dtype=torch.float32
    ).to(device)
    # MPNet takes no token types: give the model what its tokenizer makes, and the labels.
    wanted = {*getattr(tokenizer, "model_input_names", ()), "start_positions", "end_positions"}
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )
    steps_per_epoch = -(-len(features) // config.batch_size)
    total_steps = int(round(config.epochs * steps_per_epoch))
    warmup = max(1, int(config.warmup_fraction * total_steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, total_steps, warmup))

    step = 0
    checkpoint = latest_checkpoint(out_dir)
    if resume and checkpoint is not None:
        model.load_state_dict(load_file(checkpoint / "model.safetensors", device=str(device)))
        state = torch.load(checkpoint / "trainer.pt", map_location=device, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        step = int(state["step"])
        logger.info("resumed at step %d of %d", step, total_steps)
    stop_at = min(total_steps, config.max_steps) if config.max_steps else total_steps

    pad_id = tokenizer.pad_token_id
    log_path = out_dir / "log.jsonl"
    last_save = time.monotonic()
    losses: list[float] = []
    bar = tqdm(total=total_steps, initial=step, desc="training", unit="step", dynamic_ncols=True)
    record: dict[str, Any] = {}
    epoch_cache: tuple[int, list[np.ndarray]] | None = None
    model.train()
    while step < stop_at:
        epoch, within = divmod(step, steps_per_epoch)
        if epoch_cache is None or epoch_cache[0] != epoch:
            epoch_cache = (
                epoch,
                epoch_batches(features.lengths, batch_size=config.batch_size, seed=config.seed, epoch=epoch),
            )
        indices = epoch_cache[1][within]
        batch = features.batch(indices, pad_id)
        inputs = {k: torch.from_numpy(v).to(device) for k, v in batch.items() if k in wanted}
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            out = model(**inputs)
        loss = out.loss
        if targets is not None:
            taught = torch.from_numpy(
                distill.teacher_batch(targets, features, indices, batch["input_ids"].shape[1])
            ).to(device)
            loss, _ = distill.distillation_loss(
                out.start_logits,
                out.end_logits,
                out.loss,
                taught[0],
                taught[1],
                inputs["attention_mask"],
                weight=config.distill_weight,
                temperature=config.distill_temperature,
            )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append(float(loss.detach()))
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", epoch=f"{step / steps_per_epoch:.2f}")
        if step == stop_at or time.monotonic() - last_save >= 60 * config.checkpoint_minutes:
            _save_checkpoint(out_dir, model, optimizer, scheduler, step, save_file)
            record = {
                "step": step,
                "total_steps": total_steps,
                "epoch": round(step / steps_per_epoch, 3),
                "loss": round(float(np.mean(losses)), 4) if losses else None,
                "lr": scheduler.get_last_lr()[0],
                "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            if eval_examples:
                record["eval"] = _measure(model, tokenizer, eval_examples, config)
                model.train()
            with log_path.open("a") as log:
                log.write(json.dumps(record) + "\n")
            bar.write(json.dumps(record))
            losses = []
            last_save = time.monotonic()
    bar.close()
    return record


def _teacher_folder(name: str) -> str:
    """The teacher's folder (a reader exported by `python -m qa.training.export`); never the hub."""
    if name in NAMES:  # a base's QA head is untrained: nothing to learn from
        raise TrainingError(f"--teacher must be a trained reader folder, not the base {name!r}")
    try:
        folder = resolve_base(name, allow_hub=False)
    except FileNotFoundError as error:
        raise TrainingError(str(error)) from error
    if not (Path(folder) / "config.json").is_file():
        raise TrainingError(f"--teacher must be a reader folder with a config.json, got {name}")
    return folder


def _teacher_targets(
    teacher: str,
    config: TrainConfig,
    features: TrainFeatures,
    tokenizer: Any,
    out_dir: Path,
    device: Any,
    dtype: Any,
) -> np.ndarray:
    """The teacher's distributions for every window: read from the run's cache, computing what is missing."""
    import torch

    def run_windows() -> Any:  # the run's windows again, in the order features.npz holds them
        return windows(
            training_examples(config),
            tokenizer,
            max_seq_len=config.max_seq_len,
            doc_stride=config.doc_stride,
            headline=config.headline,
        )

    cached = distill.cache_teacher(
        features,
        run_windows,
        teacher,
        out_dir / "teacher",
        temperature=config.distill_temperature,
        device=device,
        dtype=dtype,
    )
    logger.info("teacher: %d of %d windows read now, the rest cached", cached.computed, cached.windows)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return cached.load()


def _measure(
    model: Any, tokenizer: Any, examples: list[SquadExample], config: TrainConfig
) -> dict[str, float]:
    from qa.read.transformers_reader import TransformersReader

    model.eval()
    reader = TransformersReader.from_model(
        model,
        tokenizer,
        name="training",
        max_seq_len=config.max_seq_len,
        doc_stride=config.doc_stride,
        device=str(next(model.parameters()).device),
        reads_headline=config.headline,
    )
    return measure.reader_alone(reader, examples)


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The last complete checkpoint: `checkpoint/`, or `checkpoint.old/` if a save was cut short."""
    for name in ("checkpoint", "checkpoint.old"):
        folder = out_dir / name
        if (folder / "complete").exists():
            return folder
    return None


def _save_checkpoint(
    out_dir: Path, model: Any, optimizer: Any, scheduler: Any, step: int, save_file: Any
) -> None:
    """Write a new checkpoint beside the old one, then swap: a kill at any point leaves one whole."""
    import torch

    tmp, current, old = out_dir / "checkpoint.tmp", out_dir / "checkpoint", out_dir / "checkpoint.old"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp / "model.safetensors"))
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "step": step,
        },
        tmp / "trainer.pt",
    )
    (tmp / "complete").write_text(str(step))
    for f in tmp.iterdir():
        with open(f, "rb") as handle:
            os.fsync(handle.fileno())
    shutil.rmtree(old, ignore_errors=True)
    if current.exists():
        current.rename(old)
    tmp.rename(current)
    shutil.rmtree(old, ignore_errors=True)
