"""The no-answer threshold tuned on the user's own questions, kept beside the index it was tuned on.

`qa eval QUESTIONS --index DIR --save-threshold` writes the threshold with the best F1 to
DIR/no_answer_threshold.json; `qa ask`, the chat and `QAPipeline.load` use it whenever they read
that index with the same reader, k and retrieval mode and no threshold is given. A threshold means
nothing across readers (their scores differ), and moves with what the reader is given (five
passages or twenty, hybrid or dense), so it is stored per reader, k and mode.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from qa import config

logger = logging.getLogger(__name__)

THRESHOLD_FILE = "no_answer_threshold.json"


@dataclass(frozen=True)
class SavedThreshold:
    """One reader's tuned threshold at one k and retrieval mode, and the evaluation it came from."""

    reader: str
    k: int
    mode: str
    threshold: float
    f1: float  # F1 of the evaluated questions at this threshold
    f1_before: float  # ... at the threshold the run used
    answered: int  # questions given an answer at this threshold
    questions: int
    run: str  # the `qa eval --out` folder
    saved: str  # ISO timestamp


def _key(reader: str, k: int, mode: str) -> str:
    return f"{reader} k={k} {mode}"


def save_threshold(index_dir: Path | str, saved: SavedThreshold) -> Path:
    """Write (or replace) the threshold of `saved`'s reader, k and mode; other entries stay."""
    path = Path(index_dir) / THRESHOLD_FILE
    entries = _read_entries(path)
    entries[_key(saved.reader, saved.k, saved.mode)] = asdict(saved)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # a reader of the file sees the old or the new version, never half
    return path


def load_threshold(index_dir: Path | str, reader: str, k: int, mode: str) -> SavedThreshold | None:
    """The threshold saved for this index, reader, k and mode, or None (none, or a damaged file: warned)."""
    entry = _read_entries(Path(index_dir) / THRESHOLD_FILE).get(_key(reader, k, mode))
    if entry is None:
        return None
    try:
        saved = SavedThreshold(**entry)
        float(saved.threshold)
    except (TypeError, ValueError):
        logger.warning(
            "Ignoring the saved no-answer threshold for %s in %s: not a valid entry", reader, index_dir
        )
        return None
    return saved


def resolve_threshold(
    index_dir: Path | str | None,
    reader: str,
    given: float | None,
    reader_default: float | None = None,
    *,
    k: int = config.DEFAULT_TOP_K,
    mode: str = config.DEFAULT_RETRIEVAL_MODE,
) -> tuple[float, str]:
    """The threshold to use and where it comes from: given, saved by `qa eval` for this index, reader,
    k and mode (index None: none), the one the reader ships with (the bundled reader's), or the default."""
    if given is not None:
        return float(given), "given"
    saved = load_threshold(index_dir, reader, k, mode) if index_dir is not None else None
    if saved is not None:
        return float(
            saved.threshold
        ), f"tuned by qa eval ({saved.run}, F1 {saved.f1_before:.1f} -> {saved.f1:.1f})"
    if reader_default is not None:
        return float(reader_default), "shipped with the reader"
    return config.NO_ANSWER_THRESHOLD, "default"


def _read_entries(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.warning("Ignoring %s: %s", path, error)
        return {}
    return data if isinstance(data, dict) else {}
