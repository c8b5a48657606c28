"""bench/no_answer_signals.py: the signals of an answer, the two fitted decisions, and a real run."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a folder of the checkout, not an installed package
    sys.path.insert(0, str(ROOT))

from bench.no_answer_signals import (  # noqa: E402
    Outcome,
    answer_all,
    best_margin,
    by_decision,
    by_margin,
    f1_of,
    fit_model,
)
from bench.threshold_curves import shipped_threshold  # noqa: E402
from qa.answer.signals import SIGNALS, signals_of, type_mismatch  # noqa: E402
from qa.store.local.build import build_index  # noqa: E402
from qa.types import Answer, Citation, Hit, Passage  # noqa: E402


def _passage(pid: str, article: str, text: str, place: str | None = None) -> Passage:
    return Passage(
        passage_id=pid,
        article_id=article,
        title="Headline",
        date="1987-04-02",
        place=place,
        source=f"https://{article}.example",
        path="",
        paragraph=0,
        text=text,
    )


def _cite(passage: Passage, start: int, end: int) -> Citation:
    return Citation(
        passage.passage_id,
        passage.article_id,
        passage.title,
        passage.date,
        passage.source,
        0,
        start,
        end,
        "",
        0.0,
    )


def test_signals_name_agreement_rank_dateline_and_answer_type():
    lead = _passage("a::0.0", "a", "BRASILIA, April 2 - The party met.", place="Brasilia")
    other = _passage("b::0.0", "b", "BRASILIA was quiet.")
    hits = [Hit(other, 0.9, 0), Hit(lead, 0.7, 1)]
    answer = Answer(
        "What is the name of Brazil's leading political party?",
        "BRASILIA",
        confidence=0.8,
        no_answer_score=0.1,
        reader="test",
        citations=(_cite(lead, 0, 8), _cite(other, 0, 8)),
        alternatives=(Answer("q", "PMDB", 0.3, 0.1, "test", ()),),
    )
    signals = dict(zip(SIGNALS, signals_of(answer.question, answer, hits)))
    assert signals["margin"] == pytest.approx(-0.7)
    assert signals["lead"] == pytest.approx(0.5)
    assert signals["articles"] == 2.0
    # The best-ranked passage giving it is `other` (rank 0), whose first words are not a dateline.
    assert (signals["rank"], signals["passage_score"], signals["dateline"]) == (0.0, 0.9, 0.0)
    only_lead = Answer("q", "BRASILIA", 0.8, 0.1, "test", (_cite(lead, 0, 8),))
    assert dict(zip(SIGNALS, signals_of("Which party?", only_lead, hits)))["dateline"] == 1.0
    unread = Answer("q", "BRASILIA", 0.8, 0.1, "test", (_cite(_passage("c::0.0", "c", "BRASILIA."), 0, 8),))
    unread_signals = dict(zip(SIGNALS, signals_of("Which party?", unread, hits)))
    assert (unread_signals["rank"], unread_signals["passage_score"]) == (2.0, 0.0)  # below every hit read
    assert type_mismatch("How many PW4000 engines did Swissair order?", "fifth")
    assert not type_mismatch("How many PW4000 engines did Swissair order?", "up to 69")
    assert type_mismatch("When does the ban take effect?", "Oslo")
    assert not type_mismatch("When does the ban take effect?", "late September")


def _outcomes(seed: int, n: int) -> list[Outcome]:
    """Margins that say nothing; the number of agreeing articles says whether the span is right."""
    rng = random.Random(seed)
    outcomes = []
    for i in range(n):
        right = rng.random() < 0.5
        signals = [0.0] * len(SIGNALS)
        signals[0] = rng.uniform(-1, 1)  # margin
        signals[4] = 3.0 if right else 1.0  # articles
        outcomes.append(Outcome(f"q{i}", right, 1.0 if right else 0.0, tuple(signals)))
    return outcomes


def test_the_signals_model_learns_a_signal_the_margin_lacks_and_keeps_it_on_new_questions():
    tune, measure = [_outcomes(1, 200), _outcomes(2, 50)], _outcomes(3, 200)
    model = fit_model(tune)
    assert f1_of(measure, by_decision(model, measure)) == 100.0
    assert f1_of(measure, by_margin(measure, best_margin(tune))) < 75.0


def test_f1_counts_a_decline_right_only_for_a_question_without_an_answer():
    outcomes = [Outcome("a", True, 0.5, (0.0,) * len(SIGNALS)), Outcome("b", False, 0.0, None)]
    assert f1_of(outcomes, [True, True]) == pytest.approx(75.0)  # b has no span: declined whatever
    assert f1_of(outcomes, [False, False]) == pytest.approx(50.0)


@pytest.mark.slow
def test_a_real_run_over_the_sample_articles_scores_every_question(
    tmp_path, sample_articles_dir, embedder, repo_root
):
    build_index(sample_articles_dir, tmp_path / "index", embedder)
    questions = repo_root / "qa" / "sample_questions.json"
    outcomes = answer_all(questions, str(tmp_path / "index"), "bundled", None)
    assert len(outcomes) == len(json.loads(questions.read_text(encoding="utf-8")))
    assert all(o.signals is not None and len(o.signals) == len(SIGNALS) for o in outcomes)
    # The bundled reader at its shipped threshold gets all 12 sample questions right (docs/reader.md):
    # the 10 answerable ones' best spans are the answers, the 2 others are declined by their margin.
    assert sum(o.f1_answered == 1.0 for o in outcomes) == sum(o.has_answer for o in outcomes) == 10
    assert f1_of(outcomes, by_margin(outcomes, shipped_threshold())) == 100.0
