"""Distillation: a teacher's start/end distributions for every training window, cached, and the loss.

`qa train-reader --teacher DIR` trains the student on the gold spans and on what a larger reader
(the teacher) makes of the same window, as in the standard distillation of extractive QA (Hinton et
al. 2015; DistilBERT's SQuAD recipe): the student's start and end distributions at temperature T are
pulled towards the teacher's by KL divergence, scaled by T^2 so that its gradients keep their size
whatever T is, and mixed with the usual cross-entropy on the gold span:

    loss = (1 - w) * (CE(start) + CE(end)) / 2  +  w * T^2 * (KL(p_start || q_start) + KL(p_end || q_end)) / 2

p is the teacher's softmax at temperature T, q the student's; w is `--distill-weight`. The no-answer
distribution comes with it: position 0 ([CLS] / <s>) holds the teacher's "no answer here" mass in
both distributions, exactly where the gold labels of an unanswerable window point.

The teacher and the student tokenise differently (MPNet against BERT WordPiece: "Kolkata" may be one
token for one and "kol ##kata" for the other), so the teacher reads the text of the student's window
(the question and the characters of context the window covers) and its distributions are carried
over by characters: a teacher token's start probability lands on the character it starts at, its
end probability on its last character, and each student token gets the mass of the characters it
covers. A start stays a start (the student token where the teacher's span begins) and an end an
end, and the mass is conserved; mass on a character no student token covers (a character the
student's tokenizer drops) is left out and the rest renormalised. The teacher's softmax runs over
[CLS] and the context tokens only, the positions a span or "no answer" can take.

The teacher is run once per window: its distributions, already in the student's token positions,
are stored in the run folder as float16 .npy shards (`teacher/<key>/shard-NNNNN.npy`, 4,096 windows
each, one row for start and one for end, laid out like `features.npz`'s tokens), keyed by a hash of
the windows, the teacher's files and T. A shard is written whole or not at all, so a caching pass
that is stopped continues where it stopped; a resumed run finds every shard and reads them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.training.features import TrainFeatures, Window

logger = logging.getLogger(__name__)

SHARD_WINDOWS = 4096
TEACHER_BATCH = 32
TEACHER_MAX_SEQ_LEN = 512  # MPNet's and BERT's position limit; a student window fits with room
_FORMAT = 1


@dataclass(frozen=True)
class TeacherTargets:
    """The teacher's distributions cached for a run's windows, and what this pass computed."""

    path: Path  # the cache folder
    windows: int  # windows in the run
    computed: int  # windows the teacher read in this pass (0: all were cached)

    def load(self) -> np.ndarray:
        """float16 (2, total tokens): start and end mass per token, laid out like TrainFeatures.tokens."""
        shards = sorted(self.path.glob("shard-*.npy"))
        return np.concatenate([np.load(s) for s in shards], axis=1)


def map_to_student(
    null: float,
    probs: np.ndarray,
    teacher_spans: np.ndarray,
    student_spans: np.ndarray,
    student_positions: np.ndarray,
    length: int,
    *,
    end: bool,
) -> np.ndarray:
    """A teacher distribution over its context tokens -> one over the student window's positions.

    `null` is the teacher's no-answer mass; `probs[i]` the mass of teacher context token i, whose
    characters are `teacher_spans[i]` = (first, past-the-last); `student_spans[j]` are the
    characters of the student's context token at position `student_positions[j]` of a window of
    `length` tokens (both in the same text). A start lands on the student token holding the teacher
    token's first character, an end on the one holding its last. Returns `length` masses summing to
    1, position 0 the no-answer mass.
    """
    out = np.zeros(length, dtype=np.float64)
    out[0] = null
    if len(probs) and len(student_spans):
        chars = teacher_spans[:, 1] - 1 if end else teacher_spans[:, 0]
        j = np.searchsorted(student_spans[:, 0], chars, side="right") - 1
        inside = (j >= 0) & (chars < student_spans[np.maximum(j, 0), 1])
        np.add.at(out, student_positions[j[inside]], probs[inside])
    total = out.sum()
    return out / total if total > 0 else out


def teacher_softmax(logits: np.ndarray, allowed: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of `logits / temperature` over the `allowed` positions (0 elsewhere)."""
    z = np.where(allowed, logits.astype(np.float64) / temperature, -np.inf)
    z = np.exp(z - z.max())
    return z / z.sum()


