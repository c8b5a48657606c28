"""Article building: cleaned text or an extracted web page, with its metadata -> an Article."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from pathlib import Path
from typing import Any

from qa.ingest import newswire
from qa.ingest.clean import CONTROL_CHARS, clean
from qa.ingest.errors import Rejected
from qa.ingest.split import sentence_spans
from qa.printable import printable
from qa.types import Article

# The loader's name, not this module's: users and tests filter ingestion's warnings on it.
logger = logging.getLogger("qa.ingest.articles")

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


def build_article(
    path: Path, article_id: str, body: str, meta: dict[str, Any], raw: bytes, *, plain_text: bool = False
) -> Article:
    """Clean `body` and fill the Article from `meta` (front matter or a JSONL record) and the text.

    `plain_text` (.txt and JSONL bodies): hard-wrapped wire copy is rejoined, a paragraph opening
    at each indented line, and a closing agency sign-off ("Reuter") dropped.
    """
    body = body.translate(CONTROL_CHARS)
    source_line = _SOURCE_LINE.search(body)
    cleaned = clean(_SOURCE_LINE.sub("", body))
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
        raise Rejected(path, "no text left after cleaning")
    urls = [meta.get(key) for key in _URL_KEYS] + [source_line[1] if source_line else None]
    source = next(
        (u for u in urls if isinstance(u, str) and u.startswith(("http://", "https://"))), str(path)
    )
    source = source.translate(CONTROL_CHARS)
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


def page_article(
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
        raise Rejected(path, f"{what}: {error}" if what else str(error)) from None
    paragraphs = [" ".join(p.translate(CONTROL_CHARS).split()) for p in page.paragraphs]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise Rejected(
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
        source=source.translate(CONTROL_CHARS),
        path=str(path),
        place=None,
        paragraphs=tuple(paragraphs),
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


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
    return text.translate(CONTROL_CHARS).strip() or None


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
