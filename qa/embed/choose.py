"""Choosing an embedder: the backend a name means, and one loaded model per (model, backend) per process."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from qa import config
from qa.embed.distill import distill_static_model
from qa.embed.models import manifest_name
from qa.embed.onnx_backend import OnnxEmbedder
from qa.embed.static import StaticEmbedder, is_static_model
from qa.embed.torch_backend import SentenceTransformerEmbedder
from qa.types import Embedder

logger = logging.getLogger(__name__)


def _static_embedder(model: str) -> StaticEmbedder | None:
    """The static embedder `model` names ("static", its manifest name, or a folder of one), else None."""
    if model in (config.STATIC_EMBEDDER, config.STATIC_EMBEDDER_NAME):
        return StaticEmbedder(distill_static_model(), name=config.STATIC_EMBEDDER_NAME)
    folder = Path(model).expanduser()
    if folder.is_dir() and is_static_model(folder):
        return StaticEmbedder(folder, name=manifest_name(model))
    return None


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
