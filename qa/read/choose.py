"""Choosing a reader: the one asked for, or (for "auto") the best one this machine has without a download."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from qa import config
from qa.answer.decision import load_decision
from qa.read.protocol import Reader
from qa.read.transformers_reader import TransformersReader

logger = logging.getLogger(__name__)

# Names `--reader` takes besides a model id or folder.
READER_NAMES = ("auto", "bundled")
READER_HELP = (
    f"'auto' ({config.DEFAULT_READER_MODEL} when it is in the local Hugging Face cache, else the "
    "bundled reader), 'bundled', or an extractive QA model's hub id or folder "
    "(used, or an error: never swapped)"
)


class ReaderError(ValueError):
    """A reader that was asked for and cannot be loaded; the message says why and what to do."""


def bundled_reader_info(folder: Path = config.BUNDLED_READER_DIR) -> dict[str, Any]:
    """The bundled reader's card facts (qa/training/export.py writes them)."""
    path = folder / config.READER_INFO_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReaderError(
            f"the bundled reader is missing or damaged ({path}: {error}); reinstall the package"
        ) from error


def exported_settings(folder: Path) -> dict[str, Any]:
    """How a reader folder exported by `qa train-reader`'s export must be read (its reader.json):
    the no-answer threshold it was tuned with and whether it reads headlines; {} for any other
    model folder."""
    try:
        info = json.loads((folder / config.READER_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(info, dict):
        return {}
    return {**_settings(info), "no_answer_decision": load_decision(folder)}


def _settings(info: dict[str, Any]) -> dict[str, Any]:
    threshold = info.get("no_answer_threshold")
    usable = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
    return {
        "no_answer_threshold": float(threshold) if usable else None,
        "reads_headline": info.get("reads_headline") is True,
    }


def load_bundled_reader(**kwargs: Any) -> TransformersReader:
    """The reader trained for this project (qa train-reader), shipped inside the package."""
    info = bundled_reader_info()
    return TransformersReader(
        str(config.BUNDLED_READER_DIR),
        local_files_only=True,
        name=f"bundled:{info['name']}",
        **_settings(info),
        no_answer_decision=load_decision(config.BUNDLED_READER_DIR),
        **kwargs,
    )


def _in_hub_cache(model: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model, "config.json"), str)


def _hub_reachable(timeout: float = 1.5) -> bool:
    """Whether the Hugging Face hub answers a TCP connect within ``timeout`` seconds.

    Offline, transformers retries for most of a minute before it gives up; asked for a model it
    does not have, the user hears why within two seconds instead.
    """
    import socket
    import threading
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme != "http" else 80)
    ok: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                ok.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)  # DNS has no timeout of its own
    thread.start()
    thread.join(timeout)
    return bool(ok)


def _load_model(model: str, **kwargs: Any) -> TransformersReader:
    """An explicit model: a local folder, a hub id in the cache, or a hub id downloaded now."""
    from huggingface_hub import constants

    folder = Path(model).expanduser()
    if folder.is_dir():
        # A candidate reader exported from a training run answers with the threshold tuned for it,
        # as the bundled one does: measured with --reader FOLDER it must behave as it would ship.
        return TransformersReader(str(folder), local_files_only=True, **exported_settings(folder), **kwargs)
    if model.startswith(("/", ".", "~")) or folder.exists():
        raise ReaderError(f"reader folder {model!r} does not exist (or is not a folder)")
    if _in_hub_cache(model):
        return TransformersReader(model, local_files_only=True, **kwargs)
    where = f"no folder {model!r} here, and it is not in the Hugging Face cache ({constants.HF_HUB_CACHE})"
    if constants.HF_HUB_OFFLINE:
        raise ReaderError(f"{where} and HF_HUB_OFFLINE is set")
    if not _hub_reachable():
        raise ReaderError(
            f"{where} and {constants.ENDPOINT} cannot be reached; download it where there is "
            f"internet (`hf download {model} --local-dir DIR`) and pass --reader DIR"
        )
    return TransformersReader(model, local_files_only=False, **kwargs)


def load_reader(spec: str = "auto", **kwargs: Any) -> Reader:
    """The reader named by ``spec``; raises ReaderError when it cannot be had.

    ``spec``: ``"auto"`` — ``config.DEFAULT_READER_MODEL`` when it is in the local Hugging Face
    cache, else the bundled reader (never a download, never a wait on the network);
    ``"bundled"`` — the reader trained for this project and shipped in the package; anything
    else names an extractive QA model by hub id
    or folder (``"transformers:<id or folder>"`` also works), used or refused, never swapped.
    ``kwargs`` go to :class:`TransformersReader`.

    >>> load_reader("bundled").name
    'bundled:newsqa-minilm-l6-squad'
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ReaderError(
            f"reader must be a non-empty name, got {spec!r}; valid names: "
            f"{', '.join(READER_NAMES)}, or a model id/folder"
        )
    spec = spec.strip()
    if spec == "bundled":
        return load_bundled_reader(**kwargs)
    if spec == "auto":
        if _in_hub_cache(config.DEFAULT_READER_MODEL):
            try:
                return TransformersReader(config.DEFAULT_READER_MODEL, local_files_only=True, **kwargs)
            except (OSError, ValueError) as error:  # a damaged cache entry: say so, answer anyway
                logger.warning(
                    "cached %s could not be loaded (%s); using the bundled reader",
                    config.DEFAULT_READER_MODEL,
                    error,
                )
        return load_bundled_reader(**kwargs)
    model = spec[len("transformers:") :] if spec.startswith("transformers:") else spec
    if ":" in model and "://" not in model and not Path(model).expanduser().exists():
        raise ReaderError(
            f"unknown reader {model.split(':', 1)[0]!r}; valid names: "
            f"{', '.join(READER_NAMES)}, or a model id/folder"
        )
    try:
        return _load_model(model, **kwargs)
    except ReaderError:
        raise
    except (OSError, ValueError, ImportError, RuntimeError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ReaderError(f"reader {model!r} could not be loaded: {first_line}") from error
