"""Tests for qa/ingest/web.py (`qa index --url`, `--feed`), against an HTTP server on 127.0.0.1 that
each test starts and stops: pages, a feed, conditional requests, retries, timeouts, errors."""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from web_pages import STORY, article_page

from qa.ingest import web
from qa.ingest.articles import load_articles

SECOND = (
    "The town council of Valmora voted on Thursday to keep the public library open on Sundays, after "
    "a petition signed by more than two thousand residents asked it to reverse last year's cuts.",
    "The extra opening day will cost about ninety thousand euros a year, which the council will take "
    "from the budget for new street signs, a plan the opposition called a sensible trade.",
)


class Site:
    """What the server serves; tests change it between runs. Counts every request per path."""

    def __init__(self):
        self.pages = {
            "/pier": article_page(canonical=None).encode(),
            "/library": article_page(SECOND, title="Library stays open", canonical=None).encode(),
        }
        self.feed_items = ["/pier", "/library"]
        self.pub_dates: dict[str, str] = {}  # path -> its <pubDate> element
        self.hits: Counter = Counter()
        self.headers: dict[str, dict[str, str]] = {}
        self.fail_first: dict[str, int] = {}  # path -> how many 500s before it works

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{p}</title><link>{p}</link>{self.pub_dates.get(p, '')}</item>"
            for p in self.feed_items
        )
        channel = f"<channel><title>Courier</title>{items}</channel>"
        return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):  # noqa: N802 - the name http.server calls
            path = self.path
            site.hits[path] += 1
            site.headers[path] = dict(self.headers.items())
            if site.fail_first.get(path, 0) > 0:
                site.fail_first[path] -= 1
                return self._send(500, b"oops", "text/plain")
            if path == "/feed.xml":
                feed = site.feed()
                etag = f'"{hash(feed) & 0xFFFFFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, etag)
                return self._send(200, feed, "application/rss+xml", etag)
            if path == "/not-a-feed":
                return self._send(200, b"<html><body>no feed here, just {broken", "text/plain")
            if path == "/slow":
                time.sleep(1.5)
                return self._send(200, b"<html><p>late</p></html>", "text/html")
            if path == "/big":
                return self._send(200, b"<html>" + b"x" * 50_000, "text/html")
            if path == "/image":
                return self._send(200, b"\x89PNG....", "image/png")
            if path in site.pages:
                body = site.pages[path]
                etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", None, etag)
                return self._send(200, body, "text/html; charset=utf-8", etag)
            return self._send(404, b"not found", "text/plain")

        def _send(self, status, body, content_type, etag=None):
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a client that timed out and left: expected
        pass


@pytest.fixture
def server():
    site = Site()
    httpd = _QuietServer(("127.0.0.1", 0), _handler(site))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    site.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield site
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _fetcher(**options) -> web.Fetcher:
    defaults = {"timeout": 0.5, "retries": 2, "backoff": 0.01, "host_delay": 0.0}
    return web.Fetcher(**{**defaults, **options})


def test_pages_are_fetched_and_indexed_with_their_url_as_source(tmp_path, server):
    err = io.StringIO()
    urls = [server.base + "/pier", server.base + "/library"]
    summary = web.fetch_into(tmp_path, urls=urls, fetcher=_fetcher(), err=err)
    assert len(summary.saved) == 2 and summary.failed == [] and err.getvalue() == ""
    articles = {a.source: a for a in load_articles(tmp_path).articles}
    assert set(articles) == set(urls)
    assert articles[urls[0]].paragraphs == STORY and articles[urls[0]].date == "2024-05-14"
    assert articles[urls[1]].title == "Library stays open"
    assert server.headers["/pier"]["User-Agent"] == web.USER_AGENT


def test_a_rerun_sends_conditional_requests_and_refetches_only_what_changed(tmp_path, server):
    urls = [server.base + "/pier", server.base + "/library"]
    web.fetch_into(tmp_path, urls=urls, fetcher=_fetcher(), err=io.StringIO())
    hashes = {a.source: a.content_hash for a in load_articles(tmp_path).articles}
    later = (*SECOND, "The library will also open on public holidays.")
    server.pages["/library"] = article_page(later, canonical=None).encode()
    summary = web.fetch_into(tmp_path, urls=urls, fetcher=_fetcher(), err=io.StringIO())
    assert summary.unchanged == 1 and len(summary.saved) == 1
    assert "If-None-Match" in server.headers["/pier"]
    after = {a.source: a.content_hash for a in load_articles(tmp_path).articles}
    assert after[urls[0]] == hashes[urls[0]] and after[urls[1]] != hashes[urls[1]]
    state = json.loads((tmp_path / "web" / ".fetched.json").read_text())
    assert set(state["pages"]) == set(urls) and all("etag" in v for v in state["pages"].values())


