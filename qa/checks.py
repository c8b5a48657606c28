"""What a user typed, checked once for every door (`qa`, the chat, its API, `qa eval`, `qa.ask`).

Each check returns the clean value or raises UserError with one wording, whichever door the value
came through; only the label of the field differs (`--from` on the command line, "Date from" in
the chat), so a message names what the user actually typed into.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from qa import config
from qa.dates import check_bounds
from qa.types import SearchFilter

_SURROGATE = re.compile(r"[\ud800-\udfff]")


class UserError(ValueError):
    """Anything the user can fix: one line for the user, exit status 2 on the command line."""


class QuestionError(UserError):
    """A question the pipeline cannot take; the message is meant for the user."""


@dataclass(frozen=True)
class FieldLabels:
    """How a door names its fields in messages."""

    k: str = "k"
    mode: str = "mode"
    date_from: str = "date_from"
    date_to: str = "date_to"
    source: str = "source"
    threshold: str = "threshold"


PYTHON_LABELS = FieldLabels()
CLI_LABELS = FieldLabels("--k", "--mode", "--from", "--to", "--source", "--threshold")
CHAT_LABELS = FieldLabels("k (passages to read)", "Retrieval", "Date from", "Date to", "Source contains")


def clean_question(question: Any) -> str:
    """Control characters out, whitespace collapsed; empty or huge questions refused clearly."""
    if not isinstance(question, str):
        raise QuestionError(f"A question must be text, got {type(question).__name__}")
    if len(question) > config.MAX_QUESTION_CHARS * 4:
        raise QuestionError(
            f"The question is {len(question):,} characters long; "
            f"ask in at most {config.MAX_QUESTION_CHARS:,}."
        )
    if _SURROGATE.search(question):
        # Bytes that were not UTF-8 on a command line arrive as lone surrogates ("caf\udce9"), and
        # the tokenizers refuse any surrogate with a TypeError. Pairs are one character: join them.
        try:
            question = question.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise QuestionError(
                "The question holds bytes that are not valid text (not UTF-8?); type it again as plain text."
            ) from None
    printable = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in question
    )
    cleaned = " ".join(printable.split())
    if not cleaned:
        raise QuestionError("The question is empty: type a question about the articles.")
    if len(cleaned) > config.MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(cleaned):,} characters long; ask in at most {config.MAX_QUESTION_CHARS:,}."
        )
    return cleaned


def check_k(k: Any, labels: FieldLabels = PYTHON_LABELS) -> int:
    """Passages to read: a whole number from 1 to config.MAX_TOP_K ("5" and 5.0 are 5).

    The cap keeps one question from reading an archive (k=100000 took minutes on 1,500 passages).
    """
    value = None
    if isinstance(k, int) and not isinstance(k, bool):
        value = k
    elif isinstance(k, float) and k.is_integer():
        value = int(k)
    elif isinstance(k, str) and k.strip().isdigit():
        value = int(k.strip())
    if value is None or not 1 <= value <= config.MAX_TOP_K:
        raise UserError(f"{labels.k} must be a whole number from 1 to {config.MAX_TOP_K}, got {k!r}")
    return value


def check_mode(mode: Any, labels: FieldLabels = PYTHON_LABELS) -> str:
    if mode not in config.RETRIEVAL_MODES:
        raise UserError(f"{labels.mode} must be one of {', '.join(config.RETRIEVAL_MODES)}, got {mode!r}")
    return mode


def check_threshold(threshold: Any, labels: FieldLabels = PYTHON_LABELS) -> float | None:
    """A no-answer threshold: None (the tuned or shipped one) or a finite number.

    NaN compares false with everything, so it would switch "no answer" off without a word.
    """
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise UserError(f"{labels.threshold} must be a finite number, got {threshold!r}")
    return float(threshold)


def check_filter(
    date_from: Any, date_to: Any, source: Any, labels: FieldLabels = PYTHON_LABELS
) -> SearchFilter:
    """The date and source filters as a SearchFilter; '' and None mean no filter."""
    try:
        start, end = check_bounds(date_from or None, date_to or None, labels.date_from, labels.date_to)
    except ValueError as error:
        raise UserError(str(error)) from None
    if source is not None and not isinstance(source, str):
        raise UserError(f"{labels.source} must be text (part of a URL or a folder), got {source!r}")
    source = " ".join((source or "").split())
    if len(source) > config.MAX_SOURCE_FILTER_CHARS:
        raise UserError(
            f"{labels.source} is {len(source):,} characters; use at most {config.MAX_SOURCE_FILTER_CHARS}"
        )
    return SearchFilter(start, end, source or None)
