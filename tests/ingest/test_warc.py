"""Tests for qa/ingest/warc.py and WARC files read by qa/ingest/articles.py: HTML responses as
articles, the target URI and crawl date as fallbacks, other records passed over, a broken record."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from web_pages import STORY, article_page

from qa.ingest import warc
from qa.ingest.articles import load_articles

warcio = pytest.importorskip("warcio")
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

CRAWLED = "2024-06-01T12:00:00Z"
SECOND = (
    "The town council of Valmora voted on Thursday to keep the public library open on Sundays, after "
    "a petition signed by more than two thousand residents asked it to reverse last year's cuts.",
    "The extra opening day will cost about ninety thousand euros a year, which the council will take "
    "from the budget for new street signs, a plan the opposition called a sensible trade.",
)


def _record(writer: WARCWriter, uri: str, body: bytes, content_type: str = "text/html; charset=utf-8"):
    headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
    return writer.create_warc_record(
        uri,
        "response",
        payload=io.BytesIO(body),
        http_headers=headers,
        warc_headers_dict={"WARC-Date": CRAWLED},
    )


def _warc(gzip: bool = True) -> tuple[bytes, list[int]]:
    """A crawl: a request, three pages (the second without date or canonical URL), an image, and
    the record offsets of the three pages."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)
    offsets = []
    writer.write_record(
        writer.create_warc_record(
            "https://news.example.org/a", "request", payload=io.BytesIO(b"GET /a\r\n\r\n")
        )
    )
    for uri, page in (
        ("https://news.example.org/a", article_page()),
        (
            "https://news.example.org/b",
            article_page(SECOND, title="Library stays open", date=None, canonical=None),
        ),
        (
            "https://news.example.org/c",
            article_page(STORY[:3], title="Pier plan", canonical="https://news.example.org/c-canonical"),
        ),
    ):
        offsets.append(out.tell())
        writer.write_record(_record(writer, uri, page.encode()))
    writer.write_record(_record(writer, "https://news.example.org/logo.png", b"\x89PNG\r\n", "image/png"))
    return out.getvalue(), offsets


@pytest.mark.parametrize("compressed", [True, False])
def test_html_responses_are_articles_with_uri_and_crawl_date_as_fallbacks(tmp_path, compressed):
    data, offsets = _warc(compressed)
    name = "crawl.warc.gz" if compressed else "crawl.warc"
    (tmp_path / name).write_bytes(data)
    report = load_articles(tmp_path)
    assert report.skipped == ()
    a, b, c = report.articles
    assert [x.article_id for x in (a, b, c)] == [f"{name}#{o}" for o in offsets]
    assert (a.source, a.date, a.paragraphs) == (
        "https://news.example.org/valmora/north-pier-rebuild",
        "2024-05-14",
        STORY,
    )
    assert (b.title, b.source, b.date, b.paragraphs) == (
        "Library stays open",
        "https://news.example.org/b",
        "2024-06-01",
        SECOND,
    )
    assert c.source == "https://news.example.org/c-canonical" and c.paragraphs == STORY[:3]
    assert len({x.content_hash for x in (a, b, c)}) == 3


@pytest.mark.parametrize("compressed", [True, False])
def test_a_broken_record_is_one_warning_and_the_others_are_read(tmp_path, caplog, compressed):
    data, offsets = _warc(compressed)
    broken = bytearray(data)
    middle = offsets[1] + (40 if compressed else 0)
    # gzip: garbage inside the second record's compressed data; plain: its version line damaged
    broken[middle : middle + 30] = b"\x00garbage-garbage-garbage-garb\x00"[:30]
    (tmp_path / "crawl.warc").write_bytes(bytes(broken))
    with caplog.at_level(logging.WARNING, logger="qa.ingest.articles"):
        report = load_articles(tmp_path)
    assert [a.article_id for a in report.articles] == [f"crawl.warc#{offsets[0]}", f"crawl.warc#{offsets[2]}"]
    (skipped,) = report.skipped
    assert "broken record" in skipped.reason
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_a_page_over_the_limit_is_one_broken_record(tmp_path):
    data, offsets = _warc()
    items = list(warc.html_responses(io.BytesIO(data), max_payload_bytes=1000))
    assert [type(i).__name__ for i in items] == ["BrokenRecord"] * 3
    assert [i.offset for i in items] == offsets


def test_records_are_streamed_not_read_whole(tmp_path):
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for number in range(200):  # page bodies that do not compress away: each record's own numbers
        body = article_page((*STORY, " ".join(str(number * 7919 + i) for i in range(300))))
        writer.write_record(_record(writer, f"https://news.example.org/{number}", body.encode()))
    data = out.getvalue()
    handle = io.BytesIO(data)
    first = next(warc.html_responses(handle, 10**6))
    assert isinstance(first, warc.Response) and first.uri == "https://news.example.org/0"
    assert handle.tell() < len(data)  # the rest of the file not read yet


def test_a_file_that_is_not_a_warc_is_one_warning(tmp_path):
    (tmp_path / "notes.warc").write_bytes(b"this is not a web archive\n" * 10)
    report = load_articles(tmp_path)
    assert report.articles == () and len(report.skipped) == 1
    assert Path(report.skipped[0].path).name == "notes.warc"
    assert "not a WARC file" in report.skipped[0].reason