def test_a_feed_fetches_its_items_and_a_rerun_only_the_new_ones(tmp_path, server):
    feed = server.base + "/feed.xml"
    summary = web.fetch_into(tmp_path, feeds=[feed], fetcher=_fetcher(), err=io.StringIO())
    assert len(summary.saved) == 2
    server.pages["/new"] = article_page(SECOND, title="A newer story").encode()
    server.feed_items.append("/new")
    summary = web.fetch_into(tmp_path, feeds=[feed], fetcher=_fetcher(), err=io.StringIO())
    assert len(summary.saved) == 1 and summary.unchanged == 2
    assert server.hits["/pier"] == 1 and server.hits["/new"] == 1
    assert len(load_articles(tmp_path).articles) == 3


def test_each_failure_is_one_line_and_the_rest_are_fetched(tmp_path, server):
    err = io.StringIO()
    bad = {
        "/missing": "HTTP 404 Not Found",
        "/slow": "timed out after 0.5 s (after 2 tries)",
        "/big": "page is 50006 bytes, over the 20000-byte limit",
        "/image": "not a web page (Content-Type image/png)",
    }
    server.fail_first["/always"] = 99
    bad["/always"] = "HTTP 500 Internal Server Error (after 2 tries)"
    urls = [server.base + p for p in ("/pier", *bad)]
    feeds = [server.base + "/not-a-feed", "ftp://example.org/feed"]
    summary = web.fetch_into(
        tmp_path, urls=urls, feeds=feeds, fetcher=_fetcher(max_bytes=20_000, retries=1), err=err
    )
    assert len(summary.saved) == 1
    lines = err.getvalue().splitlines()
    assert len(lines) == len(bad) + 2
    for path, reason in bad.items():
        assert f"fetch failed: {server.base}{path}: {reason}" in lines
    assert any(
        line.startswith(f"fetch failed: {server.base}/not-a-feed: not an RSS or Atom feed") for line in lines
    )
    assert "fetch failed: ftp://example.org/feed: not an http(s) URL" in lines
    assert server.hits["/always"] == 2  # the first try and one retry
    assert [a.source for a in load_articles(tmp_path).articles] == [server.base + "/pier"]


def test_a_server_error_is_retried_with_backoff(tmp_path, server):
    server.fail_first["/pier"] = 2
    slept = []
    fetcher = _fetcher(retries=2, backoff=0.5, sleep=slept.append)
    response = fetcher.get(server.base + "/pier")
    assert response.status == 200 and server.hits["/pier"] == 3
    assert slept == [0.5, 1.0]


def test_requests_to_one_host_are_spaced(server):
    clock = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        clock[0] += seconds

    fetcher = _fetcher(host_delay=2.0, sleep=sleep, clock=lambda: clock[0])
    fetcher.get(server.base + "/pier")
    clock[0] += 0.5
    fetcher.get(server.base + "/library")
    assert slept == [1.5]


def test_qa_index_refuses_to_fetch_into_the_bundled_samples(tmp_path, capsys):
    from qa.cli import main

    assert main(["index", "--store", str(tmp_path / "idx"), "--url", "http://127.0.0.1:9/x"]) == 2
    assert "name one with --articles DIR" in capsys.readouterr().err


@pytest.mark.slow
def test_qa_index_url_builds_an_index_of_the_fetched_pages(tmp_path, server, capsys):
    from qa.cli import main

    folder, store = tmp_path / "news", tmp_path / "idx"
    argv = ["index", "--articles", str(folder), "--store", str(store), "--url", server.base + "/pier"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 new or changed pages, 0 unchanged, 0 failed" in out and "1 new" in out
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "0 new or changed pages, 1 unchanged" in out and "already up to date" in out


def test_a_page_without_a_date_takes_its_date_in_the_feed(tmp_path, server):
    server.pages["/undated"] = article_page(SECOND, title="Library", date=None, canonical=None).encode()
    server.feed_items = ["/undated"]
    server.pub_dates["/undated"] = "<pubDate>Tue, 02 Apr 2024 10:00:00 GMT</pubDate>"
    web.fetch_into(tmp_path, feeds=[server.base + "/feed.xml"], fetcher=_fetcher(), err=io.StringIO())
    (article,) = load_articles(tmp_path).articles
    assert article.date == "2024-04-02" and article.source == server.base + "/undated"


def test_a_feed_item_that_failed_is_tried_again_when_the_feed_is_unchanged(tmp_path, server):
    feed = server.base + "/feed.xml"
    server.fail_first["/library"] = 99
    summary = web.fetch_into(tmp_path, feeds=[feed], fetcher=_fetcher(retries=0), err=io.StringIO())
    assert len(summary.saved) == 1 and len(summary.failed) == 1
    server.fail_first["/library"] = 0
    # the feed itself is unchanged: the server answers 304
    summary = web.fetch_into(tmp_path, feeds=[feed], fetcher=_fetcher(), err=io.StringIO())
    assert len(summary.saved) == 1 and summary.failed == [] and server.hits["/library"] == 2
    assert "If-None-Match" in server.headers["/feed.xml"]
