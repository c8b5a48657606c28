"""A static embedding model (model2vec's layout): a vector per word piece, averaged; numpy only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa import config
from qa.embed.models import EmbedderError


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
    """Whether a folder holds a static model: model2vec's config, or sentence-transformers'
    StaticEmbedding."""
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
