"""Pages and feeds from the web -> files in the articles folder: `qa index --url URL...` and `--feed URL`.

Each fetched page is kept as a one-record WARC file under `<articles>/web/<host>/`: the format
records the URL and the time of the fetch beside the page, and the WARC reader
(qa/ingest/warc.py) already makes an article of it with the URL as its source. The build that
follows indexes them like any file, incrementally. What was fetched (URL, ETag, Last-Modified, the
file) is remembered in `<articles>/web/.fetched.json` (hidden: never read as an article), so a
re-run sends conditional requests, and a feed's items already fetched are not fetched again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from qa.ingest.warc import FEED_DATE_FIELD

USER_AGENT = "newsqa/0.1 (question answering over news articles; qa index --url)"
TIMEOUT_SECONDS = 15.0
# What ingestion would refuse is not worth downloading (qa/ingest/articles.py MAX_FILE_BYTES; not
# imported: `qa` builds its parser, with these options, on every command, and this module stays light).
MAX_PAGE_BYTES = 20 * 1024 * 1024
RETRIES = 2  # after the first try: timeouts, connection errors, HTTP 429 and 5xx only
BACKOFF_SECONDS = 1.0  # before retry n: BACKOFF_SECONDS * 2**(n-1)
HOST_DELAY_SECONDS = 1.0  # between two requests to one host: a polite crawler's pace
WEB_FOLDER = "web"
STATE_FILE = ".fetched.json"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """One URL that could not be fetched; the message is the one-line reason."""


@dataclass(frozen=True)
class Fetched:
    url: str  # as asked
    final_url: str  # after redirects
    status: int  # 200, or 304 when a conditional request found it unchanged
    body: bytes
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


@dataclass
class Fetcher:
    """HTTP GET with a timeout, a size limit, retries with backoff, and a delay between two requests
    to one host."""

    timeout: float = TIMEOUT_SECONDS
    max_bytes: int = MAX_PAGE_BYTES
    retries: int = RETRIES
    backoff: float = BACKOFF_SECONDS
    host_delay: float = HOST_DELAY_SECONDS
    user_agent: str = USER_AGENT
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The response to GET `url` (a 304 when `etag`/`last_modified` show it unchanged); FetchError."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("not an http(s) URL")
        headers = {
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            self._wait_for(parts.hostname)
            try:
                return self._once(url, headers)
            except _Retryable as error:
                attempt += 1
                if attempt > self.retries:
                    tries = f" (after {attempt} tries)" if attempt > 1 else ""
                    raise FetchError(f"{error}{tries}") from None
                self.sleep(self.backoff * 2 ** (attempt - 1))

    def _wait_for(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            wait = last + self.host_delay - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last[host] = self.clock()

    def _once(self, url: str, headers: dict[str, str]) -> Fetched:
        import http.client
        import urllib.error
        import urllib.request

        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > self.max_bytes:
                    raise FetchError(f"page is {length} bytes, over the {self.max_bytes}-byte limit")
                body = response.read(self.max_bytes + 1)
                if len(body) > self.max_bytes:
                    raise FetchError(f"page is over the {self.max_bytes}-byte limit")
                return Fetched(url, response.geturl(), response.status, body, tuple(response.headers.items()))
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return Fetched(url, url, 304, b"", tuple(error.headers.items()))
            if error.code == 429 or error.code >= 500:
                raise _Retryable(f"HTTP {error.code} {error.reason}") from None
            raise FetchError(f"HTTP {error.code} {error.reason}") from None
        except TimeoutError:  # socket.timeout is the same class
            raise _Retryable(f"timed out after {self.timeout:g} s") from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError):
                raise _Retryable(f"timed out after {self.timeout:g} s") from None
            raise _Retryable(f"cannot connect ({getattr(reason, 'strerror', None) or reason})") from None
        except OSError as error:  # reset mid-body, a closed socket
            raise _Retryable(f"connection failed ({error.strerror or error})") from None
        except http.client.HTTPException as error:  # a body cut short, a malformed status line
            raise _Retryable(f"bad HTTP response ({type(error).__name__})") from None


class _Retryable(Exception):
    pass


@dataclass
class FetchSummary:
    saved: list[str] = field(default_factory=list)  # files written (new or changed pages)
    unchanged: int = 0  # conditional requests answered 304, and feed items fetched before
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)


def fetch_into(
    folder: Path | str,
    *,
    urls: Iterable[str] = (),
    feeds: Iterable[str] = (),
    fetcher: Fetcher | None = None,
    err: TextIO | None = None,
) -> FetchSummary:
    """Fetch pages and the items of RSS/Atom feeds into `folder`/web/; each failure is one line on
    `err` (stderr) and the rest go on."""
    fetcher = fetcher if fetcher is not None else Fetcher()
    err = err if err is not None else sys.stderr
    root = Path(folder) / WEB_FOLDER
    state = _State.load(root / STATE_FILE)
    summary = FetchSummary()

    def failed(url: str, reason: str) -> None:
        summary.failed.append((url, reason))
        print(f"fetch failed: {url}: {reason}", file=err)

    pages = list(dict.fromkeys(urls))
    published: dict[str, str | None] = {}  # feed item -> its date in the feed
    for feed in dict.fromkeys(feeds):
        try:
            items = _feed_items(fetcher, feed, state)
        except FetchError as error:
            failed(feed, str(error))
            continue
        new = [link for link in items if link not in state.pages]
        summary.unchanged += len(items) - len(new)
        pages.extend(link for link in new if link not in pages)
        for link in new:
            published.setdefault(link, items[link])
    for url in pages:
        try:
            path = _fetch_page(fetcher, url, root, state, published.get(url))
        except FetchError as error:
            failed(url, str(error))
            continue
        if path is None:
            summary.unchanged += 1
        else:
            summary.saved.append(str(path))
        state.save()  # after each page: an interrupted run keeps what it fetched
    state.save()
    return summary


def _feed_items(fetcher: Fetcher, feed: str, state: _State) -> dict[str, str | None]:
    """Item link -> the item's date in the feed (ISO day, None when it gives none), in the feed's
    order. A feed the server finds unchanged (304) gives the items it had: one whose page could not
    be fetched last time is tried again."""
    import feedparser

    known = state.feeds.get(feed, {})
    response = fetcher.get(feed, etag=known.get("etag"), last_modified=known.get("last_modified"))
    if response.status == 304:
        return dict(known.get("items", {}))
    parsed = feedparser.parse(response.body)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        why = getattr(parsed, "bozo_exception", None)
        detail = f" ({' '.join(str(why).split())[:100]})" if why else ""
        raise FetchError(f"not an RSS or Atom feed{detail}")
    links: dict[str, str | None] = {}
    for entry in parsed.entries:
        link = entry.get("link")
        if link:
            when = entry.get("published_parsed") or entry.get("updated_parsed")
            day = time.strftime("%Y-%m-%d", when) if when else None
            links.setdefault(urllib.parse.urljoin(response.final_url, link), day)
    state.feeds[feed] = {**_validators(response), "items": links}
    return links


def _fetch_page(
    fetcher: Fetcher, url: str, root: Path, state: _State, published: str | None = None
) -> Path | None:
    """Fetch one page into a WARC file; None when the server says it has not changed."""
    known = state.pages.get(url, {})
    response = fetcher.get(url, etag=known.get("etag"), last_modified=known.get("last_modified"))
    if response.status == 304:
        return None
    content_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type and content_type not in _HTML_TYPES:
        raise FetchError(f"not a web page (Content-Type {content_type})")
    host = urllib.parse.urlsplit(url).hostname or "unknown"
    name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:20] + ".warc.gz"
    path = root / _safe(host) / name
    _write_warc(path, response, published)
    state.pages[url] = {**_validators(response), "file": path.relative_to(root.parent).as_posix()}
    return path


def _write_warc(path: Path, response: Fetched, published: str | None = None) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    # The body as received, decoded: urllib asks for no compression, so no Content-Encoding to undo.
    headers = [
        (k, v) for k, v in response.headers if k.lower() not in ("transfer-encoding", "content-encoding")
    ]
    http_headers = StatusAndHeaders(f"{response.status} OK", headers, protocol="HTTP/1.1")
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = writer.create_warc_record(
        response.final_url,
        "response",
        payload=io.BytesIO(response.body),
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": now, **({FEED_DATE_FIELD: published} if published else {})},
    )
    writer.write_record(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, path)  # a reader never sees half a file


def _validators(response: Fetched) -> dict[str, str]:
    found = {"etag": response.header("ETag"), "last_modified": response.header("Last-Modified")}
    return {key: value for key, value in found.items() if value}


def _safe(host: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in host).strip(".") or "unknown"


@dataclass
class _State:
    path: Path
    pages: dict[str, dict[str, str]]
    feeds: dict[str, dict]  # feed URL -> its validators and "items" (link -> date)

    @classmethod
    def load(cls, path: Path) -> _State:
        from qa.ingest.articles import IngestError

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, dict(data.get("pages", {})), dict(data.get("feeds", {})))
        except FileNotFoundError:
            return cls(path, {}, {})
        except (OSError, ValueError, AttributeError) as error:
            raise IngestError(f"cannot read {path} ({error}); remove it to fetch everything again") from None

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(
            json.dumps({"pages": self.pages, "feeds": self.feeds}, indent=1, ensure_ascii=False),
            encoding="utf-8",
        )
        os.replace(temporary, self.path)


def add_index_arguments(parser) -> None:
    """`qa index --url URL... --feed URL`: the options, added to qa index's parser."""
    parser.add_argument(
        "--url",
        nargs="+",
        default=[],
        metavar="URL",
        help="fetch these pages into the articles folder (web/) first, then index; a re-run asks only "
        "for what changed",
    )
    parser.add_argument(
        "--feed",
        action="append",
        default=[],
        metavar="URL",
        help="fetch this RSS/Atom feed's new items into the articles folder first (repeatable)",
    )


def fetch_for_index(args, out: TextIO | None = None) -> FetchSummary | None:
    """What `qa index` does with --url and --feed before it builds: fetch into args.articles."""
    from qa import config
    from qa.ingest.articles import IngestError

    if not args.url and not args.feed:
        return None
    if args.status or args.check:
        raise IngestError("--url and --feed fetch pages: run them without --status or --check")
    folder = Path(args.articles)
    if folder.resolve() == Path(config.SAMPLE_ARTICLES_DIR).resolve():
        raise IngestError(
            "--url and --feed save pages into the articles folder: name one with --articles DIR"
        )
    if folder.exists() and not folder.is_dir():
        raise IngestError(f"--url and --feed need an articles folder, and {folder} is a file")
    summary = fetch_into(folder, urls=args.url, feeds=args.feed)
    print(
        f"Fetched into {folder / WEB_FOLDER}: {len(summary.saved)} new or changed pages, "
        f"{summary.unchanged} unchanged, {len(summary.failed)} failed",
        file=out if out is not None else sys.stdout,
    )
    return summary
