"""Newswire as it comes (qa/ingest/newswire.py, qa/ingest/jsonl.py): hard-wrapped copy with indented
paragraphs, other JSONL field names, datelines, sign-offs, title-only briefs, archives of any size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.ingest import articles as ingest
from qa.ingest.articles import load_articles
from qa.ingest.newswire import strip_sign_off, unwrap

# Written for this test in the shape of 1987 wire copy (Reuters-21578's JSONL), not taken from it.
WIRE_TEXT = (
    "Heavy rains continued through the week in\nthe Orlen valley, easing the drought that began in\n"
    "early March, the farmers' cooperative said in its\nweekly report.\n"
    "    Deliveries for the week reached 12,400 tonnes,\nbringing the season's total to 81,000 tonnes\n"
    "against 77,500 a year earlier.\n"
    "    The cooperative said prices held at 210 crowns\na tonne.\n Reuter"
)


def test_indented_lines_open_paragraphs_and_wrapped_lines_join():
    assert unwrap(WIRE_TEXT).split("\n\n") == [
        "Heavy rains continued through the week in the Orlen valley, easing the drought that began in "
        "early March, the farmers' cooperative said in its weekly report.",
        "Deliveries for the week reached 12,400 tonnes, bringing the season's total to 81,000 tonnes "
        "against 77,500 a year earlier.",
        "The cooperative said prices held at 210 crowns a tonne. Reuter",
    ]
    plain = "First paragraph,\nwrapped.\n\nSecond one."
    assert unwrap(plain) == plain  # no indented lines: blank lines already mark the paragraphs


@pytest.mark.parametrize("ending", ["\n Reuter", "\nREUTER", "\n  REUTER^M", "\nreuter\n"])
def test_the_agency_sign_off_goes_and_the_story_stays(ending):
    assert (
        strip_sign_off("Prices held at 210 crowns a tonne." + ending) == "Prices held at 210 crowns a tonne."
    )
    assert strip_sign_off("Reuters said prices held.") == "Reuters said prices held."


@pytest.mark.parametrize(
    "ending", [" REUTER", " Reuter\n Reuter", " REUTER\n Reuter", "\n more", "\n MORE\n", "\n more\n Reuter"]
)
def test_a_sign_off_after_the_last_sentence_and_a_continuation_line_go_too(ending):
    text = "Deposits rose to 34.9 billion from 33.8 billion a year ago."
    assert strip_sign_off(text + ending) == text


@pytest.mark.parametrize(
    "story",
    [
        "Prices held, a spokesman told Reuters",  # the agency as the story's last word, not a sign-off
        "Prices held, the dealers said, and buyers wanted more",
        "Buyers wanted more.\nMore than 40 firms bid.",
    ],
)
def test_words_that_look_like_wire_marks_stay(story):
    assert strip_sign_off(story) == story


def write_jsonl(folder: Path, *records: dict) -> Path:
    path = folder / "wire.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return folder


def test_a_wire_record_becomes_an_article_with_its_paragraphs_dateline_and_place(tmp_path):
    record = {
        "id": "w-1",
        "title": "ORLEN VALLEY CROP REVIEW",
        "date": "1987-03-12T15:01:01",
        "dateline": "ORLEN, March 12 -",
        "source": "Wire",
        "text": WIRE_TEXT,
    }
    [article] = load_articles(write_jsonl(tmp_path, record)).articles
    assert article.title == "ORLEN VALLEY CROP REVIEW" and article.date == "1987-03-12"
    assert article.place == "ORLEN"
    assert article.paragraphs[0].startswith(
        "ORLEN, March 12 - Heavy rains continued through the week in the Orlen"
    )
    assert article.paragraphs[1].startswith("Deliveries for the week reached 12,400 tonnes, bringing")
    assert article.paragraphs[-1] == "The cooperative said prices held at 210 crowns a tonne."


def test_other_exports_field_names_are_understood(tmp_path):
    record = {
        "headline": "Tram line opens",
        "body": "The tram opened on Monday.\n\nIt runs every six minutes.",
        "published": "2024-03-14T09:00:00Z",
        "link": "https://example.org/tram",
    }
    [article] = load_articles(write_jsonl(tmp_path, record)).articles
    assert (article.title, article.date, article.source) == (
        "Tram line opens",
        "2024-03-14",
        "https://example.org/tram",
    )
    assert article.paragraphs == ("The tram opened on Monday.", "It runs every six minutes.")
    [content] = load_articles(write_jsonl(tmp_path, {"content": "Only content here, no title."})).articles
    assert content.paragraphs == ("Only content here, no title.",)


def test_a_title_only_brief_is_its_title(tmp_path):
    brief = {"title": "CROWN FUTURES CLOSE HIGHER", "date": "1987-03-12", "text": ""}
    [article] = load_articles(write_jsonl(tmp_path, brief)).articles
    assert article.paragraphs == ("CROWN FUTURES CLOSE HIGHER",)


def test_an_archive_over_the_single_file_limit_streams_and_an_oversized_line_is_skipped(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 400)  # per line for JSONL; the file may be any size
    records = [
        {"title": f"Report {i}", "text": f"Story number {i} says prices held at {i} crowns."}
        for i in range(40)
    ]
    records.insert(7, {"title": "Too long", "text": "word " * 200})
    report = load_articles(write_jsonl(tmp_path, *records))
    assert (tmp_path / "wire.jsonl").stat().st_size > 4 * 400
    assert len(report.articles) == 40
    assert [s.reason for s in report.skipped] == ["line 8: line is over the 400-byte limit"]
    assert report.articles[-1].article_id == "wire.jsonl#41"


def test_plain_text_files_are_rejoined_too_but_markdown_keeps_its_lines(tmp_path):
    (tmp_path / "wire.txt").write_text("Crop review\n\n" + WIRE_TEXT, encoding="utf-8")
    (tmp_path / "notes.md").write_text(
        "---\ntitle: Notes\n---\nA list:\n\n    indented code stays one block\n", encoding="utf-8"
    )
    by_id = {a.article_id: a for a in load_articles(tmp_path).articles}
    assert len(by_id["wire.txt"].paragraphs) == 3 and by_id["wire.txt"].title == "Crop review"
    assert by_id["notes.md"].paragraphs == ("A list:", "indented code stays one block")
