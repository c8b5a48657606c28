"""Web pages -> the article a reader sees: trafilatura finds the main text and the metadata; this
module decodes the bytes it is given, asks trafilatura for precision, and drops what it still keeps
around an article (related-article lists, "Read more:" teasers, follow-us and newsletter lines)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

try:
    import trafilatura
except ImportError as error:  # pragma: no cover - a dependency in pyproject.toml
    raise ImportError(
        "reading web pages needs trafilatura: pip install trafilatura lxml_html_clean htmldate"
    ) from error

# trafilatura's extract() keeps reader comments unless told not to (include_comments=True is its
# default), and favor_precision drops more of the blocks it is unsure of. On the 120 pages of
# ../shared/corpora/article-extraction the two raise body-text precision from 0.935 to 0.967 for a
# recall of 0.978 instead of 0.979 (docs/ingest-html.md); a boilerplate line that reaches the index
# is what a reader cites by mistake, a lost line costs less.
EXTRACT_OPTIONS = {"favor_precision": True, "include_comments": False, "include_tables": True}

# Anything shaped like markup in the first bytes: a text file named .html has none.
_MARKUP = re.compile(r"<\s*(?:!doctype|html|head|body|p|div|article|meta|title|span|table|h[1-6])\b", re.I)
_SNIFF_BYTES = 64 * 1024
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose mark it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# <meta charset="x"> or <meta http-equiv="Content-Type" content="text/html; charset=x">, and an XML
# declaration's encoding (XHTML)
_META_CHARSET = re.compile(
    r"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I
)
_WORD = re.compile(r"\w+")
MIN_SENTENCE_WORDS = 8  # a page whose longest line is shorter holds links and labels, not an article

# What trafilatura leaves in, written for news pages in general (never for one site): a line that is
# only a section label of the page around the article ("Related", "3 Comments", "Don't miss") ...
_LABEL_ONLY = re.compile(
    r"(?:\d+\s+)?comments?|share(?: this)?(?: article| story| post)?|advertisement"
    r"|(?:you (?:may|might) also like|don't miss|do not miss|read more|related(?: \w+)?|more|also"
    r"|most (?:read|popular)(?: [\w ]+)?|recommended(?: for you)?|trending(?: now)?)\W*",
    re.I,
)
# ... a teaser: a label and a colon, then another article's headline ("Read more: ...") ...
_TEASER = re.compile(
    r"(?:related(?: posts?| stories| articles| coverage)?|read more|read also|also read|see more|see also"
    r"|more|also|also on [\w.]+|watch|recommended|more from [\w .]{1,30})\s*:",
    re.I,
)
_TEASER_MAX_WORDS = 25  # a headline; a longer line is the article's own paragraph that begins so
# ... and a call to follow, share or subscribe, or a cookie notice.
# An article may mention a newsletter or a subscription; an imperative to sign up, or the two words
# together, is the page talking to its reader.
_CALL_TO_ACTION = re.compile(
    r"\b(?:follow (?:us|[\w@.]+(?: [\w@.]+){0,5}) on (?:facebook|twitter|x|instagram|youtube|linkedin)"
    r"|share (?:it|this)(?: story| article| post)? with"
    r"|(?:sign up|subscribe)\b.{0,80}\bnewsletters?\b|newsletters?\b.{0,80}\b(?:sign up|subscribe|inbox)"
    r"|we use cookies|(?:accept|consent to) (?:all )?cookies|cookie (?:policy|settings))"
    r"|^(?:sign up|subscribe|follow us|join us)\b",
    re.I,
)
_CALL_MAX_WORDS = 30


class NotAnArticle(ValueError):
    """A page with no article in it; the message says why."""


@dataclass(frozen=True)
class Dropped:
    text: str
    why: str


@dataclass(frozen=True)
class Page:
    """The article in a web page: its paragraphs (whitespace collapsed) and what was dropped from them."""

    title: str | None
    date: str | None  # ISO "YYYY-MM-DD": the page's own publication date (htmldate), not a crawl date
    url: str | None  # the canonical URL the page gives, else the one it was fetched from
    paragraphs: tuple[str, ...]
    dropped: tuple[Dropped, ...] = ()


def decode(data: bytes, declared: str | None = None) -> str:
    """A page's text, its encoding found as a browser finds it: a byte order mark, else the charset
    the server `declared` or the page's own <meta> names, else UTF-8 when the bytes are valid UTF-8,
    else windows-1252 (the web's default for unlabelled pages, which "ISO-8859-1" means there).

    trafilatura guesses from the bytes alone when it is given bytes, and on a short unlabelled page
    in windows-1252 its guess can be another code page (a "ï" read as "’").

    >>> decode(b"caf\\xe9"), decode(b'<meta charset="utf-8">caf\\xc3\\xa9')[-4:]
    ('café', 'café')
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    head = data[:_SNIFF_BYTES].decode("ascii", errors="replace")
    meta = _META_CHARSET.search(head)
    for name in (declared, (meta[1] or meta[2]) if meta else None):
        encoding = _codec(name)
        if encoding is not None:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue  # mislabelled: try the next clue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        return "cp1252"  # what browsers read these labels as (WHATWG Encoding)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def extract(html: bytes | str, url: str | None = None, *, declared_charset: str | None = None) -> Page:
    """The article in `html` (bytes are decoded as a browser would: `decode`).

    Raises NotAnArticle for a page that is not HTML or has no main text.

    Example:
        >>> page = extract(b"<html><head><title>Tram opens</title></head><body><article>"
        ...                b"<p>" + b"The new tram line opened on Monday with free rides. " * 5 + b"</p>"
        ...                b"<p>Related:</p><ul><li>Another story</li></ul></article></body></html>")
        >>> page.title, len(page.paragraphs)
        ('Tram opens', 1)
    """
    if isinstance(html, bytes):
        html = decode(html, declared_charset)
    if not _MARKUP.search(html[:_SNIFF_BYTES]):
        raise NotAnArticle("not an HTML page (no markup)")
    try:
        document = trafilatura.bare_extraction(html, url=url, with_metadata=True, **EXTRACT_OPTIONS)
    except Exception as error:  # lxml and the date parsers fail in ways of their own: one page, not the build
        raise NotAnArticle(f"the page could not be parsed ({type(error).__name__}: {error})") from None
    text = document.text if document is not None else None
    if not text or not text.strip():
        raise NotAnArticle("no article text found in the page")
    paragraphs, dropped = clean_lines(text.split("\n"))
    if not paragraphs:
        raise NotAnArticle("no article text left after dropping boilerplate")
    if max(len(_WORD.findall(p)) for p in paragraphs) < MIN_SENTENCE_WORDS:
        # trafilatura falls back to all of a page's text when it finds no article: on a home page or
        # a menu that is a handful of link labels, which no question should be answered from.
        raise NotAnArticle(f"no article text found (only short lines such as links: {paragraphs[0][:60]!r})")
    return Page(
        title=headline(_one_line(document.title), document.sitename, document.hostname),
        date=_own_date(html, document.date or None, url),
        url=document.url or url,
        paragraphs=tuple(paragraphs),
        dropped=tuple(dropped),
    )


def clean_lines(lines: list[str]) -> tuple[list[str], list[Dropped]]:
    """trafilatura's text lines -> (paragraphs, what was dropped and why).

    A list (trafilatura writes its items as "- item") right after a label such as "Related" or
    "You may also like" is the list of other articles, and goes with its label.

    >>> clean_lines(["First  paragraph.", "Related", "- Other story", "Read more: Other", "Last."])[0]
    ['First paragraph.', 'Last.']
    """
    kept: list[str] = []
    dropped: list[Dropped] = []
    after_label = False
    for line in lines:
        text = " ".join(line.split())
        if not text:
            continue
        is_item = text.startswith("- ")
        words = len(_WORD.findall(text))
        if _LABEL_ONLY.fullmatch(text):
            dropped.append(Dropped(text, "section label"))
            after_label = True
            continue
        if after_label and is_item:
            dropped.append(Dropped(text, "list after a section label"))
            continue
        after_label = False
        if words <= _TEASER_MAX_WORDS and _TEASER.match(text):
            dropped.append(Dropped(text, "teaser for another article"))
        elif words <= _CALL_MAX_WORDS and _CALL_TO_ACTION.search(text):
            dropped.append(Dropped(text, "follow/share/subscribe or cookie line"))
        else:
            kept.append(text[2:] if is_item else text)
    return kept, dropped


def headline(title: str | None, sitename: str | None, hostname: str | None) -> str | None:
    """The title without the site's name, which pages put in <title> and trafilatura keeps.

    >>> headline("Pier to reopen in May | The Valmora Courier", "Valmora Courier", "courier.example")
    'Pier to reopen in May'
    >>> headline("Courier: Pier to reopen in May", "Courier", None), headline("Pier - Plans", "Courier", None)
    ('Pier to reopen in May', 'Pier - Plans')
    """
    if not title:
        return title
    names = {_name_key(sitename), _name_key((hostname or "").removeprefix("www.").split(".")[0])} - {""}
    for name in filter(None, (sitename,)):
        for separator in _TITLE_SEPARATORS:  # "Story - Site - Tagline": the whole site name at once
            if title.endswith(separator + name) and len(title) > len(separator + name):
                return title[: -len(separator + name)]
            if title.startswith(name + separator) and len(title) > len(name + separator):
                return title[len(name + separator) :]
    for separator in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if found and head and _is_site(tail, names):
            return head
        tail, found, head = title.partition(separator)  # "Site: Story", "Site | Story"
        if found and head.strip() and _is_site(tail, names):
            return head.strip()
    return title


_TITLE_SEPARATORS = (" | ", " – ", " — ", " - ", " :: ", " · ", ": ")


def _name_key(name: str | None) -> str:
    return "".join(c for c in (name or "").lower() if c.isalnum())


def _is_site(part: str, names: set[str]) -> bool:
    """`part` names the site: equal to its name or host, or the start of it ("Inexhibit" of
    "Inexhibit magazine"), the leading "The" aside."""
    key = _name_key(part)
    if len(key) < 4:  # "The", "AP": too short to tell a site from a word
        return False
    bare = key.removeprefix("the")
    return any(key == n or bare == n.removeprefix("the") or n.startswith(key) for n in names)


def _own_date(html: bytes | str, found: str | None, url: str | None) -> str | None:
    """The page's date, without htmldate's last resort: with nothing better, its extensive search
    takes the year of a "Copyright 2024" footer and answers January 1st, a date no article gave.
    Such a date stands only if the page's metadata or markup (the search without guesses) says so."""
    if not found or not found.endswith("-01-01"):
        return found
    from htmldate import find_date

    try:
        return find_date(html, url=url, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # as in extract: a parser's failure costs the date, not the page
        return None


def _one_line(value: str | None) -> str | None:
    return " ".join(value.split()) or None if value else None
