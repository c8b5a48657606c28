"""qa/answer/decision.py and its use: the no-answer decision over several signals, shipped per reader."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from qa import config
from qa.answer.decision import DECISION_FILE, SignalDecision, load_decision
from qa.answer.signals import SIGNALS
from qa.pipeline import QAPipeline, answer_from, compose_answer
from qa.store.local.build import build_index
from qa.types import Hit, Passage, Query, ReaderResult, SpanCandidate


def _decision(bias: float, **changes) -> SignalDecision:
    """A decision that weighs nothing but its bias: P(answer) = sigmoid(bias) for every answer."""
    n = len(SIGNALS)
    fields = dict(
        signals=SIGNALS,
        weights=(0.0,) * n,
        bias=bias,
        mean=(0.0,) * n,
        scale=(1.0,) * n,
        cut=0.5,
        k=5,
        mode="hybrid",
        tuned_on="test",
    )
    return SignalDecision(**{**fields, **changes})


def _tram() -> tuple[list[Hit], ReaderResult]:
    passage = Passage(
        passage_id="a.md::0.0",
        article_id="a.md",
        title="Tram",
        date="2024-03-14",
        place=None,
        source="https://example.org/a",
        path="a.md",
        paragraph=0,
        text="The tram cost 412 million euros.",
    )
    result = ReaderResult(
        "bundled:test", (SpanCandidate("a.md::0.0", 14, 31, "412 million euros", 0.4),), no_answer_score=0.5
    )
    return [Hit(passage, 0.9, 0)], result


def test_a_decision_answers_or_declines_whatever_the_margin_says():
    hits, result = _tram()
    # The margin rule at 0.0 declines (0.5 - 0.4 > 0): the decision, not the threshold, decides.
    margin_only = compose_answer("Cost?", hits, result, no_answer_threshold=0.0, search_query="Cost?")
    assert margin_only.answer is None
    answered = compose_answer(
        "Cost?", hits, result, no_answer_threshold=0.0, search_query="Cost?", decision=_decision(5.0)
    )
    assert answered.answer == "412 million euros" and answered.citations[0].start == 14
    refused = compose_answer(
        "Cost?", hits, result, no_answer_threshold=1.0, search_query="Cost?", decision=_decision(-5.0)
    )
    assert refused.answer is None and refused.confidence is None
    # Declined as the threshold declines: the closest passage cited without a span, the span kept.
    assert refused.citations[0].start is None and refused.alternatives[0].answer == "412 million euros"
    assert refused.too_weak_to_give is False  # its span scored under "no answer" (0.4 < 0.5)


def test_a_decision_round_trips_and_refuses_other_signals_or_broken_numbers(tmp_path, caplog):
    decision = _decision(0.3)
    assert SignalDecision.from_dict(json.loads(json.dumps(decision.to_dict()))) == decision
    with pytest.raises(ValueError, match="fitted on signals"):
        _decision(0.0, signals=SIGNALS[:-1])
    with pytest.raises(ValueError, match="one finite value per signal"):
        _decision(0.0, scale=(0.0,) * len(SIGNALS))
    assert load_decision(tmp_path) is None  # none shipped: the threshold decides
    (tmp_path / DECISION_FILE).write_text('{"signals": ["margin"]}', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert load_decision(tmp_path) is None
    assert "the no-answer threshold decides instead" in caplog.text


def test_the_bundled_reader_ships_a_decision_fitted_at_k5_hybrid():
    decision = load_decision(config.BUNDLED_READER_DIR)
    assert decision is not None and decision.signals == SIGNALS
    assert decision.applies_to(5, "hybrid") and not decision.applies_to(3, "hybrid")
    assert not decision.applies_to(5, "dense")


@pytest.mark.slow
def test_the_pipeline_decides_with_it_only_where_no_threshold_was_chosen(
    tmp_path, sample_articles_dir, embedder
):
    build_index(sample_articles_dir, tmp_path / "index", embedder)
    shipped = QAPipeline.load(tmp_path / "index", reader="bundled")
    assert shipped.decision(5, "hybrid") == load_decision(config.BUNDLED_READER_DIR)
    assert shipped.decision(3, "hybrid") is None and shipped.decision(5, "keyword") is None
    chosen = QAPipeline(shipped.store, shipped.embedder, shipped.reader, no_answer_threshold=-0.2)
    assert chosen.decision(5, "hybrid") is None  # a threshold someone gave wins
    assert shipped.decision(5, "hybrid", threshold_source="tuned by qa eval (runs/x)") is None
    # The sample questions, answered with the shipped decision: the answers and the declines hold.
    answer = shipped.ask("How much did the Green Line tram cost?")
    assert answer.answer == "412 million euros"
    never = dataclasses.replace(load_decision(config.BUNDLED_READER_DIR), bias=-60.0)
    shipped.reader.no_answer_decision = never
    assert shipped.ask("How much did the Green Line tram cost?").answer is None
    # A follow-up (words carried from the conversation) is decided by the margin: fitted on
    # questions that stand alone, the decision does not judge searches it never saw.
    follow_up = answer_from(
        shipped.retriever,
        shipped.reader,
        Query("And the tram?", context=("how much", "Green Line", "cost")),
        k=5,
        mode="hybrid",
        no_answer_threshold=shipped.threshold()[0],
        decision=never,
    )
    assert follow_up.answer.answer == "412 million euros"
