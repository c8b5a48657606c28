"""Tests for qa/ingest/html.py and web pages read by qa/ingest/articles.py: main text, metadata,
boilerplate, gzip, encodings, bad files, exact offsets, incremental hashes."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest
from web_pages import COOKIE, MENU, RELATED, SHARE, STORY, article_page

from qa.ingest import html
from qa.ingest.articles import load_articles, scan_folder
from qa.ingest.split import PARAGRAPH_SEPARATOR, split_article

TITLE = "Harbour board approves the rebuilding of the north pier"


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _furniture_words(text: str) -> list[str]:
    found = [m for m in MENU if f" {m} " in f" {text} "]
    return found + [s for s in (COOKIE, SHARE, *RELATED) if s in text]


def test_a_page_becomes_its_article_without_menus_banners_or_related_links(tmp_path):
    _write(tmp_path, "pier.html", article_page().encode())
    report = load_articles(tmp_path)
    assert report.skipped == ()
    (article,) = report.articles
    assert article.article_id == "pier.html"
    assert article.title == TITLE  # the headline, without the site name of <title>
    assert article.date == "2024-05-14"
    assert article.source == "https://news.example.org/valmora/north-pier-rebuild"
    assert article.paragraphs == STORY
    assert _furniture_words("\n".join(article.paragraphs)) == []


def test_without_canonical_url_the_source_is_the_file(tmp_path):
    path = _write(tmp_path, "pier.htm", article_page(canonical=None).encode())
    (article,) = load_articles(tmp_path).articles
    assert article.source == str(path)


def test_boilerplate_inside_the_article_body_is_dropped_and_said():
    story = (
        STORY[0],
        "Read more: Lighthouse keeper retires after forty years",
        STORY[1],
        "Related",
        "- New ferry timetable for the islands",
        STORY[2],
        "Follow the Valmora Courier on Facebook and Instagram.",
        "Sign up for our morning newsletter.",
        STORY[3],
        "3 Comments",
    )
    paragraphs, dropped = html.clean_lines(list(story))
    assert paragraphs == [STORY[0], STORY[1], STORY[2], STORY[3]]
    assert [d.why for d in dropped] == [
        "teaser for another article",
        "section label",
        "list after a section label",
        "follow/share/subscribe or cookie line",
        "follow/share/subscribe or cookie line",
        "section label",
    ]


def test_the_filters_keep_article_sentences_that_merely_start_like_boilerplate():
    long_more = (
        "More: the board also said that the south pier, rebuilt in 2011, would need new lights within "
        "five years, and that it would ask the regional fund for help with that work as well."
    )
    paragraphs, dropped = html.clean_lines(
        [
            long_more,
            "Related costs were not published.",
            "The harbour board's newsletter first reported the plan in April.",
            "Fishermen who subscribe to the morning market pay a lower berth fee.",
            "- a list item not after a label",
            "The newsletter of the harbour board, sent to all berth holders every spring and read by "
            "most of the fishermen, first reported the plan in April; it also listed the costs of the "
            "repairs in detail.",
        ]
    )
    assert dropped == []
    assert paragraphs[0] == long_more and paragraphs[4] == "a list item not after a label"


def test_the_boilerplate_filters_apply_to_a_real_page(tmp_path):
    # The furniture written as paragraphs of the article body, where trafilatura keeps it.
    body = (*STORY[:2], "Read more: Lighthouse keeper retires after forty years", *STORY[2:])
    _write(tmp_path, "pier.html", article_page(body).encode())
    (article,) = load_articles(tmp_path).articles
    assert article.paragraphs == STORY


def test_gzipped_pages_read_as_the_plain_ones(tmp_path):
    _write(tmp_path, "a.html", article_page().encode())
    _write(tmp_path, "b.html.gz", gzip.compress(article_page().encode()))
    a, b = load_articles(tmp_path).articles
    assert (a.title, a.date, a.source, a.paragraphs) == (b.title, b.date, b.source, b.paragraphs)
    assert a.content_hash != b.content_hash  # the hash is of the file's bytes, as for every format


def test_a_page_in_another_encoding_keeps_its_letters(tmp_path):
    story = (
        "Els veïns de Valmora celebren la reobertura del moll nord amb una festa a la plaça major. " * 3,
    )
    page = article_page(story, title="Festa al moll de Valmora", charset="iso-8859-1")
    _write(tmp_path, "festa.html", page.encode("iso-8859-1"))
    (article,) = load_articles(tmp_path).articles
    assert article.paragraphs == (" ".join(story[0].split()),)
    assert article.title == "Festa al moll de Valmora"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8"])
def test_a_page_without_a_charset_label_is_read_as_a_browser_reads_it(tmp_path, encoding):
    story = (
        "Els veïns de Valmora celebren la reobertura del moll nord amb una festa a la plaça major. " * 2,
    )
    page = article_page(story, title="Festa al moll").replace('<meta charset="utf-8">', "")
    _write(tmp_path, "festa.html", page.encode(encoding))  # Python's UTF-16 starts with a byte order mark
    (article,) = load_articles(tmp_path).articles
    assert article.paragraphs == (" ".join(story[0].split()),)


def test_bad_pages_are_skipped_one_warning_each_and_the_rest_read(tmp_path, caplog):
    _write(tmp_path, "good.html", article_page().encode())
    _write(tmp_path, "notes.html", b"Just a line of text someone saved with the wrong name.\n")
    _write(tmp_path, "cut.html.gz", gzip.compress(article_page().encode())[:300])
    _write(tmp_path, "plain.html.gz", article_page().encode())  # not gzipped despite the name
    _write(tmp_path, "empty.htm", b"")
    _write(
        tmp_path,
        "menu-only.html",
        b"<html><body><nav><a href='/'>Home</a> <a href='/x'>World</a></nav></body></html>",
    )
    with caplog.at_level(logging.WARNING, logger="qa.ingest.articles"):
        report = load_articles(tmp_path)
    assert [a.article_id for a in report.articles] == ["good.html"]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["notes.html"] == "not an HTML page (no markup)"
    assert reasons["cut.html.gz"].startswith("truncated gzip file")
    assert reasons["plain.html.gz"].startswith("not a readable gzip file")
    assert reasons["empty.htm"] == "empty file"
    assert reasons["menu-only.html"].startswith("no article text")
    assert len(reasons) == 5
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 5


def test_a_gzip_bomb_is_refused_by_its_decompressed_size(tmp_path, monkeypatch):
    from qa.ingest import articles

    monkeypatch.setattr(articles, "MAX_FILE_BYTES", 100_000)
    _write(tmp_path, "bomb.html.gz", gzip.compress(b"<html><body><p>" + b"a " * 400_000))
    (skipped,) = load_articles(tmp_path).skipped
    assert skipped.reason == "decompresses to over the 100000-byte limit"


def test_passages_are_exact_slices_of_the_article_text(tmp_path):
    _write(tmp_path, "pier.html.gz", gzip.compress(article_page().encode()))
    (article,) = load_articles(tmp_path).articles
    text = PARAGRAPH_SEPARATOR.join(article.paragraphs)
    passages = split_article(article, max_words=25, overlap_sentences=0)
    assert len(passages) > len(article.paragraphs)  # split inside paragraphs too
    offset = 0
    for passage in passages:
        start = text.index(passage.text, offset)
        assert text[start : start + len(passage.text)] == passage.text
        offset = start


def test_pages_are_listed_and_hashed_for_incremental_updates(tmp_path):
    _write(tmp_path, "a.html", article_page().encode())
    path = _write(tmp_path, "b.html.gz", gzip.compress(article_page().encode()))
    _write(tmp_path, "ignored.gz", b"not an article suffix")
    assert [f.path for f in scan_folder(tmp_path).files] == ["a.html", "b.html.gz"]
    before = {a.article_id: a.content_hash for a in load_articles(tmp_path).articles}
    path.write_bytes(gzip.compress(article_page((*STORY, "A late paragraph added by the editor.")).encode()))
    after = {a.article_id: a.content_hash for a in load_articles(tmp_path).articles}
    assert before["a.html"] == after["a.html"] and before["b.html.gz"] != after["b.html.gz"]


def test_one_page_named_directly_is_read(tmp_path):
    path = _write(tmp_path, "pier.HTML", article_page().encode())
    assert [a.article_id for a in load_articles(path).articles] == ["pier.HTML"]


def test_extract_says_why_there_is_no_article():
    with pytest.raises(html.NotAnArticle, match="no markup"):
        html.extract("plain text, no tags at all")


def test_a_page_without_a_date_gets_none_not_its_copyright_year(tmp_path):
    # The footer says "Copyright 2024": htmldate's last resort would call that 2024-01-01.
    _write(tmp_path, "undated.html", article_page(date=None).encode())
    (article,) = load_articles(tmp_path).articles
    assert article.date is None


def test_a_real_january_first_date_stands(tmp_path):
    _write(tmp_path, "new-year.html", article_page(date="2024-01-01").encode())
    (article,) = load_articles(tmp_path).articles
    assert article.date == "2024-01-01"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Pier to reopen | Valmora Courier", "Pier to reopen"),
        ("Pier to reopen – The Valmora Courier", "Pier to reopen"),
        ("Pier to reopen - Valmora Courier - News from the harbour", "Pier to reopen"),
        ("Valmora Courier: Pier to reopen", "Pier to reopen"),
        ("Pier to reopen | Valmora", "Pier to reopen"),  # the start of the site's name
        ("Pier to reopen | Courier", "Pier to reopen | Courier"),
        ("Opinion | Pier to reopen", "Opinion | Pier to reopen"),  # a section, not the site
        ("Pier: the plans - and the costs", "Pier: the plans - and the costs"),
    ],
)
def test_the_headline_loses_the_site_name_only(title, expected):
    assert (
        html.headline(title, "Valmora Courier - News from the harbour", "www.valmoracourier.example")
        == expected
    )


def test_a_50_mb_page_is_one_line_and_never_read(tmp_path):
    _write(tmp_path, "good.html", article_page().encode())
    with open(tmp_path / "huge.html", "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: its size is all the check looks at
    report = load_articles(tmp_path)
    assert [a.article_id for a in report.articles] == ["good.html"]
    (skipped,) = report.skipped
    assert skipped.reason == f"file is {50 * 1024 * 1024} bytes, over the {20 * 1024 * 1024}-byte limit"
