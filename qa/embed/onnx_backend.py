"""The same sentence-transformers model run by ONNX Runtime (float32 or int8 weights): about 2x torch
on CPU, and no torch import at query time (bench/embed.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa import config
from qa.embed.models import EmbedderError, manifest_name, resolve_model_location


def _local_model_dir(model: str, location: str) -> Path:
    """A folder holding the model's files; hub models come from (or into) the Hugging Face cache."""
    if Path(location).is_dir():
        return Path(location)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(location))
    except Exception as error:  # noqa: BLE001 - offline, unknown id, ...: one message for all
        raise EmbedderError(
            f"Could not find the embedding model {model!r} locally or on the hub: {error}. "
            "Pass a local sentence-transformers folder with --embedder DIR."
        ) from error


def _layout(folder: Path) -> dict[str, Any]:
    """What the ONNX path needs from a sentence-transformers folder: pooling, length, tokenizer.

    Only the common layout is supported (Transformer at the root, then Pooling, then optionally
    Normalize); anything else is refused with the way out rather than embedded wrongly.
    """
    way_out = "use --embed-backend torch for this model"
    modules_file = folder / "modules.json"
    modules = json.loads(modules_file.read_text(encoding="utf-8")) if modules_file.is_file() else []
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if (
        kinds[:2] != ["Transformer", "Pooling"]
        or any(k != "Normalize" for k in kinds[2:])
        or modules[0].get("path", "")
    ):
        raise EmbedderError(
            f"{folder}: modules {kinds} are not Transformer + Pooling (+ Normalize); {way_out}"
        )
    pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    modes = [m for m in ("cls_token", "mean_tokens", "max_tokens") if pooling.get(f"pooling_mode_{m}")]
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v and k[13:] not in modes]
    if len(modes) != 1 or others:
        raise EmbedderError(f"{folder}: pooling {pooling} is not one of cls, mean or max; {way_out}")
    st_config_file = folder / "sentence_bert_config.json"
    st_config = json.loads(st_config_file.read_text(encoding="utf-8")) if st_config_file.is_file() else {}
    if not (folder / "tokenizer.json").is_file():
        raise EmbedderError(f"{folder} has no tokenizer.json (a fast tokenizer); {way_out}")
    return {
        "pooling": modes[0],
        "max_seq_length": int(st_config.get("max_seq_length") or 512),
        "dimension": int(pooling["word_embedding_dimension"]),
    }


class OnnxEmbedder:
    """The same sentence-transformers model run by ONNX Runtime, optionally with int8 weights.

    Texts are tokenized once, sorted by length and read in small batches (about
    ``config.EMBED_TOKEN_BUDGET`` tokens in float32, one text in int8): little or no padding, and
    work that stays in cache.
    Needs only onnxruntime and tokenizers once exported (no torch import at query time).

    >>> embedder = OnnxEmbedder(quantize=True)  # doctest: +SKIP
    >>> embedder.encode(["Who opened the tram line?"]).shape  # doctest: +SKIP
    (1, 384)
    """

    def __init__(
        self,
        model: str = config.DEFAULT_EMBEDDER,
        *,
        quantize: bool = True,
        token_budget: int = config.EMBED_TOKEN_BUDGET,
        threads: int | None = None,
    ):
        if token_budget < 1:
            raise ValueError(f"token_budget must be at least 1, got {token_budget}")
        from tokenizers import Tokenizer

        from qa import onnx_export

        self.name = manifest_name(model)
        self.backend = "onnx-int8" if quantize else "onnx"
        # int8 quantises activations with one scale per batch, so a text's vector would depend on
        # the texts beside it (cosine ~0.99 between two batchings): int8 reads one text at a time,
        # which measured as fast as batches of 256 tokens, and keeps incremental builds equal to
        # full ones and a query's vector equal to the same text's at index time.
        self.token_budget = 1 if quantize else token_budget
        folder = _local_model_dir(model, resolve_model_location(model))
        layout = _layout(folder)
        self.pooling = layout["pooling"]
        self.dimension = layout["dimension"]
        # Texts are spread over one single-threaded run per core (measured 2.5x plain
        # sentence-transformers against 2.2x for one run on two threads: runs of one text are too
        # small to split well). `threads` set: one run at a time on that many threads.
        self.workers = max(1, os.cpu_count() or 1) if threads is None else 1
        from concurrent.futures import ThreadPoolExecutor

        # Its threads start on first use; shared by concurrent encode calls.
        self._pool = (
            ThreadPoolExecutor(self.workers, thread_name_prefix="qa-embed") if self.workers > 1 else None
        )
        try:
            path = onnx_export.export(folder, "feature", quantize=quantize)
            self.session = onnx_export.session(path, threads=1 if threads is None else threads)
        except onnx_export.ExportError as error:
            raise EmbedderError(f"{model!r}: {error} (--embed-backend torch)") from error
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(layout["max_seq_length"])
        padding = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8")).get("padding") or {}
        # Padding is masked out, but RoBERTa-style models also derive positions from the pad id.
        candidates = [
            self.tokenizer.token_to_id(t) for t in (padding.get("pad_token"), "[PAD]", "<pad>") if t
        ]
        known = [i for i in candidates if i is not None]
        self.pad_id = int(known[0]) if known else int(padding.get("pad_id", 0))

    def _batches(self, lengths: np.ndarray) -> list[np.ndarray]:
        order = np.argsort(-lengths, kind="stable")
        batches, start = [], 0
        while start < len(order):
            size = max(1, self.token_budget // max(1, int(lengths[order[start]])))
            batches.append(order[start : start + size])
            start += size
        return batches

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if len(texts) == 0:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.array([len(e.ids) for e in encodings])

        def run(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            width = int(lengths[rows].max())
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, row in enumerate(rows):
                ids[r, : lengths[row]] = encodings[row].ids
                mask[r, : lengths[row]] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {n: feeds[n] for n in self.input_names})[0]
            return rows, _pool(hidden, mask, self.pooling)

        batches = self._batches(lengths)
        if self._pool is not None and len(batches) > 1:
            results = self._pool.map(run, batches)  # ONNX Runtime releases the GIL while it runs
        else:
            results = map(run, batches)
        for rows, pooled in results:
            out[rows] = pooled
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    if mode == "cls_token":
        return hidden[:, 0]
    weights = mask[:, :, None].astype(hidden.dtype)
    if mode == "max_tokens":
        return np.where(weights > 0, hidden, -np.inf).max(axis=1)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
