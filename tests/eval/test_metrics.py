"""Metric functions against hand-computed cases (SQuAD 2.0 rules)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.eval.metrics import (
    FALSE_ANSWER,
    FALSE_NO_ANSWER,
    READER_MISS,
    RETRIEVAL_MISS,
    classify_error,
    contains_answer,
    exact_match,
    f1_score,
    first_answer_rank,
    mean_reciprocal_rank,
    percentile,
    recall_at_k,
    summarize,
    threshold_sweep,
)


@pytest.mark.parametrize(
    "prediction, gold",
    [
        ("The Eiffel Tower", "eiffel tower"),  # article and case
        ("an apple", "Apple"),
        ("Denver Broncos.", "Denver Broncos"),  # punctuation
        ("  Denver \n Broncos ", "Denver Broncos"),  # whitespace
        ("U.S.", "US"),  # punctuation inside a word goes too
        ("“Hamlet”", '"Hamlet"'),  # curly quotes, which the project adds to SQuAD's set
        ("the the cat", "cat"),
    ],
)
def test_exact_match_after_squad_normalisation(prediction, gold):
    assert exact_match(prediction, [gold]) == 1.0


def test_articles_are_only_removed_as_whole_words():
    assert exact_match("theatre", ["atre"]) == 0.0
    assert exact_match("Anthem", ["them"]) == 0.0


def test_f1_hand_computed():
    # pred tokens [big, red, dog] vs gold [red, dog]: P = 2/3, R = 1, F1 = 0.8
    assert f1_score("the big red dog", ["red dog"]) == pytest.approx(0.8)
    # repeated tokens count once each: [x, x, y] vs [x, y] overlap 2 -> P 2/3, R 1
    assert f1_score("x x y", ["x y"]) == pytest.approx(0.8)
    assert f1_score("cat", ["dog"]) == 0.0


def test_multiple_golds_take_the_best():
    golds = ["Broncos", "Carolina Panthers", "Denver Broncos"]
    assert exact_match("denver broncos", golds) == 1.0
    # vs "Broncos": P 1/2, R 1 -> 2/3; vs the others lower
    assert f1_score("Denver Broncos", ["Broncos", "Carolina Panthers"]) == pytest.approx(2 / 3)


def test_unanswerable_scores_one_only_for_null():
    assert exact_match(None, []) == 1.0
    assert f1_score(None, []) == 1.0
    assert exact_match("Paris", []) == 0.0
    assert f1_score("Paris", []) == 0.0
    # an answer that normalises to nothing is as good as null (official script: '' == '')
    assert exact_match("the", []) == 1.0


def test_null_prediction_on_answerable_scores_zero():
    assert exact_match(None, ["Paris"]) == 0.0
    assert f1_score(None, ["Paris"]) == 0.0


def test_gold_that_normalises_to_nothing_does_not_count():
    # As the official script: such golds are dropped, and with none left the question is unanswerable.
    assert exact_match(None, ["the", "."]) == 1.0
    assert exact_match("Paris", ["the", "Paris"]) == 1.0


def test_contains_answer_matches_whole_normalised_words():
    assert contains_answer("It cost 100 million.", ["100 million"])
    assert not contains_answer("It cost 100 million.", ["10"])
    assert not contains_answer("a party", ["art"])
    assert contains_answer("Born in Saint-Denis, France.", ["saint-denis"])
    assert contains_answer("THE CAPITAL IS PARIS", ["the capital is Paris"])
    assert not contains_answer("anything", [])


def test_ranks_recall_and_mrr():
    assert first_answer_rank(["no", "yes Paris", "Paris again"], ["paris"]) == 1
    assert first_answer_rank(["no"], ["paris"]) is None
    ranks = [0, 2, None, 1]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 3) == 0.75
    assert recall_at_k(ranks, 10) == 0.75
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert recall_at_k([], 5) == 0.0 and mean_reciprocal_rank([]) == 0.0


def test_percentile_matches_numpy():
    values = [12.0, 1.0, 7.5, 3.0, 100.0, 4.0]
    for q in (0, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([1, 2, 3, 4], 50) == 2.5


def test_error_classes():
    assert classify_error("Paris", ["Paris"], True) is None
    assert classify_error(None, [], False) is None
    assert classify_error("Lyon", [], False) == FALSE_ANSWER
    assert classify_error("Lyon", ["Paris"], False) == RETRIEVAL_MISS
    assert classify_error(None, ["Paris"], False) == RETRIEVAL_MISS  # retrieval is blamed first
    assert classify_error(None, ["Paris"], True) == FALSE_NO_ANSWER
    assert classify_error("Lyon", ["Paris"], True) == READER_MISS
    assert classify_error("in Paris France", ["Paris"], True) == READER_MISS  # partial credit is still wrong


def test_threshold_sweep_hand_computed():
    # (margin, candidate EM, candidate F1, has_answer); answered at threshold t when -margin <= t.
    rows = [
        (0.6, 1.0, 1.0, True),  # confident and right
        (0.1, 0.0, 0.5, True),  # half right
        (-0.3, 0.0, 0.0, False),  # unanswerable, lowish margin
        (-0.5, 1.0, 1.0, True),  # right but unsure
        (None, 0.0, 0.0, False),  # no span at all: always null, always right
    ]
    sweep = threshold_sweep(rows)
    by_answered = {p.answered: p for p in sweep.points}
    # nobody answered: the two unanswerable questions are right
    assert by_answered[0].exact_match == pytest.approx(40.0)
    # first two answered (t between -0.1 and 0.3): EM (1+0+1+0+1)/5, F1 (1+.5+1+0+1)/5
    assert by_answered[2].exact_match == pytest.approx(60.0)
    assert by_answered[2].f1 == pytest.approx(70.0)
    # everything answered: the unanswerable one is wrong, the unsure one is right
    assert by_answered[4].f1 == pytest.approx((1 + 0.5 + 0 + 1 + 1) / 5 * 100)
    # F1 ties between 2 and 4 answered: the lower, more cautious threshold wins
    assert sweep.best_f1.answered == 2 and sweep.best_f1.f1 == pytest.approx(70.0)
    assert sweep.best_f1.threshold == pytest.approx((-0.1 + 0.3) / 2)
    # the reported threshold lies strictly between flip values, so it decides the same way
    assert -0.1 < by_answered[2].threshold < 0.3


def test_threshold_sweep_ties_flip_together_and_empty_input():
    sweep = threshold_sweep([(0.2, 1.0, 1.0, True), (0.2, 0.0, 0.0, False)])
    assert [p.answered for p in sweep.points] == [0, 2]
    assert threshold_sweep([]).best_f1.f1 == 0.0
    only_null = threshold_sweep([(None, 0.0, 0.0, False)])
    assert only_null.best_f1.f1 == 100.0


def _record(**fields):
    record = {
        "id": "q",
        "has_answer": True,
        "answer": "Paris",
        "exact_match": 1.0,
        "f1": 1.0,
        "error_class": None,
        "margin": 0.4,
        "candidate_exact_match": 1.0,
        "candidate_f1": 1.0,
        "answer_rank": 0,
        "read_answer_rank": 0,
        "confidence": 0.9,
        "timings_ms": {"retrieve_ms": 10.0, "read_ms": 20.0, "total_ms": 31.0},
    }
    record.update(fields)
    return record


def test_summarize_hand_computed():
    records = [
        _record(id="a"),
        _record(
            id="b",
            answer="Lyon",
            exact_match=0.0,
            f1=0.5,
            error_class=READER_MISS,
            answer_rank=2,
            read_answer_rank=None,
            candidate_exact_match=0.0,
            candidate_f1=0.5,
        ),
        _record(
            id="c",
            answer=None,
            exact_match=0.0,
            f1=0.0,
            error_class=RETRIEVAL_MISS,
            answer_rank=None,
            read_answer_rank=None,
            margin=-0.2,
            candidate_exact_match=0.0,
            candidate_f1=0.0,
        ),
        _record(
            id="d",
            has_answer=False,
            answer=None,
            exact_match=1.0,
            f1=1.0,
            answer_rank=None,
            read_answer_rank=None,
            margin=-0.4,
            candidate_exact_match=0.0,
            candidate_f1=0.0,
            timings_ms={"retrieve_ms": 30.0, "read_ms": 40.0, "total_ms": 71.0},
        ),
    ]
    m = summarize(records, k=2, no_answer_threshold=0.0)
    assert m["n"] == 4 and m["n_has_answer"] == 3 and m["n_no_answer"] == 1
    assert m["exact_match"] == 50.0
    assert m["f1"] == pytest.approx(62.5)
    assert m["has_ans_exact_match"] == pytest.approx(33.33)
    assert m["has_ans_f1"] == 50.0
    assert m["no_ans_accuracy"] == 100.0
    # ranks over answerable: [0, 2, None]
    assert m["retrieval_recall_at_k"] == {
        "1": pytest.approx(33.33),
        "2": pytest.approx(33.33),
        "3": pytest.approx(66.67),
        "5": pytest.approx(66.67),
        "10": pytest.approx(66.67),
    }
    assert m["mrr"] == pytest.approx((1 + 1 / 3) / 3, abs=1e-4)
    # only "a" had the answer in a passage the reader saw
    assert m["reader_exact_match_when_retrieved"] == 100.0
    assert m["latency_ms"]["total"]["p50"] == 31.0
    assert m["latency_ms"]["read"]["p95"] == pytest.approx(37.0)
    assert m["errors"] == {
        "correct": 2,
        "retrieval_miss": 1,
        "reader_miss": 1,
        "false_no_answer": 0,
        "false_answer": 0,
    }
    assert m["no_answer_threshold"]["used"] == 0.0
    assert "source_recall_at_k" not in m


def test_sweep_at_the_used_threshold_reproduces_the_run():
    # Decisions taken at threshold 0 by the pipeline rule; the sweep point there must give the same F1.
    rng = np.random.default_rng(0)
    records = []
    for _ in range(60):
        has = bool(rng.random() < 0.6)
        margin = float(np.round(rng.normal(0, 0.3), 6))
        cand_f1 = float(rng.choice([0.0, 0.5, 1.0])) if has else 0.0
        answered = -margin <= 0.0
        f1 = (cand_f1 if answered else 0.0) if has else (0.0 if answered else 1.0)
        records.append((margin, float(cand_f1 == 1.0), cand_f1, has, f1))
    sweep = threshold_sweep([r[:4] for r in records])
    expected = 100 * sum(r[4] for r in records) / len(records)
    point = max((p for p in sweep.points if p.threshold <= 0.0), key=lambda p: p.threshold)
    assert point.f1 == pytest.approx(expected)
    assert sweep.best_f1.f1 >= expected
