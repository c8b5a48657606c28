"""Tests for qa/ingest/inspect.py (`qa inspect`), and the extraction measured on ../shared's pages."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest
from web_pages import STORY, article_page

from qa.cli import main

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpora" / "article-extraction"


def test_json_gives_one_object_per_article_and_line(tmp_path, capsys):
    (tmp_path / "pier.html.gz").write_bytes(gzip.compress(article_page().encode()))
    (tmp_path / "note.md").write_text("---\ntitle: Note\ndate: 2024-02-03\n---\n\nThe ferry runs again.\n")
    assert main(["inspect", "--json", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["id"] for o in objects] == ["note.md", "pier.html.gz"]
    pier = objects[1]
    assert pier["title"] == "Harbour board approves the rebuilding of the north pier"
    assert pier["date"] == "2024-05-14"
    assert pier["source"] == "https://news.example.org/valmora/north-pier-rebuild"
    assert pier["paragraphs"] == list(STORY)


def test_terminal_form_shows_fields_paragraphs_and_what_was_dropped(tmp_path, capsys):
    body = (*STORY[:2], "Read more: Lighthouse keeper retires after forty years", *STORY[2:])
    (tmp_path / "pier.html").write_text(article_page(body))
    assert main(["inspect", str(tmp_path / "pier.html")]) == 0
    out = capsys.readouterr().out
    assert "title:  Harbour board approves the rebuilding of the north pier" in out
    assert "date:   2024-05-14" in out
    assert f"  [1] {STORY[0]}" in out
    assert (
        "dropped (teaser for another article): Read more: Lighthouse keeper retires after forty years" in out
    )


def test_a_skipped_file_is_one_warning_and_exit_status_1(tmp_path, capsys, caplog):
    (tmp_path / "good.html").write_text(article_page())
    (tmp_path / "cut.html.gz").write_bytes(gzip.compress(article_page().encode())[:200])
    assert main(["inspect", "--json", str(tmp_path)]) == 1
    assert len(capsys.readouterr().out.splitlines()) == 1
    # `qa` logs warnings to stderr; under pytest the log capture holds them
    warnings = [r.getMessage() for r in caplog.records if "cut.html.gz" in r.getMessage()]
    assert len(warnings) == 1 and "truncated gzip file" in warnings[0]


def test_a_missing_path_is_exit_status_2(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "ground-truth.json").is_file(), reason="needs ../shared/corpora")
def test_extraction_on_the_shared_pages_beats_trafilatura_defaults():
    """The 120 pages of the article-extraction benchmark, scored as bench/extraction.py scores them."""
    if str(ROOT) not in sys.path:  # `bench` is a folder of the checkout, not an installed package
        sys.path.insert(0, str(ROOT))
    from bench.extraction import score
    from qa.ingest.articles import load_articles

    truth = {k: v["articleBody"] for k, v in json.loads((CORPUS / "ground-truth.json").read_text()).items()}
    report = load_articles(CORPUS / "html")
    assert report.skipped == ()
    ours = {Path(a.article_id).name.split(".")[0]: "\n".join(a.paragraphs) for a in report.articles}
    precision, recall, f1, _ = score(truth, ours)
    assert f1 >= 0.965 and precision >= 0.965 and recall >= 0.97
    assert all(a.title for a in report.articles)
    assert sum(1 for a in report.articles if a.date) >= 115
