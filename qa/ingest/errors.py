"""What ingestion refuses: IngestError, a rejected file, and the warning that records a skipped one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from qa.printable import printable

# The loader's name, not this module's: users and tests filter the "Skipping ..." warnings on it.
logger = logging.getLogger("qa.ingest.articles")


class IngestError(ValueError):
    """A folder or file that cannot be ingested; the message names it and says why."""


class Rejected(IngestError):
    """One file (or JSONL line) that is skipped; `reason` is the message without the path."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str  # for a JSONL line: "line 3: invalid JSON ..."


def skip(path: Path | str, reason: str) -> SkippedFile:
    """Warn that `path` is skipped and say why; the SkippedFile that a report lists."""
    # File names and reasons quoting a file are printed and stored as printable text: a name with a
    # byte that is not UTF-8 cannot be written to the index's listing, one with U+202E prints reversed.
    path, reason = printable(path), printable(reason)
    logger.warning("Skipping %s: %s", path, reason)
    return SkippedFile(path, reason)
