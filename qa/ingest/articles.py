"""Ingestion: article files (markdown, dateline text, JSONL, web pages, WARC) -> cleaned Articles."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import logging
import os
import re
import stat
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from qa.ingest import jsonl, newswire, warc
from qa.ingest.front_matter import FrontMatterError, split_front_matter
from qa.ingest.listing import FileStamp, FolderListing
from qa.ingest.split import sentence_spans
from qa.printable import is_utf8, printable
from qa.types import Article

logger = logging.getLogger(__name__)

HTML_SUFFIXES = frozenset({".html", ".htm", ".html.gz", ".htm.gz"})
WARC_SUFFIXES = frozenset({".warc", ".warc.gz"})
SUFFIXES = frozenset({".md", ".markdown", ".txt", ".jsonl"}) | HTML_SUFFIXES | WARC_SUFFIXES
MAX_FILE_BYTES = 20 * 1024 * 1024  # far above any article; keeps a stray dump out of memory
MAX_FOLDER_DEPTH = 100  # sub-folders below the articles folder; real corpora use a few
TITLE_MAX_CHARS = 80  # a title derived from the first sentence is cut to this
_URL_KEYS = (
    "url",
    "source",
    "link",
)  # front matter keys that may carry the article's URL (JSONL: qa/ingest/jsonl.py)

_SOURCE_LINE = re.compile(r"^[ \t]*\\?\[Source link\\?\]\((\S+?)\)[ \t]*$", re.I | re.M)
_DATELINE = re.compile(r"date\s+(\d{4}-\d{2}-\d{2})\b\s*")
_PLACE = re.compile(r"([^\W\d_][\w.'’-]*(?:[ \t]+[\w.'’-]+){0,3})[ \t]*:\s+")  # "Kolkata: ", "New Delhi: "
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Control characters that are not whitespace (ESC, BEL, NUL from a JSON escape, C1 codes): never
# words, and printed by `qa ask` they would drive the user's terminal. Tab, newline and the
# characters str.split() treats as spaces stay, and are then collapsed with the other whitespace.
_CONTROL_CHARS = dict.fromkeys(
    [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F, *range(0x80, 0x85), *range(0x86, 0xA0)]
)
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # only a JSON escape can put one in a str

# Markdown and WordPress boilerplate, removed in this order by _clean. Emphasis runs before the
# escapes are undone so that "\_" and "\*" stay literal characters, never markers. No pattern may
# scan past the next bracket or marker: on a 20 MB file, a quadratic regex would never finish.
_IMAGE = re.compile(r"!\[[^\[\]\n]*\]\([^()\[\]\s]*\)")
_LINK = re.compile(r"(?<![\\!])\[([^\[\]\n]*)\]\([^()\[\]\s]*\)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.M)
# The emphasised text is bounded: an unbounded lazy repeat costs memory per character scanned
# (1.4 GB for "**a" before 10 MB of spaces); no real bold or italic run is this long.
_EMPHASIS_MAX_CHARS = 5000
_STRONG = re.compile(
    rf"(?<![\\*\w])(\*\*|__)(?=\S)((?:\\.|(?!\1)[^\n\\]){{1,{_EMPHASIS_MAX_CHARS}}}?)(?<=[^\s\\])\1(?![*\w])"
)
_EMPHASIS = re.compile(
    rf"(?<![\\*\w])([*_])(?=\S)((?:\\.|(?!\1)[^\n\\]){{1,{_EMPHASIS_MAX_CHARS}}}?)(?<=[^\s\\])\1(?![*\w])"
)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~\"'])")
_SHORTCODE = re.compile(
    r"\[/?(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|caption|embed|gallery|audio|video|playlist)(?:\s[^\[\]\n]*)?\]"
)
_TWEET_PIC = re.compile(r"(?:https?://)?pic\.twitter\.com/\w+")


class IngestError(ValueError):
    """A folder or file that cannot be ingested; the message names it and says why."""


class _Rejected(IngestError):
    """One file (or JSONL line) that is skipped; `reason` is the message without the path."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str  # for a JSONL line: "line 3: invalid JSON ..."


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
    root, files, skipped = _article_files(Path(folder))
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
        except _Rejected as rejected:
            skipped.append(_skip(found.path, rejected.reason))
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
    root, files, skipped = _article_files(Path(folder))
    try:
        stamps = tuple(found.stamp() for found in files)
    except OSError:  # removed since the walk
        stamps = None
    return FolderScan(root, stamps, tuple(skipped))


