"""JSONL archives -> one record per line, read as a stream, with the field names real exports use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

# The first key present wins. News exports name the same things differently (Reuters-21578's JSONL:
# title, date, dateline, text; others: headline, body, content, published, url).
BODY_KEYS = ("text", "body", "content", "article", "story")
TITLE_KEYS = ("title", "headline")
DATE_KEYS = ("date", "published", "published_at", "publish_date", "pubDate", "datetime")
URL_KEYS = ("url", "link", "source")


class BadRecord(ValueError):
    """A line that is not an article record; the message says why."""


def records(handle: BinaryIO, max_line_bytes: int) -> Iterator[tuple[int, bytes, dict[str, Any] | BadRecord]]:
    """(line number, raw line, record or why it is not one) for each non-blank line, one at a time:
    an archive of any size is read in constant memory."""
    for number, raw in enumerate(_lines(handle, max_line_bytes), start=1):
        if raw is None:
            yield number, b"", BadRecord(f"line is over the {max_line_bytes}-byte limit")
            continue
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            yield number, raw, BadRecord("not UTF-8 text")
            continue
        except json.JSONDecodeError as error:
            yield number, raw, BadRecord(f"invalid JSON ({error.msg}, column {error.colno})")
            continue
        except RecursionError:  # "[[[[..." thousands deep: the decoder recurses per level
            yield number, raw, BadRecord("invalid JSON (nested too deeply)")
            continue
        if not isinstance(record, dict):
            yield number, raw, BadRecord(f"expected a JSON object, got {type(record).__name__}")
            continue
        yield number, raw, record


def article_fields(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(body text, metadata with the keys front matter uses: title, date, url, dateline).

    A record with a title and no body (a wire brief) is its title.
    """
    body = _first(record, BODY_KEYS)
    title = _first(record, TITLE_KEYS)
    if body is None and title is None:
        raise BadRecord(f"no text: expected one of {', '.join(BODY_KEYS)}")
    meta = {
        "title": title,
        "date": _first(record, DATE_KEYS),
        "url": _first(record, URL_KEYS),
        "dateline": _first(record, ("dateline",)),
    }
    return (body if body and body.strip() else title or ""), {k: v for k, v in meta.items() if v is not None}


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str):
            return value
    return None


def _lines(handle: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """Lines without their newline; None for a line over `limit` bytes (skipped, not held)."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # the rest of the long line, in pieces
                line = handle.readline(limit + 1)
            yield None
            continue
        yield line.rstrip(b"\r\n")
