"""bench/reuters.py: the whole run (index in a child, eval, figures) on a small wire archive written here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Four stories in the Reuters-21578 JSONL shape (hard-wrapped, indented paragraphs, a dateline, a
# "Reuter" sign-off), invented for this test; the third updates the second's figure.
STORIES = [
    {
        "id": "w-1",
        "title": "VALMORA OPENS GREEN LINE TRAM",
        "date": "1987-03-02T10:00:00",
        "dateline": "VALMORA, March 2 -",
        "text": "The city of Valmora opened its Green\nLine tram on Monday after four years of\nworks.\n"
        "    The line cost 412 mln dlrs, of which\n160 mln dlrs came from a regional grant,\n"
        "the mayor said.\n Reuter\n",
    },
    {
        "id": "w-2",
        "title": "HARBOUR STRIKE IDLES 300 DOCKERS",
        "date": "1987-03-03T09:00:00",
        "dateline": "PORTSEA, March 3 -",
        "text": "About 300 dockers stopped work at\nPortsea harbour in a dispute over pay,\n"
        "the union said.\n Reuter\n",
    },
    {
        "id": "w-3",
        "title": "PORTSEA STRIKE SPREADS",
        "date": "1987-03-09T09:00:00",
        "dateline": "PORTSEA, March 9 -",
        "text": "The strike at Portsea harbour spread\nto 1,200 dockers today, the union said.\n"
        "    Talks with the port authority are set\nfor Friday.\n Reuter\n",
    },
    {
        "id": "w-4",
        "title": "COCOA ARRIVALS RISE",
        "date": "1987-03-04T15:00:00",
        "dateline": "SALVADOR, March 4 -",
        "text": "Cocoa arrivals in the Bahia zone rose to\n155,221 bags in the week, "
        "exporters said.\n Reuter\n",
    },
]
QUESTIONS = [
    {
        "id": "tram-cost",
        "question": "How much did the Green Line tram cost?",
        "answers": ["412 mln dlrs"],
        "source": "wire.jsonl#1",
    },
    {
        "id": "cocoa-week",
        "question": "How many bags of cocoa arrived in the Bahia zone?",
        "answers": ["155,221 bags", "155,221"],
        "source": "wire.jsonl#4",
        "from": "1987-03-04",
        "to": "1987-03-04",
    },
    {"id": "none", "question": "Who won the chess championship in Valmora?", "answers": []},
]


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bench.reuters", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_indexes_answers_and_prints_the_figures(tmp_path):
    from qa.ingest.articles import load_article_file

    corpus = _write_jsonl(tmp_path / "wire.jsonl", STORIES)
    questions = _write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    store, out = tmp_path / "index", tmp_path / "eval"
    done = _bench(
        "--corpus",
        str(corpus),
        "--questions",
        str(questions),
        "--store",
        str(store),
        "--out",
        str(out),
        "--nice",
        "0",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])

    passages = sum(len(article.paragraphs) for article in load_article_file(corpus))
    assert figures["reuters_index_articles"] == 4 and figures["reuters_index_passages"] == passages
    assert figures["reuters_index_passages_per_s"] == pytest.approx(
        passages / figures["reuters_index_seconds"], rel=0.05
    )
    assert 0.05 < figures["reuters_index_peak_rss_gib"] < 16  # the child's peak, not this process's
    assert figures["reuters_index_size_mib"] > 0 and not figures["reuters_index_rebuilt"]
    assert (
        figures["reuters_questions"] == 3
        and figures["reuters_answerable"] == 2
        and figures["reuters_no_answer_questions"] == 1
    )
    # asked about 4 March only: answered, and cited from that day's story
    record = next(
        json.loads(line)
        for line in (out / "predictions.jsonl").read_text().splitlines()
        if '"cocoa-week"' in line
    )
    assert record["filter"] == {"from": "1987-03-04", "to": "1987-03-04"} and all(
        p.startswith("wire.jsonl#4::") for p in record["read"]
    )
    assert record["exact_match"] == 1.0 and record["cites_source"], record["answer"]
    assert (
        figures["reuters_citations_right"]
        <= figures["reuters_questions_right"] + figures["reuters_no_answers_right"]
    )
    assert figures["reuters_answered_from_source"] >= 1 and figures["reuters_answer_p50_ms"] > 0
    assert "tram-cost" in done.stdout  # the per-question table

    # a second run over the same store builds it again from scratch: the figures are of a whole build
    again = _bench(
        "--corpus",
        str(corpus),
        "--questions",
        str(questions),
        "--store",
        str(store),
        "--out",
        str(out),
        "--nice",
        "0",
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["reuters_index_rebuilt"] is True


def test_missing_corpus_is_one_line_and_exit_2(tmp_path):
    done = _bench("--corpus", str(tmp_path / "absent.jsonl"), "--store", str(tmp_path / "index"))
    assert done.returncode == 2
    assert (
        done.stderr.startswith("error: ")
        and "absent.jsonl: no such file" in done.stderr
        and "Traceback" not in done.stderr
    )
