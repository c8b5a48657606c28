"""Ingestion: article files (markdown, dateline text, JSONL, web pages, WARC) -> cleaned Articles."""

from __future__ import annotations

import codecs
import logging
import os
import re
import stat
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from qa.ingest import jsonl, warc
from qa.ingest.build import TITLE_MAX_CHARS, build_article, page_article
from qa.ingest.errors import IngestError, Rejected, SkippedFile, skip
from qa.ingest.front_matter import FrontMatterError, split_front_matter
from qa.ingest.listing import FileStamp, FolderListing
from qa.ingest.walk import (
    HTML_SUFFIXES,
    MAX_FOLDER_DEPTH,
    SUFFIXES,
    WARC_SUFFIXES,
    article_files,
    suffix,
)
from qa.types import Article

# Names the rest of the package, the benches and the tests import from here, wherever they are defined.
__all__ = [
    "HTML_SUFFIXES",
    "MAX_FILE_BYTES",
    "MAX_FOLDER_DEPTH",
    "SUFFIXES",
    "TITLE_MAX_CHARS",
    "WARC_SUFFIXES",
    "FolderScan",
    "IngestError",
    "IngestReport",
    "SkippedFile",
    "load_article_file",
    "load_articles",
    "read_page",
    "scan_folder",
    "suffix",
]

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024  # far above any article; keeps a stray dump out of memory
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # only a JSON escape can put one in a str


@dataclass(frozen=True)
class IngestReport:
    articles: tuple[Article, ...]
    skipped: tuple[SkippedFile, ...]
    # The files read, each stat'ed before it was read; None when one could not be stat'ed. Not part
    # of a report's equality: two reads of the same folder make the same report at different times.
    listing: FolderListing | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FolderScan:
    """What a folder holds by stat alone (`scan_folder`): no article file is opened."""

    root: Path  # what article ids and listing paths are relative to
    files: tuple[FileStamp, ...] | None  # None when a file could not be stat'ed
    skipped: tuple[SkippedFile, ...]  # entries the walk refused (broken or outside links, deep folders)


def load_articles(folder: Path | str) -> IngestReport:
    """Load every article under `folder` (or the one file it names); bad files are skipped, not fatal.

    Example:
        >>> from qa import config
        >>> report = load_articles(config.SAMPLE_ARTICLES_DIR)
        >>> len(report.articles), report.skipped
        (9, ())
    """
    listed_ns = time.time_ns()
    root, files, skipped = article_files(Path(folder))
    articles: list[Article] = []
    stamps: list[FileStamp] | None = []
    file_skips: list[tuple[str, str]] = []  # (path relative to root, reason): what a listing replays
    for found in files:
        try:  # before the read: a file written while it is read shows a new stamp next time
            if stamps is not None:
                stamps.append(found.stamp())
        except OSError:
            stamps = None  # vanished since the walk: _load_file says so below
        try:
            loaded, bad_lines = _load_file(found.path, root)
        except Rejected as rejected:
            skipped.append(skip(found.path, rejected.reason))
            file_skips.append((found.relative, rejected.reason))
            continue
        articles.extend(loaded)
        skipped.extend(bad_lines)
        file_skips.extend((found.relative, bad.reason) for bad in bad_lines)
    logger.info("Loaded %d articles from %s; skipped %d", len(articles), folder, len(skipped))
    listing = FolderListing(tuple(stamps), listed_ns, tuple(file_skips)) if stamps is not None else None
    return IngestReport(tuple(articles), tuple(skipped), listing)


def scan_folder(folder: Path | str) -> FolderScan:
    """The article files `load_articles` would read, stat'ed and not opened; the same IngestError
    when the folder itself cannot be read.

    Example:
        >>> from qa import config
        >>> [f.path for f in scan_folder(config.SAMPLE_ARTICLES_DIR).files][:2]
        ['central-bank-rate-september.md', 'central-bank-rate.md']
    """
    root, files, skipped = article_files(Path(folder))
    try:
        stamps = tuple(found.stamp() for found in files)
    except OSError:  # removed since the walk
        stamps = None
    return FolderScan(root, stamps, tuple(skipped))


def load_article_file(path: Path | str, root: Path | str | None = None) -> list[Article]:
    """The articles in one file (a JSONL file holds many); ids are paths relative to `root`.

    Raises IngestError when the whole file is unusable; bad JSONL lines are logged and left out.

    Example:
        >>> from qa import config
        >>> [a.title for a in load_article_file(config.SAMPLE_ARTICLES_DIR / "tram-line.md")]
        ['Valmora opens its Green Line tram after four years of works']
    """
    path = Path(path)
    return _load_file(path, Path(root) if root is not None else path.parent)[0]


def _load_file(path: Path, root: Path) -> tuple[list[Article], list[SkippedFile]]:
    article_id = Path(os.path.relpath(path, root)).as_posix()
    kind = suffix(path.name)
    if kind == ".jsonl":
        return _load_jsonl(path, article_id)
    if kind in HTML_SUFFIXES:
        return [_load_html(path, article_id)], []
    if kind in WARC_SUFFIXES:
        return _load_warc(path, article_id)
    data, text = _read(path)
    try:
        meta, body = split_front_matter(text)
    except FrontMatterError as error:
        raise Rejected(path, str(error)) from None
    return [build_article(path, article_id, body, meta, data, plain_text=path.suffix.lower() == ".txt")], []


