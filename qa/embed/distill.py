"""`--embedder static`: the static model distilled once from the default MiniLM (model2vec), kept in
the user's data folder."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from qa import config
from qa.embed.models import EmbedderError, resolve_model_location

logger = logging.getLogger(__name__)


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