@dataclass(frozen=True)
class _Found:
    """An article file the walk found."""

    path: Path
    relative: str  # to the articles folder, POSIX separators
    entry: os.DirEntry | None = None  # its directory entry (None: the folder named a file)

    def stamp(self) -> FileStamp:
        """Size, mtime and mode now, following a symlink as reading does (one stat call); OSError if gone."""
        info = self.entry.stat() if self.entry is not None else os.stat(self.path)
        return FileStamp(self.relative, info.st_size, info.st_mtime_ns, info.st_mode)


def _article_files(folder: Path) -> tuple[Path, list[_Found], list[SkippedFile]]:
    """(the folder ids are relative to, the article files in walk order, entries the walk refused)."""
    skipped: list[SkippedFile] = []
    if folder.is_file():
        if suffix(folder.name) not in SUFFIXES:
            raise IngestError(f"cannot ingest {folder}: expected one of {', '.join(sorted(SUFFIXES))}")
        return folder.parent, [_Found(folder, folder.name)], skipped
    if folder.is_dir():
        try:
            return folder, list(_walk(folder, folder.resolve(), skipped)), skipped
        except PermissionError as error:
            raise IngestError(f"articles folder {folder} is not readable: {error.strerror}") from None
    if os.path.lexists(folder):  # a FIFO, a device, a dangling link: never opened
        raise IngestError(f"cannot ingest {folder}: not a folder or a regular file")
    raise IngestError(f"articles folder {folder} does not exist")


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


def _skip(path: Path | str, reason: str) -> SkippedFile:
    # File names and reasons quoting a file are printed and stored as printable text: a name with a
    # byte that is not UTF-8 cannot be written to the index's listing, one with U+202E prints reversed.
    path, reason = printable(path), printable(reason)
    logger.warning("Skipping %s: %s", path, reason)
    return SkippedFile(path, reason)


def _walk(
    folder: Path, root: Path, skipped: list[SkippedFile], depth: int = 0, prefix: str = ""
) -> Iterator[_Found]:
    """Article files under `folder`, in sorted order; hidden entries and other suffixes are ignored.

    os.scandir, not Path.iterdir: its entries know their type without a stat (a status check of an
    unchanged folder is little more than this walk), and sorting names is cheaper than sorting Paths.
    """
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        if not is_utf8(name):
            skipped.append(_skip(folder / name, "the name is not valid UTF-8: rename it to index it"))
            continue
        is_dir = _is(entry.is_dir)
        if not is_dir and suffix(name) not in SUFFIXES:
            continue
        path = folder / name
        if entry.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # a dangling link, or a loop (RuntimeError before Python 3.13)
                skipped.append(_skip(path, "broken symlink (its target is missing or it loops)"))
                continue
            if not target.is_relative_to(root):
                skipped.append(_skip(path, f"symlink to {target}, outside the articles folder"))
                continue
            if is_dir:
                continue  # the target is walked in its own place; following links could loop
        if is_dir:
            if depth >= MAX_FOLDER_DEPTH:  # deeper would also run out of Python's recursion limit
                skipped.append(_skip(path, f"folder nested deeper than {MAX_FOLDER_DEPTH} levels"))
                continue
            try:
                yield from _walk(path, root, skipped, depth + 1, f"{prefix}{name}/")
            except PermissionError as error:
                skipped.append(_skip(path, f"folder not readable ({error.strerror})"))
        elif _is(entry.is_file):
            yield _Found(path, prefix + name, entry)
        else:
            skipped.append(_skip(path, "not a regular file (or a broken link)"))