def windows_key(features: TrainFeatures, teacher: str, temperature: float) -> str:
    """The cache's name: the run's windows (tokens and layout), the teacher's files, T."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps({"format": _FORMAT, "t": float(temperature), "max": TEACHER_MAX_SEQ_LEN}).encode()
    )
    digest.update(np.ascontiguousarray(features.offsets).tobytes())
    digest.update(np.ascontiguousarray(features.tokens).tobytes())
    digest.update(teacher_fingerprint(teacher).encode())
    return digest.hexdigest()[:16]


def teacher_fingerprint(teacher: str) -> str:
    """A hash of a teacher folder's config and weights (the name itself for a hub id)."""
    folder = Path(teacher)
    if not folder.is_dir():
        return teacher
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.name == "config.json" or path.suffix in (".safetensors", ".bin"):
            digest.update(path.name.encode())
            with open(path, "rb") as f:
                for block in iter(lambda f=f: f.read(1 << 22), b""):
                    digest.update(block)
    return digest.hexdigest()


def cache_teacher(
    features: TrainFeatures,
    windows: Callable[[], Iterable[Window]],
    teacher: str,
    cache_root: Path,
    *,
    temperature: float,
    device: Any = None,
    dtype: Any = None,
    stop_after: int | None = None,
) -> TeacherTargets:
    """Run the teacher over every window of `features` not cached yet; returns the cache.

    `windows()` gives the run's windows again, in order (features.windows of its examples); each
    is checked against `features` so a cache is never built from other text. `stop_after` shards
    computed, the pass stops as if killed (what a test needs; the next pass continues).
    """
    if temperature <= 0:
        raise ValueError(f"the distillation temperature must be above 0, got {temperature}")
    n = len(features)
    key = windows_key(features, teacher, temperature)
    folder = cache_root / key
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"teacher": teacher, "temperature": temperature, "windows": n, "shard_windows": SHARD_WINDOWS}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    shards = -(-n // SHARD_WINDOWS)
    missing = [s for s in range(shards) if not _shard_path(folder, s).exists()]
    if not missing:
        return TeacherTargets(folder, n, 0)
    logger.info(
        "teacher %s: %d of %d shards of windows to read (cached in %s)", teacher, len(missing), shards, folder
    )
    model, tokenizer = _load_teacher(teacher, device)
    todo = set(missing)
    computed = 0
    done_now = 0
    pending: list[Window] = []
    for i, window in enumerate(windows()):
        if i >= n:
            raise ValueError(f"more training windows than the run's {n}: not the run's examples")
        shard = i // SHARD_WINDOWS
        if shard not in todo:
            continue
        a, b = features.offsets[i], features.offsets[i + 1]
        if not np.array_equal(np.asarray(window.input_ids), features.tokens[a:b]):
            raise ValueError(
                f"window {i} does not match the run's features.npz: made from other examples or tokenizer"
            )
        pending.append(window)
        if i == min(n, (shard + 1) * SHARD_WINDOWS) - 1:
            rows = _read(model, tokenizer, pending, temperature, device, dtype)
            _write_shard(folder, shard, rows)
            computed += len(pending)
            pending = []
            done_now += 1
            logger.info("teacher: shard %d of %d cached", shard + 1, shards)
            if stop_after is not None and done_now >= stop_after:
                return TeacherTargets(folder, n, computed)
    if pending or any(not _shard_path(folder, s).exists() for s in range(shards)):
        raise ValueError(f"the training windows ran out before window {n}: not the run's examples")
    return TeacherTargets(folder, n, computed)


def _shard_path(folder: Path, shard: int) -> Path:
    return folder / f"shard-{shard:05d}.npy"


def _write_shard(folder: Path, shard: int, rows: list[np.ndarray]) -> None:
    """One shard, written whole then renamed: a kill leaves it absent, never half-written."""
    data = np.concatenate(rows, axis=1).astype(np.float16)
    tmp = folder / f"shard-{shard:05d}.tmp.npy"
    np.save(tmp, data)
    tmp.replace(_shard_path(folder, shard))


def _load_teacher(teacher: str, device: Any) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(teacher)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"the teacher {teacher} needs a fast tokenizer (offset mappings)")
    model = AutoModelForQuestionAnswering.from_pretrained(teacher, dtype=torch.float32)
    model.to(device if device is not None else "cpu").eval()
    return model, tokenizer


def _read(
    model: Any, tokenizer: Any, windows: Sequence[Window], temperature: float, device: Any, dtype: Any
) -> list[np.ndarray]:
    """The teacher's (2, window length) start and end masses of each window, in student positions."""
    import torch

    rows: list[np.ndarray] = []
    names = set(getattr(tokenizer, "model_input_names", ("input_ids", "attention_mask")))
    device = device if device is not None else torch.device("cpu")
    for a in range(0, len(windows), TEACHER_BATCH):
        part = windows[a : a + TEACHER_BATCH]
        enc, starts_at = teacher_encoding(tokenizer, part)
        inputs = {k: torch.from_numpy(np.asarray(v)).to(device) for k, v in enc.items() if k in names}
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            out = model(**inputs)
        starts = out.start_logits.float().cpu().numpy()
        ends = out.end_logits.float().cpu().numpy()
        for r, window in enumerate(part):
            rows.append(
                window_targets(
                    window,
                    starts_at[r],
                    enc["offset_mapping"][r],
                    enc.sequence_ids(r),
                    starts[r],
                    ends[r],
                    temperature,
                )
            )
    return rows


