"""Tests for qa/ingest.py: formats, cleaning, metadata, bad files, and the bundled sample corpus."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import pytest

from qa import config
from qa.ingest import articles as ingest
from qa.ingest.articles import IngestError, load_article_file, load_articles
from qa.types import Article

MARKDOWN_ID = "000_1e40bb8095aa87b8.txt"  # markdown with front matter, despite the suffix
DATELINE_ID = "003_13a53636cd01cbfb.txt"
GOOD = "---\ntitle: Good\ndate: 2024-01-02\n---\n\nThe council approved the new harbour budget on Monday.\n"


def _by_id(report: ingest.IngestReport) -> dict[str, Article]:
    return {a.article_id: a for a in report.articles}


def _text(article: Article) -> str:
    return "\n\n".join(article.paragraphs)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "qa.ingest.articles"]


def _article(tmp_path: Path, name: str, content: str) -> Article:
    (tmp_path / name).write_text(content, encoding="utf-8")
    [article] = load_article_file(tmp_path / name, tmp_path)
    return article


# The real shared articles


@pytest.fixture(scope="module")
def shared(shared_articles_dir: Path) -> dict[str, Article]:
    report = load_articles(shared_articles_dir)
    assert report.skipped == ()
    return _by_id(report)


def test_both_shared_articles_ingest(shared):
    assert sorted(shared) == [MARKDOWN_ID, DATELINE_ID]


@pytest.mark.parametrize("article_id", [MARKDOWN_ID, DATELINE_ID])
@pytest.mark.parametrize(
    "boilerplate", ["the_ad", "the\\_ad", "\\[", "![](", "pic.twitter.com", "Source link", "](http"]
)
def test_shared_articles_lose_boilerplate(shared, article_id, boilerplate):
    assert boilerplate not in _text(shared[article_id])


@pytest.mark.parametrize("article_id", [MARKDOWN_ID, DATELINE_ID])
def test_shared_paragraphs_have_normalised_whitespace(shared, article_id):
    for paragraph in shared[article_id].paragraphs:
        assert paragraph == " ".join(paragraph.split()) and paragraph


def test_markdown_article_metadata(shared, shared_articles_dir):
    article = shared[MARKDOWN_ID]
    # The title wraps onto a second line in the front matter; YAML folds it.
    assert article.title == "WhatsApp Responds to India Govt; Says It's Committed to User Data Protection"
    assert article.date == "2019-11-02"
    assert article.source == "https://beebom.com/whatsapp-responds-committed-user-data-protection/"
    assert article.place is None
    assert article.path == str(shared_articles_dir / MARKDOWN_ID)
    raw = (shared_articles_dir / MARKDOWN_ID).read_bytes()
    assert article.content_hash == hashlib.sha256(raw).hexdigest()


def test_markdown_article_keeps_link_anchor_and_drops_emphasis(shared):
    text = _text(shared[MARKDOWN_ID])
    assert "sued the Israeli firm NSO Group in U.S court" in text
    assert "as we’ve already discussed yesterday" in text
    assert shared[MARKDOWN_ID].paragraphs[-1] == "With inputs from IANS"
    assert "_" not in text and "beebom.com" not in text
    assert "“explain the kind of breach”" in text  # curly quotes kept as they are


def test_dateline_article_metadata(shared, shared_articles_dir):
    article = shared[DATELINE_ID]
    assert article.date == "2019-11-02"
    assert article.place == "Kolkata"
    assert article.source == str(shared_articles_dir / DATELINE_ID)
    # The place stays citable in the text (issue 12); the title starts after it.
    assert article.paragraphs[0].startswith("Kolkata: West Bengal Chief Minister Mamata Banerjee on Saturday")
    assert article.title.startswith("West Bengal Chief Minister Mamata Banerjee")
    assert article.title.endswith("…") and len(article.title) <= ingest.TITLE_MAX_CHARS + 1


def test_dateline_article_keeps_a_tweet_with_who_posted_it_and_when(shared):
    text = _text(shared[DATELINE_ID])
    assert "It is wrong, you cannot capture privacy. — ANI (@ANI) November 2, 2019\n\n" in text


# Cleaning, on crafted text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Before \\[the\\_ad id='1307'\\] after.", "Before after."),
        ("Before [the_ad id='1307'] after.", "Before after."),
        ("See [the report](https://example.org/r) today.", "See the report today."),
        ("Action \\[[sued the firm](https://example.org/x)\\] now.", "Action [sued the firm] now."),
        ("Keep \\*stars\\* and \\_under\\_ and 3 \\# marks.", "Keep *stars* and _under_ and 3 # marks."),
        (
            "She said _“it is wrong”._ Then **left** and *came back*.",
            "She said “it is wrong”. Then left and came back.",
        ),
        (
            "Keep snake_case_names and 2 * 3 * 4 as they are.",
            "Keep snake_case_names and 2 * 3 * 4 as they are.",
        ),
        ("Tags <b>stay</b> literal &amp; so do entities.", "Tags <b>stay</b> literal &amp; so do entities."),
        ("Wrapped line  \nwith a  hard   break.", "Wrapped line with a hard break."),
        (
            "He said no. pic.twitter.com/AbC123 — Jane Roe (@jroe) March 4, 2024",
            "He said no. — Jane Roe (@jroe) March 4, 2024",
        ),
        ("Café “quotes” and ‘single’ — dashes stay.", "Café “quotes” and ‘single’ — dashes stay."),
    ],
)
def test_cleaning(tmp_path, raw, expected):
    assert _article(tmp_path, "a.md", f"---\ntitle: T\n---\n{raw}\n").paragraphs == (expected,)


def test_image_lines_and_source_link_line_are_removed(tmp_path):
    article = _article(
        tmp_path,
        "a.md",
        "---\ntitle: T\n---\n![](https://example.org/a.jpg)\n\n![A harbour](https://example.org/b.jpg)  \n\n"
        "The harbour reopened on Monday after repairs.\n\n\n\n\n[Source link](https://example.org/story)  \n",
    )
    assert article.paragraphs == ("The harbour reopened on Monday after repairs.",)
    assert article.source == "https://example.org/story"


@pytest.mark.parametrize(
    ("front_matter", "title", "date", "source"),
    [
        (
            "title: 'A ''quoted''\n  title'\ndate: 2019-11-02T07:22:00+01:00",
            "A 'quoted' title",
            "2019-11-02",
            None,
        ),
        ("title: Late\ndate: 2019-11-02T00:30:00+05:00", "Late", "2019-11-02", None),  # local date, not UTC
        (
            "title: Plain\ndate: '2024-02-29'\nurl: https://example.com/x",
            "Plain",
            "2024-02-29",
            "https://example.com/x",
        ),
        ("title: Draft\ndraft: true\nsource: https://example.com/d", "Draft", None, "https://example.com/d"),
        ("title: No date\ndate: soon\nsource: Newswire", "No date", None, None),
        ("title: [not, a, string]\ndate: 2024-01-02", "The bridge opened", "2024-01-02", None),
    ],
)
def test_front_matter_metadata(tmp_path, front_matter, title, date, source):
    article = _article(tmp_path, "a.md", f"---\n{front_matter}\n---\nThe bridge opened.\n")
    assert (article.title, article.date) == (title, date)
    assert article.source == (source if source is not None else str(tmp_path / "a.md"))


@pytest.mark.parametrize(
    ("raw", "date", "place", "first"),
    [
        (" date 2024-03-14 Lisbon: The tram opened.", "2024-03-14", "Lisbon", "Lisbon: The tram opened."),
        (
            "date 2024-03-14 New Delhi: The tram opened.",
            "2024-03-14",
            "New Delhi",
            "New Delhi: The tram opened.",
        ),
        (" date 2024-03-14 The tram opened.", "2024-03-14", None, "The tram opened."),
        (" date 2024-03-14\n\nThe tram opened.", "2024-03-14", None, "The tram opened."),
        ("The tram opened on a date to remember.", None, None, "The tram opened on a date to remember."),
    ],
)
def test_datelines(tmp_path, raw, date, place, first):
    article = _article(tmp_path, "a.txt", raw + "\n\nIt runs every six minutes.\n")
    assert (article.date, article.place, article.paragraphs[0]) == (date, place, first)


def test_plain_text_short_first_line_is_the_title(tmp_path):
    article = _article(tmp_path, "a.txt", "Harbour tram opens\n\nThe tram opened on Monday. It is green.\n")
    assert article.title == "Harbour tram opens"
    assert article.paragraphs == ("The tram opened on Monday. It is green.",)


def test_plain_text_title_is_derived_from_the_first_sentence(tmp_path):
    first = "Mr. Lee opened the tram on Monday."
    assert _article(tmp_path, "a.txt", f"{first} It is green.\n").title == "Mr. Lee opened the tram on Monday"
    long = (
        "The city council of Valmora voted late on Tuesday night to approve an extension "
        "of the Green Line tram."
    )
    title = _article(tmp_path, "b.txt", long + "\n").title
    assert title == "The city council of Valmora voted late on Tuesday night to approve an extension…"
    assert len(title) <= ingest.TITLE_MAX_CHARS + 1


# JSONL


def test_jsonl_lines_become_articles_and_a_bad_line_is_skipped(tmp_path, caplog):
    good = {
        "title": "One",
        "date": "2024-01-02",
        "url": "https://example.org/1",
        "text": "First para here.\n\nSecond.",
    }
    lines = [json.dumps(good), "{not json", "", json.dumps({"title": "Three", "text": "Third article text."})]
    (tmp_path / "bulk.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report = load_articles(tmp_path)
    articles = _by_id(report)
    assert sorted(articles) == ["bulk.jsonl#1", "bulk.jsonl#4"]
    first = articles["bulk.jsonl#1"]
    assert (first.title, first.date, first.source) == ("One", "2024-01-02", "https://example.org/1")
    assert first.paragraphs == ("First para here.", "Second.")
    assert first.content_hash == hashlib.sha256(lines[0].encode()).hexdigest()
    assert articles["bulk.jsonl#4"].source == str(tmp_path / "bulk.jsonl")
    [warning] = _warnings(caplog)
    assert "bulk.jsonl" in warning.getMessage() and "line 2" in warning.getMessage()
    assert [(Path(s.path).name, s.reason.split(":")[0]) for s in report.skipped] == [("bulk.jsonl", "line 2")]


@pytest.mark.parametrize(
    "line", ['["a list"]', '{"id": "no text or title"}', '{"text": 5}', '{"text": "![](x.png)"}']
)
def test_jsonl_records_without_usable_text_are_skipped(tmp_path, caplog, line):
    (tmp_path / "bulk.jsonl").write_text(line + '\n{"text": "A good line of text."}\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report = load_articles(tmp_path)
    assert [a.article_id for a in report.articles] == ["bulk.jsonl#2"]
    assert len(_warnings(caplog)) == 1 and len(report.skipped) == 1


# Bad files: one warning each, and the good file beside them still loads

BAD_FILES = {  # name: (content, what the reason says)
    "binary.md": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    "latin1.txt": (
        "Caf\u00e9 au lait in S\u00e3o Paulo.".encode("latin-1"),
        "not UTF-8 text (byte 0xe9 at offset 3)",
    ),
    "empty.md": (b"", "empty file"),
    "blank.txt": (b"  \n\n\t\n", "empty file"),
    "unterminated.md": (b"---\ntitle: Never closed\n\nBody text here.\n", "no closing '---'"),
    "invalid-yaml.md": (b"---\ntitle: [unclosed\n---\nBody text here.\n", "invalid YAML front matter"),
    "list-yaml.md": (b"---\n- a\n- b\n---\nBody text here.\n", "front matter is a YAML list, not a mapping"),
    "python-tag.md": (
        b"---\ntitle: !!python/object/apply:os.system ['echo hacked']\n---\nBody text here.\n",
        "could not determine a constructor for the tag",
    ),
    "alias-bomb.md": (
        b"---\na: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
        b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        b"title: *c\n---\nBody text here.\n",
        "front matter uses YAML aliases",
    ),
    "deep-nesting.md": (
        b"---\ntitle: " + b"[" * 3000 + b"\n---\nBody text here.\n",
        "nests deeper than 20 levels",
    ),
    "only-boilerplate.md": (
        b"---\ntitle: Ads\n---\n\\[the\\_ad id='1'\\]\n\n![](https://example.org/x.jpg)\n",
        "no text left after cleaning",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_skipped_with_one_warning(tmp_path, caplog, name):
    content, reason = BAD_FILES[name]
    (tmp_path / name).write_bytes(content)
    (tmp_path / "good.md").write_text(GOOD, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report = load_articles(tmp_path)
    assert [a.article_id for a in report.articles] == ["good.md"]
    [skipped] = report.skipped
    assert skipped.path == str(tmp_path / name) and reason in skipped.reason
    assert str(tmp_path) not in skipped.reason  # the path is said once, by the warning
    [warning] = _warnings(caplog)
    assert name in warning.getMessage() and skipped.reason in warning.getMessage()
    with pytest.raises(IngestError, match=name):
        load_article_file(tmp_path / name, tmp_path)


def test_oversized_file_is_skipped(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 100)
    (tmp_path / "big.txt").write_text("word " * 100, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report = load_articles(tmp_path)
    assert report.articles == () and "over the 100-byte limit" in report.skipped[0].reason
    assert len(_warnings(caplog)) == 1


def test_oversized_front_matter_is_refused(tmp_path):
    (tmp_path / "a.md").write_text(
        "---\ntitle: x\nnote: '" + "x" * 70_000 + "'\n---\nBody.\n", encoding="utf-8"
    )
    with pytest.raises(IngestError, match="front matter is over"):
        load_article_file(tmp_path / "a.md", tmp_path)


# Walking a folder


def test_walk_is_recursive_sorted_and_ignores_hidden_and_other_files(tmp_path, caplog):
    for name in [
        "b.md",
        "a.txt",
        "sub/c.markdown",
        "sub/deeper/d.txt",
        ".hidden.md",
        ".git/e.md",
        "photo.jpg",
        "f.pdf",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report = load_articles(tmp_path)
    assert [a.article_id for a in report.articles] == ["a.txt", "b.md", "sub/c.markdown", "sub/deeper/d.txt"]
    assert report.skipped == () and _warnings(caplog) == []


def test_symlink_outside_the_folder_is_skipped_with_a_warning(tmp_path, caplog):
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text(GOOD, encoding="utf-8")
    (corpus / "a.md").write_text(GOOD, encoding="utf-8")
    (corpus / "inside-link.md").symlink_to(corpus / "a.md")
    (corpus / "outside-link.md").symlink_to(outside / "secret.md")
    (corpus / "outside-dir").symlink_to(outside)
    (corpus / "loop").symlink_to(corpus)
    with caplog.at_level(logging.WARNING):
        report = load_articles(corpus)
    assert [a.article_id for a in report.articles] == ["a.md", "inside-link.md"]
    assert sorted(Path(s.path).name for s in report.skipped) == ["outside-dir", "outside-link.md"]
    assert len(_warnings(caplog)) == 2


def test_single_file_path_is_accepted(sample_articles_dir):
    report = load_articles(sample_articles_dir / "tram-line.md")
    assert [a.article_id for a in report.articles] == ["tram-line.md"]


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p / "notes.pdf"])
def test_missing_folder_or_unsupported_file_raises_naming_it(tmp_path, make):
    path = make(tmp_path)
    if path.suffix:
        path.write_text("x", encoding="utf-8")
    with pytest.raises(IngestError, match=path.name):
        load_articles(path)


def test_empty_folder_gives_an_empty_report(tmp_path):
    assert load_articles(str(tmp_path)) == ingest.IngestReport((), ())


# The bundled sample corpus and its questions


@pytest.fixture(scope="module")
def sample(sample_articles_dir: Path) -> ingest.IngestReport:
    return load_articles(sample_articles_dir)


def test_sample_corpus_loads_cleanly(sample):
    assert len(sample.articles) == 9 and sample.skipped == ()
    suffixes = sorted(Path(a.path).suffix for a in sample.articles)
    assert suffixes == [".md"] * 6 + [".txt"] * 3
    for article in sample.articles:
        assert article.title and article.date and 3 <= len(article.paragraphs) <= 6
        assert article.source.startswith("https://example.") or article.place
    for boilerplate in ["the_ad", "![](", "Source link", "**", "\\"]:
        assert not any(boilerplate in _text(a) for a in sample.articles)


def test_sample_corpus_reports_one_fact_in_two_articles(sample):
    assert sum("412 million euros" in _text(a) for a in sample.articles) == 2


def test_sample_questions_answers_occur_verbatim(sample):
    questions = json.loads(
        (Path(config.SAMPLE_ARTICLES_DIR).parent / "sample_questions.json").read_text("utf-8")
    )
    assert len(questions) == 12
    assert sum(1 for q in questions if q["answers"]) == 10
    corpus = [_text(a) for a in sample.articles]
    for item in questions:
        assert item["question"].endswith("?")
        for answer in item["answers"]:
            assert any(answer in text for text in corpus), (
                f"{answer!r} ({item['question']}) is not in the corpus"
            )


def test_a_file_name_that_is_not_utf8_is_skipped_by_name_and_the_rest_is_read(tmp_path, caplog):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.md").write_text("---\ntitle: Good\ndate: 2024-05-01\n---\nThe harbour reopened.\n")
    bad = os.fsencode(folder) + b"/bad_\xe9.txt"
    with open(bad, "wb") as handle:
        handle.write(b"The ferry sailed at noon.\n")
    report = load_articles(folder)
    assert [a.title for a in report.articles] == ["Good"]
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("bad_\\xe9.txt", "the name is not valid UTF-8: rename it to index it")
    ]
    # What is recorded and printed is plain text: the index's listing writes it as UTF-8.
    assert report.listing is not None and report.listing.to_json()
    assert "bad_\\xe9.txt" in caplog.text


def test_a_front_matter_date_that_names_no_day_keeps_the_article_undated(tmp_path, caplog):
    path = tmp_path / "late.md"
    path.write_text("---\ntitle: Harbour news\ndate: 2024-13-45\n---\nThe harbour reopened.\n")
    (article,) = load_articles(tmp_path).articles
    assert (article.title, article.date, article.paragraphs) == (
        "Harbour news",
        None,
        ("The harbour reopened.",),
    )
    assert "its date '2024-13-45' is not a date" in caplog.text


def test_a_bidi_override_in_a_skipped_name_is_printed_escaped(tmp_path, caplog):
    (tmp_path / "evil\u202etxt.md").write_bytes(b"")
    report = load_articles(tmp_path)
    assert [Path(s.path).name for s in report.skipped] == ["evil\\u202etxt.md"]
    assert "\u202e" not in caplog.text
