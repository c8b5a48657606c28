"""WARC files (web crawls, Common Crawl's news crawl) -> their HTML responses, one record at a time.

warcio reads the records; this module streams them (a file of many GB is never held), keeps the
responses that are web pages, and steps over a broken record to the next one it can find.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

_HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_DATE_FIELD = "X-Feed-Published"  # a WARC extension field: the item's date in the feed that listed it
_SCAN_CHUNK = 1 << 20
# Where a record can begin: a gzip member (one per record in a .warc.gz, as crawlers write them),
# or a "WARC/1.x" version line in an uncompressed file.
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")


@dataclass(frozen=True)
class Response:
    """One HTTP response holding a web page."""

    offset: int  # where the record starts in the file: a stable id, as in a CDX index
    uri: str  # WARC-Target-URI
    date: str | None  # ISO "YYYY-MM-DD" of WARC-Date: when it was crawled
    payload: bytes  # the HTTP body, transfer and content encodings undone
    # The date the feed that listed the page gave it (FEED_DATE_FIELD, written by qa/ingest/web.py):
    # a better fallback than the crawl date for a page without a date of its own.
    published: str | None = None
    charset: str | None = None  # as the response's Content-Type declared it


@dataclass(frozen=True)
class BrokenRecord:
    offset: int
    reason: str


def html_responses(handle: BinaryIO, max_payload_bytes: int) -> Iterator[Response | BrokenRecord]:
    """The HTML responses in a WARC file opened for binary reading (it must be seekable), in order.

    A record that cannot be read is reported once, as a BrokenRecord, and reading goes on from the
    next record start found after it; other record types and non-HTML responses are passed over.
    """
    from warcio.archiveiterator import ArchiveIterator

    start = 0
    head = handle.read(4096)
    compressed = head.startswith(_GZIP_MAGIC[:2])
    if not _starts_like_warc(head, compressed):
        # warcio reads almost anything as records of some kind (and prints warnings as it goes)
        yield BrokenRecord(0, "not a WARC file (it does not start with a WARC/1.x record)")
        return
    resyncing = False  # reading again after a break: a failure before any record is the same break
    while True:
        handle.seek(start)
        records = ArchiveIterator(handle)
        offset = start  # where the next record begins, as far as is known
        try:
            for record in records:
                item = None
                if record.rec_type == "response" and _is_html(record):
                    payload = record.content_stream().read(max_payload_bytes + 1)
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    date = _iso_day(record.rec_headers.get_header("WARC-Date"))
                    published = _iso_day(record.rec_headers.get_header(FEED_DATE_FIELD))
                    item = (payload, uri, date, published, _charset(record))
                # Asked only now: warcio reads the record to its end to know its offset and length.
                offset = records.get_record_offset()  # from the handle: absolute after a seek
                following = offset + records.get_record_length()
                resyncing = False
                if item is not None:
                    payload, uri, date, published, charset = item
                    if len(payload) > max_payload_bytes:
                        yield BrokenRecord(offset, f"page is over the {max_payload_bytes}-byte limit")
                    else:
                        yield Response(offset, uri, date, payload, published, charset)
                offset = following
            return
        except Exception as error:  # warcio raises many kinds on damaged input (zlib.error among them)
            if not resyncing:
                yield BrokenRecord(offset, f"broken record ({type(error).__name__}: {_short(error)})")
            resyncing = True
        following = _next_record_start(handle, offset + 1, compressed)
        if following is None:
            return
        start = following


def _starts_like_warc(head: bytes, compressed: bool) -> bool:
    if compressed:
        try:  # the first bytes of the first member are enough
            head = zlib.decompressobj(wbits=31).decompress(head, 16)
        except zlib.error:
            return False
    return head.startswith((b"WARC/1.0", b"WARC/1.1"))


def _is_html(record) -> bool:
    headers = record.http_headers
    content_type = headers.get_header("Content-Type", "") if headers is not None else ""
    return not content_type or content_type.split(";")[0].strip().lower() in _HTML_TYPES


def _charset(record) -> str | None:
    headers = record.http_headers
    match = re.search(
        r"charset\s*=\s*[\"']?([\w.:-]+)", headers.get_header("Content-Type", "") if headers else ""
    )
    return match[1] if match else None


def _next_record_start(handle: BinaryIO, position: int, compressed: bool) -> int | None:
    """The first offset at or after `position` where a record could begin; None at the end of the file."""
    handle.seek(position)
    carry = b""
    base = position
    while chunk := handle.read(_SCAN_CHUNK):
        data = carry + chunk
        if compressed:
            found = data.find(_GZIP_MAGIC)
            if found >= 0:
                return base + found
        elif match := _WARC_LINE.search(data):
            return base + match.start() + (1 if data[match.start() : match.start() + 1] == b"\n" else 0)
        carry = data[-16:]
        base += len(data) - len(carry)
    return None


def _iso_day(value: str | None) -> str | None:
    match = re.match(r"(\d{4}-\d{2}-\d{2})", value or "")
    return match[1] if match else None


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:120] + "…" if len(text) > 120 else text