def teacher_encoding(tokenizer: Any, windows: Sequence[Window]) -> tuple[Any, list[int]]:
    """The teacher tokenizer's padded batch of the windows' texts, and where each text starts in its context.

    The teacher reads the question and the characters of context the student's window covers.
    """
    spans = [_context_chars(w) for w in windows]
    enc = tokenizer(
        [w.example.question for w in windows],
        [w.example.context[c0:c1] for w, (c0, c1) in zip(windows, spans)],
        truncation="only_second",
        max_length=min(TEACHER_MAX_SEQ_LEN, tokenizer.model_max_length),
        padding=True,
        return_offsets_mapping=True,
        return_tensors="np",
    )
    return enc, [c0 for c0, _ in spans]


def window_targets(
    window: Window,
    starts_at: int,
    teacher_offsets: np.ndarray,
    teacher_sequence_ids: Sequence[int | None],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    temperature: float,
) -> np.ndarray:
    """(2, window length): one window's teacher start and end logits as masses on the student's tokens.

    `teacher_offsets` are relative to the window's text, which starts at character `starts_at` of
    the example's context.
    """
    seq = np.array([s if s is not None else -1 for s in teacher_sequence_ids])
    allowed = seq == 1
    allowed[0] = True  # <s> / [CLS]: no answer
    context = np.flatnonzero(seq == 1)
    teacher_spans = np.asarray(teacher_offsets)[context].astype(np.int64) + starts_at
    student_pos = np.array([j for j, s in enumerate(window.sequence_ids) if s == 1], dtype=np.int64)
    student_spans = np.asarray(window.offsets, dtype=np.int64).reshape(-1, 2)[student_pos]
    row = np.zeros((2, len(window.input_ids)), dtype=np.float64)
    for k, logits in enumerate((start_logits, end_logits)):
        p = teacher_softmax(logits, allowed, temperature)
        row[k] = map_to_student(
            p[0], p[context], teacher_spans, student_spans, student_pos, len(window.input_ids), end=k == 1
        )
    return row


def _context_chars(window: Window) -> tuple[int, int]:
    """The characters of the example's context that the window's context tokens cover."""
    spans = [o for o, s in zip(window.offsets, window.sequence_ids) if s == 1]
    if not spans:
        return 0, 0
    return int(spans[0][0]), int(spans[-1][1])


def teacher_batch(
    targets: np.ndarray, features: TrainFeatures, indices: Sequence[int], width: int
) -> np.ndarray:
    """float32 (2, len(indices), width): the cached masses of a batch, padded like TrainFeatures.batch."""
    out = np.zeros((2, len(indices), width), dtype=np.float32)
    for row, i in enumerate(indices):
        a, b = features.offsets[i], features.offsets[i + 1]
        out[:, row, : b - a] = targets[:, a:b]
    # float16 storage rounds: each distribution sums to 1 again.
    out /= np.maximum(out.sum(axis=2, keepdims=True), 1e-12)
    return out


def distillation_loss(
    start_logits: Any,
    end_logits: Any,
    gold_loss: Any,
    teacher_start: Any,
    teacher_end: Any,
    attention_mask: Any,
    *,
    weight: float,
    temperature: float,
) -> tuple[Any, Any]:
    """(loss, the KL part): (1 - w) * gold + w * T^2 * (KL(start) + KL(end)) / 2, KL averaged over the batch.

    The student's softmax runs over the window's real tokens (padding left out), as the gold
    cross-entropy's does; positions the teacher gives nothing (the question) only normalise it.
    """
    kl = (
        _kl(teacher_start, start_logits, attention_mask, temperature)
        + _kl(teacher_end, end_logits, attention_mask, temperature)
    ) / 2
    kd = kl * temperature**2
    return (1 - weight) * gold_loss + weight * kd, kd


def _kl(target: Any, logits: Any, attention_mask: Any, temperature: float) -> Any:
    import torch

    # A large finite negative, not -inf: a padded position's gradient stays 0, never NaN.
    z = (logits.float() / temperature).masked_fill(attention_mask == 0, -1e4)
    log_q = torch.log_softmax(z, dim=-1)
    return (torch.xlogy(target, target) - target * log_q).sum(dim=-1).mean()