def _is(check) -> bool:
    """DirEntry.is_dir / is_file, False where the entry cannot be stat'ed (a link loop), as Path's are."""
    try:
        return check()
    except OSError:
        return False


def suffix(name: str) -> str:
    """The suffix that says how a file is read: ".html.gz" and ".warc.gz" are two words long."""
    base, ext = os.path.splitext(name.lower())
    if ext == ".gz":
        ext = os.path.splitext(base)[1] + ext
    return ext


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
        raise _Rejected(path, str(error)) from None
    return [_build_article(path, article_id, body, meta, data, plain_text=path.suffix.lower() == ".txt")], []


def _open_regular(path: Path) -> BinaryIO:
    """The file open for reading, or _Rejected when it is not a regular file.

    O_NONBLOCK and the fstat check on the open file: a FIFO or device put in place of a file after
    the folder was walked is refused instead of blocking the read forever.
    """
    try:
        handle = os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")
    except OSError as error:
        raise _Rejected(path, f"cannot read ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise _Rejected(path, "not a regular file")
    return handle


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, at most MAX_FILE_BYTES, or _Rejected saying why they cannot be read."""
    try:
        with _open_regular(path) as handle:
            info = os.fstat(handle.fileno())
            if info.st_size > MAX_FILE_BYTES:
                raise _Rejected(path, f"file is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
            data = handle.read(MAX_FILE_BYTES + 1)  # bounded even if the file grows meanwhile
    except OSError as error:
        raise _Rejected(path, f"cannot read ({error.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise _Rejected(path, f"file is over the {MAX_FILE_BYTES}-byte limit")
    return data


def _read(path: Path) -> tuple[bytes, str]:
    """The raw bytes and the decoded text, or _Rejected saying why the file is not text we can use."""
    data = _read_bytes(path)
    encoding = "utf-8-sig"
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"  # checked first: the UTF-32 LE mark starts with the UTF-16 LE one
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # as Windows Notepad saves "Unicode" text; the mark says the byte order
    elif b"\0" in data:
        raise _Rejected(path, "binary file (contains NUL bytes)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        label = (
            "UTF-8 text"
            if encoding == "utf-8-sig"
            else f"{encoding.upper()} text despite its byte order mark"
        )
        raise _Rejected(
            path, f"not {label} (byte {data[error.start]:#04x} at offset {error.start})"
        ) from None
    if "\0" in text:
        raise _Rejected(path, "binary file (contains NUL characters)")
    if not text.strip():
        raise _Rejected(path, "empty file")
    return data, text.replace("\r\n", "\n").replace("\r", "\n")


def _load_html(path: Path, article_id: str) -> Article:
    """A saved web page (gzipped or not) -> its article, or _Rejected saying why there is none."""
    raw, data = read_page(path)
    return _page_article(path, article_id, data, raw)


def read_page(path: Path) -> tuple[bytes, bytes]:
    """(the file's bytes, the page's bytes: gunzipped for .gz), or IngestError saying why not."""
    raw = _read_bytes(path)
    data = _gunzip(path, raw) if suffix(path.name).endswith(".gz") else raw
    if not data.strip():
        raise _Rejected(path, "empty file")
    return raw, data


def _gunzip(path: Path, data: bytes) -> bytes:
    """The decompressed bytes, bounded by MAX_FILE_BYTES however small the file (a gzip bomb)."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(wbits=31)  # gzip framing; a file may hold several members
        try:
            out += inflater.decompress(data, MAX_FILE_BYTES + 1 - len(out))
        except zlib.error as error:
            raise _Rejected(path, f"not a readable gzip file ({error})") from None
        if len(out) > MAX_FILE_BYTES:
            raise _Rejected(path, f"decompresses to over the {MAX_FILE_BYTES}-byte limit")
        if not inflater.eof:
            raise _Rejected(path, f"truncated gzip file (ends after {len(out)} decompressed bytes)")
        data = inflater.unused_data
    return bytes(out)


def _page_article(
    path: Path,
    article_id: str,
    page_bytes: bytes,
    raw: bytes,
    *,
    url: str | None = None,
    fallback_date: str | None = None,
    what: str | None = None,
    charset: str | None = None,
) -> Article:
    """The Article in a web page; `url` and `fallback_date` (a crawl's) stand in for what the page lacks."""
    from qa.ingest import html  # trafilatura loads in 0.2 s: only when there are pages to read

    try:
        page = html.extract(page_bytes, url, declared_charset=charset)
    except html.NotAnArticle as error:
        raise _Rejected(path, f"{what}: {error}" if what else str(error)) from None
    paragraphs = [" ".join(p.translate(_CONTROL_CHARS).split()) for p in page.paragraphs]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise _Rejected(
            path, f"{what}: no text left after cleaning" if what else "no text left after cleaning"
        )
    title = _scalar(page.title)
    source = next(
        (u for u in (page.url, url) if u and u.startswith(("http://", "https://"))), url or str(path)
    )
    return Article(
        article_id=article_id,
        title=" ".join(title.split()) if title else _derive_title(paragraphs[0]),
        date=_iso_date(page.date) or _iso_date(fallback_date),
        source=source.translate(_CONTROL_CHARS),
        path=str(path),
        place=None,
        paragraphs=tuple(paragraphs),
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


def _load_warc(path: Path, relpath: str) -> tuple[list[Article], list[SkippedFile]]:
    """Each HTML response in a WARC file, streamed; a broken record or a page without an article is
    skipped and said, the rest are read. Ids are the record's byte offset ("crawl.warc.gz#1234")."""
    articles, skipped = [], []
    with _open_regular(path) as handle:
        for item in warc.html_responses(handle, MAX_FILE_BYTES):
            if isinstance(item, warc.BrokenRecord):
                skipped.append(_skip(path, f"record at byte {item.offset}: {item.reason}"))
                continue
            what = f"record at byte {item.offset} ({item.uri})"
            try:
                articles.append(
                    _page_article(
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
            except _Rejected as rejected:
                skipped.append(_skip(path, rejected.reason))
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
                articles.append(_build_article(path, f"{relpath}#{number}", body, meta, raw, plain_text=True))
            except (jsonl.BadRecord, _Rejected) as error:
                reason = error.reason if isinstance(error, _Rejected) else str(error)
                skipped.append(_skip(path, f"line {number}: {reason}"))
    return articles, skipped


def _build_article(
    path: Path, article_id: str, body: str, meta: dict[str, Any], raw: bytes, *, plain_text: bool = False
) -> Article:
    """Clean `body` and fill the Article from `meta` (front matter or a JSONL record) and the text.

    `plain_text` (.txt and JSONL bodies): hard-wrapped wire copy is rejoined, a paragraph opening
    at each indented line, and a closing agency sign-off ("Reuter") dropped.
    """
    body = body.translate(_CONTROL_CHARS)
    source_line = _SOURCE_LINE.search(body)
    cleaned = _clean(_SOURCE_LINE.sub("", body))
    if plain_text:
        cleaned = newswire.unwrap(newswire.strip_sign_off(cleaned))
    blocks = [b.strip() for b in _PARAGRAPH_BREAK.split(cleaned)]
    blocks = [b for b in blocks if b]
    title = _scalar(meta.get("title"))
    # Plain text has no title field: a short first line set off by a blank line is the headline.
    if title is None and len(blocks) > 1 and _is_headline(blocks[0]):
        title = blocks.pop(0)
    paragraphs = [" ".join(b.split()) for b in blocks]
    date, place, lead = _iso_date(meta.get("date")), None, None
    if date is None and meta.get("date") not in (None, ""):
        logger.warning(
            "%s: its date %s is not a date (YYYY-MM-DD); the article is kept, undated",
            printable(article_id),
            printable(repr(meta.get("date"))[:80]),
        )
    dateline = _DATELINE.match(paragraphs[0]) if paragraphs else None
    if dateline and _iso_date(dateline[1]):
        date = date or _iso_date(dateline[1])
        rest = paragraphs[0][dateline.end() :]
        named = _PLACE.match(rest)
        if named and named[1][0].isupper():
            # The place stays in the text ("Kolkata: West Bengal ..."): "where did she say it?"
            # is answered, and cited, from the article itself.
            place, lead = named[1], rest[named.end() :]
        paragraphs = [rest, *paragraphs[1:]] if rest else paragraphs[1:]
    wire_dateline = _scalar(meta.get("dateline"))
    if wire_dateline and paragraphs:
        # "SALVADOR, Feb 26 -": kept before the story's first words, as printed, so it can be cited.
        place = place or wire_dateline.split(",")[0].strip() or None
        lead = lead or paragraphs[0]
        paragraphs = [f"{wire_dateline} {paragraphs[0]}", *paragraphs[1:]]
    if not paragraphs:
        raise _Rejected(path, "no text left after cleaning")
    urls = [meta.get(key) for key in _URL_KEYS] + [source_line[1] if source_line else None]
    source = next(
        (u for u in urls if isinstance(u, str) and u.startswith(("http://", "https://"))), str(path)
    )
    source = source.translate(_CONTROL_CHARS)
    return Article(
        article_id=article_id,
        title=" ".join(title.split()) if title else _derive_title(lead or paragraphs[0]),
        date=date,
        source=source,
        path=str(path),
        place=place,
        paragraphs=tuple(paragraphs),
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


def _clean(text: str) -> str:
    """Drop markdown and WordPress boilerplate, keeping the words a reader would see."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HEADING.sub("", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _ESCAPE.sub(r"\1", text)
    text = _SHORTCODE.sub("", text)
    # An embedded tweet keeps its attribution ("— ANI (@ANI) November 2, 2019": who posted it and
    # when, worth citing); only the link to its picture goes.
    return _TWEET_PIC.sub("", text)


def _is_headline(block: str) -> bool:
    """One short line that does not end like a sentence ("Tram opens", not "It opened.")."""
    return (
        "\n" not in block
        and len(block) <= TITLE_MAX_CHARS + 40
        and block.rstrip("\"'”’)")[-1:] not in ".,;:"
        and not _DATELINE.match(block)
    )


def _derive_title(paragraph: str) -> str:
    """The first sentence, cut at a word boundary to TITLE_MAX_CHARS with an ellipsis."""
    # A prefix is enough to find the first sentence, or to know it is too long (a 10 MB one-line
    # article would otherwise be split into all its sentences for the sake of its title).
    head = paragraph[: TITLE_MAX_CHARS * 8]
    start, end = sentence_spans(head)[0]
    sentence = head[start:end].rstrip(".")
    if len(sentence) <= TITLE_MAX_CHARS:
        return sentence
    cut = sentence[: TITLE_MAX_CHARS + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut[:TITLE_MAX_CHARS]
    return cut.rstrip(" ,;:—–-") + "…"


def _scalar(value: Any) -> str | None:
    """A front matter value as text, when it is a plain scalar (lists and mappings are ignored)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        text = str(value)
    except ValueError:  # an int of thousands of digits ("title: 0xfff...") has no str()
        return None
    return text.translate(_CONTROL_CHARS).strip() or None


def _iso_date(value: Any) -> str | None:
    """'YYYY-MM-DD' from a YAML date or datetime or a string that starts with one, else None."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()  # the date as written, in its own time zone
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and (match := re.match(r"\s*(\d{4}-\d{2}-\d{2})", value)):
        try:
            return dt.date.fromisoformat(match[1]).isoformat()
        except ValueError:
            return None
    return None