def _open_regular(path: Path) -> BinaryIO:
    """The file open for reading, or Rejected when it is not a regular file.

    O_NONBLOCK and the fstat check on the open file: a FIFO or device put in place of a file after
    the folder was walked is refused instead of blocking the read forever.
    """
    try:
        handle = os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")
    except OSError as error:
        raise Rejected(path, f"cannot read ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise Rejected(path, "not a regular file")
    return handle


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, at most MAX_FILE_BYTES, or Rejected saying why they cannot be read."""
    try:
        with _open_regular(path) as handle:
            info = os.fstat(handle.fileno())
            if info.st_size > MAX_FILE_BYTES:
                raise Rejected(path, f"file is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
            data = handle.read(MAX_FILE_BYTES + 1)  # bounded even if the file grows meanwhile
    except OSError as error:
        raise Rejected(path, f"cannot read ({error.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise Rejected(path, f"file is over the {MAX_FILE_BYTES}-byte limit")
    return data


def _read(path: Path) -> tuple[bytes, str]:
    """The raw bytes and the decoded text, or Rejected saying why the file is not text we can use."""
    data = _read_bytes(path)
    encoding = "utf-8-sig"
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"  # checked first: the UTF-32 LE mark starts with the UTF-16 LE one
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # as Windows Notepad saves "Unicode" text; the mark says the byte order
    elif b"\0" in data:
        raise Rejected(path, "binary file (contains NUL bytes)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        label = (
            "UTF-8 text"
            if encoding == "utf-8-sig"
            else f"{encoding.upper()} text despite its byte order mark"
        )
        raise Rejected(path, f"not {label} (byte {data[error.start]:#04x} at offset {error.start})") from None
    if "\0" in text:
        raise Rejected(path, "binary file (contains NUL characters)")
    if not text.strip():
        raise Rejected(path, "empty file")
    return data, text.replace("\r\n", "\n").replace("\r", "\n")


def _load_html(path: Path, article_id: str) -> Article:
    """A saved web page (gzipped or not) -> its article, or Rejected saying why there is none."""
    raw, data = read_page(path)
    return page_article(path, article_id, data, raw)


def read_page(path: Path) -> tuple[bytes, bytes]:
    """(the file's bytes, the page's bytes: gunzipped for .gz), or IngestError saying why not."""
    raw = _read_bytes(path)
    data = _gunzip(path, raw) if suffix(path.name).endswith(".gz") else raw
    if not data.strip():
        raise Rejected(path, "empty file")
    return raw, data


def _gunzip(path: Path, data: bytes) -> bytes:
    """The decompressed bytes, bounded by MAX_FILE_BYTES however small the file (a gzip bomb)."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(wbits=31)  # gzip framing; a file may hold several members
        try:
            out += inflater.decompress(data, MAX_FILE_BYTES + 1 - len(out))
        except zlib.error as error:
            raise Rejected(path, f"not a readable gzip file ({error})") from None
        if len(out) > MAX_FILE_BYTES:
            raise Rejected(path, f"decompresses to over the {MAX_FILE_BYTES}-byte limit")
        if not inflater.eof:
            raise Rejected(path, f"truncated gzip file (ends after {len(out)} decompressed bytes)")
        data = inflater.unused_data
    return bytes(out)


def _load_warc(path: Path, relpath: str) -> tuple[list[Article], list[SkippedFile]]:
    """Each HTML response in a WARC file, streamed; a broken record or a page without an article is
    skipped and said, the rest are read. Ids are the record's byte offset ("crawl.warc.gz#1234")."""
    articles, skipped = [], []
    with _open_regular(path) as handle:
        for item in warc.html_responses(handle, MAX_FILE_BYTES):
            if isinstance(item, warc.BrokenRecord):
                skipped.append(skip(path, f"record at byte {item.offset}: {item.reason}"))
                continue
            what = f"record at byte {item.offset} ({item.uri})"
            try:
                articles.append(
                    page_article(
                        path,
                        f"{relpath}#{item.offset}",
                        item.payload,
                        item.uri.encode("utf-8", "replace") + b"\n" + item.payload,
                        url=item.uri or None,
                        fallback_date=item.published or item.date,
                        charset=item.charset,
                        what=what,
                    )
                )
            except Rejected as rejected:
                skipped.append(skip(path, rejected.reason))
    return articles, skipped


def _load_jsonl(path: Path, relpath: str) -> tuple[list[Article], list[SkippedFile]]:
    """One article per line, streamed: an archive of any size; each bad line is skipped and said."""
    articles, skipped = [], []
    with _open_regular(path) as handle:
        for number, raw, record in jsonl.records(handle, MAX_FILE_BYTES):
            try:
                if isinstance(record, jsonl.BadRecord):
                    raise record
                body, meta = jsonl.article_fields(record)
                for key, value in (("text", body), *meta.items()):
                    # JSON may escape half a surrogate pair ("\ud800"), which no UTF-8 file can
                    # hold: the index writer would fail on it long after ingestion.
                    if _LONE_SURROGATE.search(value):
                        raise jsonl.BadRecord(f"'{key}' holds an unpaired surrogate escape (invalid Unicode)")
                articles.append(build_article(path, f"{relpath}#{number}", body, meta, raw, plain_text=True))
            except (jsonl.BadRecord, Rejected) as error:
                reason = error.reason if isinstance(error, Rejected) else str(error)
                skipped.append(skip(path, f"line {number}: {reason}"))
    return articles, skipped
