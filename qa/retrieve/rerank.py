"""Optional second-stage ranking: a cross-encoder rescoring the retriever's distinct candidates."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qa import config

logger = logging.getLogger(__name__)

_OFF = frozenset({"", "none", "off"})
_ADVICE = (
    "Reranking is optional and off by default; to use it, pass a local folder holding a "
    "sentence-transformers CrossEncoder (or a transformers sequence-classification model with one "
    "label), or a hub id already in the Hugging Face cache (e.g. cross-encoder/ms-marco-MiniLM-L6-v2)."
)


class Reranker(Protocol):
    name: str

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One relevance score per text, higher is better; float array of len(texts)."""
        ...


class RerankerError(RuntimeError):
    """A reranker that cannot be loaded; the message says what to do."""


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder (hub id or local folder) scoring (question, passage) pairs.

    Example:
        >>> reranker = CrossEncoderReranker("cross-encoder/ms-marco-MiniLM-L6-v2")  # doctest: +SKIP
        >>> reranker.score("Who opened the tram line?", ["The mayor opened it.", "Rates rose."])  # doctest: +SKIP
        array([0.93, 0.01], dtype=float32)
    """

    def __init__(
        self,
        model: str,
        *,
        batch_size: int = config.RERANK_BATCH_SIZE,
        max_length: int = config.RERANK_MAX_LENGTH,
    ):
        self.name = model
        self.batch_size = batch_size
        path = Path(model).expanduser()
        # A hub id is "org/name"; anything else that is not a folder is a mistyped path: say so
        # before paying for the torch import.
        if not path.is_dir() and (model.startswith(("/", ".", "~")) or model.count("/") > 1 or "\\" in model):
            raise RerankerError(
                f"Could not load the cross-encoder {model!r}: there is no folder at {path}. {_ADVICE}"
            )
        location = str(path) if path.is_dir() else model
        from sentence_transformers import CrossEncoder

        try:
            self.model = CrossEncoder(location, device="cpu", max_length=max_length)
        except Exception as error:  # noqa: BLE001 - any load failure means the same to the user
            raise RerankerError(f"Could not load the cross-encoder {model!r}: {error}. {_ADVICE}") from error
        labels = int(getattr(self.model.config, "num_labels", 1))
        if labels != 1:
            raise RerankerError(
                f"The model {model!r} has {labels} output labels; a reranker needs a model with one "
                "relevance score per (question, passage) pair."
            )

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float32)
        scores = self.model.predict(
            [(query, text) for text in texts],
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(scores, dtype=np.float32).reshape(len(texts))


_RERANKER_CACHE: dict[str, Reranker] = {}


def load_reranker(model: str | None) -> Reranker | None:
    """The cross-encoder named `model`, loaded once per process; None (no reranking) for None, "" or "none".

    Example:
        >>> load_reranker(None) is None
        True
    """
    if model is None or model.strip().lower() in _OFF:
        return None
    model = model.strip()
    if model not in _RERANKER_CACHE:
        _RERANKER_CACHE[model] = CrossEncoderReranker(model)
    return _RERANKER_CACHE[model]
