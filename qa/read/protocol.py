"""What every reader is: the Reader protocol and the helpers readers share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from qa.types import Passage, Query, ReaderResult


@runtime_checkable
class Reader(Protocol):
    """Reads passages and proposes answer spans with character offsets into them."""

    name: str
    # The no-answer threshold tuned for this reader where it ships with one (None: not tuned).
    no_answer_threshold: float | None

    def read(self, query: Query, passages: Sequence[Passage]) -> ReaderResult: ...


def empty_result(reader: str) -> ReaderResult:
    return ReaderResult(reader=reader, candidates=(), no_answer_score=1.0)


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Move start/end inwards past surrounding whitespace (offsets change, the text never does)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
