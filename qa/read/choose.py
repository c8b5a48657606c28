"""Choosing a reader: a trained transformers model when one can be had, else the offline fallback."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from qa import config
from qa.read.fallback import FallbackReader
from qa.read.protocol import Embedder, Reader
from qa.read.transformers_reader import TransformersReader, decode_spans

__all__ = ["READERS", "Embedder", "FallbackReader", "Reader", "TransformersReader", "decode_spans", "load_reader"]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------
# Choosing a reader

READERS: dict[str, type] = {"transformers": TransformersReader, "fallback": FallbackReader}


def _hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the Hugging Face hub answers a TCP connect within ``timeout`` seconds.

    Offline, transformers retries for most of a minute before it gives up; this check (DNS
    included, hence the thread) keeps falling back to the offline reader under two seconds.
    """
    import socket

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme != "http" else 80)
    ok: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                ok.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(ok)


def _load_transformers(model: str, local_files_only: bool | None,
                       **kwargs: Any) -> TransformersReader:
    """Load ``model`` without hanging offline; raises OSError/ValueError with the reason."""
    if Path(model).expanduser().is_dir():
        return TransformersReader(str(Path(model).expanduser()), local_files_only=True, **kwargs)
    if local_files_only is False:
        return TransformersReader(model, local_files_only=False, **kwargs)
    from huggingface_hub import constants, try_to_load_from_cache

    cached = isinstance(try_to_load_from_cache(model, "config.json"), str)
    if cached:
        return TransformersReader(model, local_files_only=True, **kwargs)
    if local_files_only:
        raise OSError(f"it is not in the Hugging Face cache ({constants.HF_HUB_CACHE})")
    if constants.HF_HUB_OFFLINE:
        raise OSError(f"it is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) "
                      "and HF_HUB_OFFLINE is set")
    if not _hub_reachable():
        raise OSError(f"it is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) "
                      f"and {constants.ENDPOINT} cannot be reached")
    return TransformersReader(model, local_files_only=False, **kwargs)


def load_reader(spec: str = "auto", *, embedder: Embedder | None = None,
                local_files_only: bool | None = None, **kwargs: Any) -> Reader:
    """The reader named by ``spec``; the offline fallback reader when a model cannot be had.

    ``spec``: ``"auto"`` (``config.DEFAULT_READER_MODEL``), ``"fallback"``, a hub id or local
    directory of an extractive QA model, or ``"transformers:<hub id or dir>"``.
    ``local_files_only``: None (default) uses a cached or local model, and downloads only when
    HF_HUB_OFFLINE is unset and the hub answers within a second or two; True never downloads;
    False always asks the hub. ``kwargs`` go to :class:`TransformersReader`.

    >>> reader = load_reader("fallback")
    >>> reader.name
    'fallback'
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"reader spec must be a non-empty string, got {spec!r}; valid names: "
                         f"auto, {', '.join(READERS)}, or a model id/directory")
    spec = spec.strip()
    if spec == "fallback":
        return FallbackReader(embedder=embedder)
    model = config.DEFAULT_READER_MODEL if spec in ("auto", "transformers") else spec
    if model.startswith("transformers:"):
        model = model[len("transformers:"):]
    elif ":" in model and not Path(model).expanduser().exists() and "://" not in model:
        prefix = model.split(":", 1)[0]
        raise ValueError(f"unknown reader {prefix!r}; valid names: auto, "
                         f"{', '.join(READERS)}, or a model id/directory")
    try:
        return _load_transformers(model, local_files_only, **kwargs)
    except (OSError, ValueError, ImportError, RuntimeError) as exc:
        logger.warning(
            "reader model %r could not be loaded: %s. Using the offline fallback reader "
            "(sentence matching; much less accurate). To use the model, download it on a "
            "machine with internet with `hf download %s --local-dir DIR` (older huggingface_hub: "
            "`huggingface-cli download %s --local-dir DIR`) and pass `--reader DIR`, or set "
            "HF_HOME to a Hugging Face cache that has it.",
            model, str(exc).splitlines()[0] if str(exc) else type(exc).__name__, model, model,
        )
        return FallbackReader(embedder=embedder)
