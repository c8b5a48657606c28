"""qa/report.py: the HTML report holds the figures, the plots and the examples, escaped."""

from __future__ import annotations

import re
import xml.dom.minidom

from qa.eval.metrics import summarize
from qa.eval.report import render_report, write_report


def _record(i, *, has=True, answer="Paris", em=1.0, error=None, rank=0, margin=0.3, question=None):
    text = "The capital of France is Paris, a large city."
    start = text.find(answer) if answer else None
    return {
        "id": f"q{i}",
        "question": question or f"Question {i}?",
        "gold": ["Paris"] if has else [],
        "has_answer": has,
        "answer": answer,
        "confidence": 0.7 if answer else None,
        "reader": "bundled:test",
        "error_class": error,
        "exact_match": em,
        "f1": em,
        "no_answer_score": 0.4,
        "best_candidate": answer or "city",
        "best_candidate_confidence": 0.7,
        "margin": margin,
        "candidate_exact_match": em if answer else 0.0,
        "candidate_f1": em if answer else 0.0,
        "answer_rank": rank,
        "read_answer_rank": rank,
        "answer_passage": {"passage_id": "p1", "title": "France", "text": text} if rank is not None else None,
        "retrieved": ["p1"],
        "read": ["p1"],
        "timings_ms": {"retrieve_ms": 10.0 + i, "read_ms": 20.0 + i, "total_ms": 31.0 + 2 * i},
        "citations": [
            {
                "passage_id": "p1",
                "article_id": "a",
                "title": "France",
                "date": None,
                "source": "s",
                "paragraph": 0,
                "start": start,
                "end": start + len(answer) if answer else None,
                "text": text,
                "score": 0.5,
            }
        ],
    }


RECORDS = [
    _record(0),
    _record(1, answer="France", em=0.0, error="reader_miss", question="Which <b>city</b> & why?"),
    _record(2, answer=None, em=0.0, error="false_no_answer", margin=-0.1),
    _record(3, answer=None, em=0.0, error="retrieval_miss", rank=None, margin=None),
    _record(4, has=False, answer="large city", em=0.0, error="false_answer"),
    _record(5, has=False, answer=None, em=1.0, rank=None, margin=-0.5),
]


def _metrics(partial=False):
    config = {
        "k": 5,
        "retrieval_depth": 10,
        "questions": "dev.json",
        "reader": "bundled:test",
        "no_answer_threshold": 0.0,
    }
    return {
        **summarize(RECORDS, k=5, no_answer_threshold=0.0),
        "partial": partial,
        "questions_in_run": 8,
        "config": config,
    }


def test_report_holds_the_numbers_plots_and_examples(tmp_path):
    metrics = _metrics()
    path = write_report(tmp_path / "report.html", RECORDS, metrics, examples=30)
    page = path.read_text()
    assert f"{metrics['exact_match']:.1f}" in page and f"{metrics['f1']:.1f}" in page
    assert page.count("<svg") == 8  # recall, sweep, 2 score plots, 3 latency, outcomes
    for name in ("retrieval_miss", "reader_miss", "false_no_answer", "false_answer"):
        assert f"<b>{name}</b>: 1 questions, showing all 1" in page
    assert "<mark>France</mark>" in page  # the cited span of the wrong answer
    assert "Which &lt;b&gt;city&lt;/b&gt; &amp; why?" in page and "<b>city</b>" not in page
    assert "PARTIAL RUN" not in page
    assert "6 questions (also in predictions.jsonl)" in page


def test_every_svg_is_well_formed_xml():
    page = render_report(RECORDS, _metrics())
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        xml.dom.minidom.parseString(svg)


def test_partial_runs_say_so_and_examples_are_capped():
    page = render_report(RECORDS, _metrics(partial=True), examples=0)
    assert "PARTIAL RUN: 6 of 8 questions" in page
    assert "showing the first 0 of 1" in page


def test_report_survives_an_empty_run():
    page = render_report(
        [],
        {
            **summarize([], k=5, no_answer_threshold=0.0),
            "partial": True,
            "questions_in_run": 3,
            "config": {"k": 5},
        },
    )
    assert "PARTIAL RUN: 0 of 3" in page
