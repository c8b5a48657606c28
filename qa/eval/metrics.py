"""Evaluation metrics: SQuAD 2.0 EM/F1, retrieval recall@k and MRR, latency percentiles, threshold sweep."""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qa.answer.compose import normalize_answer

# Error classes, in the order a wrong answer is attributed (retrieval first: the reader never saw it).
RETRIEVAL_MISS = "retrieval_miss"  # answerable, and no read passage holds a gold answer
FALSE_NO_ANSWER = "false_no_answer"  # answerable, a read passage holds it, prediction null
READER_MISS = "reader_miss"  # answerable, a read passage holds it, prediction a wrong span
FALSE_ANSWER = "false_answer"  # unanswerable, prediction a span
ERROR_CLASSES = (RETRIEVAL_MISS, READER_MISS, FALSE_NO_ANSWER, FALSE_ANSWER)
RECALL_KS = (1, 3, 5, 10)
RETRIEVAL_DEPTH = max(RECALL_KS)  # passages retrieved per question; the top k of them are read
STAGES = ("retrieve", "read", "total")  # timings_ms keys are f"{stage}_ms"


def gold_answers(answers: Iterable[str]) -> list[str]:
    """The gold answers that count: those that do not normalise to nothing (as the official script)."""
    return [a for a in answers if normalize_answer(a)]


def exact_match(prediction: str | None, answers: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer.

    No gold answers means the question is unanswerable: only a null prediction scores.

    >>> exact_match("The Eiffel Tower!", ["eiffel tower"]), exact_match(None, [])
    (1.0, 1.0)
    """
    golds = gold_answers(answers)
    if not golds:
        return 1.0 if prediction is None or not normalize_answer(prediction) else 0.0
    if prediction is None:
        return 0.0
    predicted = normalize_answer(prediction)
    return float(any(predicted == normalize_answer(g) for g in golds))


def _token_f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = collections.Counter(predicted) & collections.Counter(expected)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(predicted), overlap / len(expected)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str | None, answers: Sequence[str]) -> float:
    """Token-overlap F1 after SQuAD normalisation, the best over the gold answers.

    >>> round(f1_score("the tower in Paris", ["Eiffel Tower"]), 3)
    0.4
    """
    golds = gold_answers(answers)
    if not golds:
        return 1.0 if prediction is None or not normalize_answer(prediction) else 0.0
    if prediction is None:
        return 0.0
    return max(_token_f1(prediction, g) for g in golds)


def contains_answer(passage_text: str, answers: Sequence[str]) -> bool:
    """Whether a normalised gold answer occurs in the normalised passage as whole words.

    Whole words, so that "10" is not found in "100" and "art" not in "party".
    """
    haystack = f" {normalize_answer(passage_text)} "
    return any(f" {normalize_answer(g)} " in haystack for g in gold_answers(answers))


def first_answer_rank(passage_texts: Sequence[str], answers: Sequence[str]) -> int | None:
    """0-based rank of the first passage holding a gold answer, or None when none does."""
    for rank, text in enumerate(passage_texts):
        if contains_answer(text, answers):
            return rank
    return None


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first answer-bearing passage is within the top k (ranks are 0-based)."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r < k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Mean of 1/(rank+1) for the first answer-bearing passage; 0 when none was retrieved."""
    if not ranks:
        return 0.0
    return sum(1.0 / (r + 1) for r in ranks if r is not None) / len(ranks)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def classify_error(
    prediction: str | None, answers: Sequence[str], answer_in_read_passages: bool
) -> str | None:
    """The error class of a prediction (see ERROR_CLASSES), or None when it is an exact match."""
    if exact_match(prediction, answers) == 1.0:
        return None
    if not gold_answers(answers):
        return FALSE_ANSWER
    if not answer_in_read_passages:
        return RETRIEVAL_MISS
    return FALSE_NO_ANSWER if prediction is None else READER_MISS


@dataclass(frozen=True)
class SweepPoint:
    threshold: float
    exact_match: float  # percent
    f1: float  # percent
    answered: int  # questions given a non-null answer at this threshold


@dataclass(frozen=True)
class ThresholdSweep:
    """EM/F1 as the no-answer threshold moves; the pipeline answers null when -margin > threshold."""

    points: tuple[SweepPoint, ...]  # by threshold, ascending
    best_f1: SweepPoint
    best_exact_match: SweepPoint


def threshold_sweep(rows: Sequence[tuple[float | None, float, float, bool]]) -> ThresholdSweep:
    """Sweep the no-answer threshold over every value at which a decision flips (SQuAD 2.0 style).

    Each row is (margin, candidate_em, candidate_f1, has_answer): margin = best span score minus
    no-answer score (None when the reader proposed no span at all), and the EM/F1 the best non-null
    candidate would score. At threshold t a question is answered when -margin <= t, the rule of
    `qa.answer.compose.assemble_answers`. Ties flip together, so every point is a threshold one can set.

    >>> sweep = threshold_sweep([(0.5, 1.0, 1.0, True), (-0.2, 0.0, 0.0, False)])
    >>> sweep.best_f1.threshold, sweep.best_f1.f1
    (-0.15, 100.0)
    """
    n = len(rows)
    if n == 0:
        empty = SweepPoint(0.0, 0.0, 0.0, 0)
        return ThresholdSweep((empty,), empty, empty)
    # Everyone null: unanswerable questions score 1, answerable ones 0.
    em = f1 = float(sum(1 for _m, _e, _f, has in rows if not has))
    flippable = sorted(
        (
            (-margin, (cand_em - (0.0 if has else 1.0)), (cand_f1 - (0.0 if has else 1.0)))
            for margin, cand_em, cand_f1, has in rows
            if margin is not None
        ),
        key=lambda r: r[0],
    )
    values = sorted({r[0] for r in flippable})
    # Report the midpoint between flip values (the edges get a 0.001 step), so a threshold read
    # from metrics.json gives the same decisions despite the rounding of the stored margins.
    edges = [values[0] - 0.002, *values, values[-1] + 0.002] if values else [-0.002, 0.002]
    points = [SweepPoint(round((edges[0] + edges[1]) / 2, 6), 100.0 * em / n, 100.0 * f1 / n, 0)]
    answered = 0
    i = 0
    for position, value in enumerate(values, start=1):
        while i < len(flippable) and flippable[i][0] == value:
            em += flippable[i][1]
            f1 += flippable[i][2]
            answered += 1
            i += 1
        threshold = (edges[position] + edges[position + 1]) / 2
        points.append(SweepPoint(round(threshold, 6), 100.0 * em / n, 100.0 * f1 / n, answered))
    # On a tie take the lowest threshold: the most cautious setting that scores as well.
    best_f1 = max(points, key=lambda p: (p.f1, -p.threshold))
    best_em = max(points, key=lambda p: (p.exact_match, -p.threshold))
    return ThresholdSweep(tuple(points), best_f1, best_em)


def percent(values: Sequence[float]) -> float | None:
    """Mean of 0/1 (or 0..1) values as a percentage with two decimals; None for no values."""
    return round(100.0 * sum(values) / len(values), 2) if values else None


def threshold_figures(records: Sequence[dict[str, Any]], no_answer_threshold: float) -> dict[str, Any]:
    """The threshold used and the best ones of the sweep over the records' margins (metrics.json's
    "no_answer_threshold"); each record has margin, candidate_exact_match, candidate_f1, has_answer."""
    sweep = threshold_sweep(
        [
            (r["margin"], r["candidate_exact_match"] or 0.0, r["candidate_f1"] or 0.0, r["has_answer"])
            for r in records
        ]
    )
    return {
        "used": no_answer_threshold,
        "best_f1": {
            "threshold": sweep.best_f1.threshold,
            "f1": round(sweep.best_f1.f1, 2),
            "exact_match": round(sweep.best_f1.exact_match, 2),
            "answered": sweep.best_f1.answered,
        },
        "best_exact_match": {
            "threshold": sweep.best_exact_match.threshold,
            "exact_match": round(sweep.best_exact_match.exact_match, 2),
            "f1": round(sweep.best_exact_match.f1, 2),
        },
    }


def latency_figures(records: Sequence[dict[str, Any]], stages: Sequence[str]) -> dict[str, dict[str, float]]:
    """p50, p95 and mean milliseconds of each stage whose f"{stage}_ms" the records' timings_ms hold."""
    return {
        stage: {
            "p50": round(percentile(values, 50), 1),
            "p95": round(percentile(values, 95), 1),
            "mean": round(sum(values) / len(values), 1),
        }
        for stage in stages
        if (values := [r["timings_ms"][f"{stage}_ms"] for r in records])
    }


def error_counts(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Questions per error class (ERROR_CLASSES), and the correct ones."""
    return {"correct": sum(1 for r in records if r["error_class"] is None)} | {
        name: sum(1 for r in records if r["error_class"] == name) for name in ERROR_CLASSES
    }


def summarize(records: Sequence[dict[str, Any]], *, k: int, no_answer_threshold: float) -> dict[str, Any]:
    """The metrics of a run (metrics.json less its configuration) from its prediction records.

    EM, F1, accuracies and recalls are percentages; MRR is in [0, 1]; latencies in milliseconds.
    Retrieval metrics count answerable questions only, over a RETRIEVAL_DEPTH (or k) deep list.
    """
    depth = max(RETRIEVAL_DEPTH, k)
    answerable = [r for r in records if r["has_answer"]]
    ranks = [r["answer_rank"] for r in answerable]
    retrieved = [r for r in answerable if r["read_answer_rank"] is not None]
    metrics: dict[str, Any] = {
        **answer_figures(records),
        # The reader on its own: answerable questions whose answer was in a passage it read.
        "reader_exact_match_when_retrieved": percent([r["exact_match"] for r in retrieved]),
        "reader_f1_when_retrieved": percent([r["f1"] for r in retrieved]),
        "retrieval_recall_at_k": {
            str(x): percent([1.0 if r is not None and r < x else 0.0 for r in ranks])
            for x in sorted({*RECALL_KS, k})
            if x <= depth
        },
        "mrr": round(mean_reciprocal_rank(ranks), 4) if ranks else None,
        "latency_ms": latency_figures(records, STAGES),
        "no_answer_threshold": threshold_figures(records, no_answer_threshold),
        "errors": error_counts(records),
    }
    sourced = [r for r in records if "source_rank" in r]
    if sourced:
        metrics["source_recall_at_k"] = {
            str(x): round(100.0 * recall_at_k([r["source_rank"] for r in sourced], x), 2)
            for x in sorted({*RECALL_KS, k})
            if x <= depth
        }
        metrics["citations"] = citation_figures(records)
    return metrics


def citation_figures(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Counts for "answered with the right citation", over the questions that name their sources.

    `right`: a gold answer (exact match) whose span is cited from an article the question names;
    `right_words`: a gold answer, cited from anywhere; `of`: answerable questions naming sources.
    `no_answer_right` of `no_answer_of`: questions without an answer left unanswered, which need no
    citation, so that `right + no_answer_right` counts the questions handled right end to end.
    """
    sourced = [r for r in records if r["has_answer"] and "cites_source" in r]
    unanswerable = [r for r in records if not r["has_answer"]]
    return {
        "right": sum(1 for r in sourced if r["exact_match"] == 1.0 and r["cites_source"]),
        "right_words": sum(1 for r in sourced if r["exact_match"] == 1.0),
        "of": len(sourced),
        "no_answer_right": sum(1 for r in unanswerable if r["exact_match"] == 1.0),
        "no_answer_of": len(unanswerable),
    }


def answer_figures(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts and the SQuAD 2.0 answer scores (percentages) of scored records, overall and split
    into answerable and unanswerable questions: what every evaluation mode reports first."""
    answerable = [r for r in records if r["has_answer"]]
    unanswerable = [r for r in records if not r["has_answer"]]
    return {
        "n": len(records),
        "n_has_answer": len(answerable),
        "n_no_answer": len(unanswerable),
        "exact_match": percent([r["exact_match"] for r in records]),
        "f1": percent([r["f1"] for r in records]),
        "has_ans_exact_match": percent([r["exact_match"] for r in answerable]),
        "has_ans_f1": percent([r["f1"] for r in answerable]),
        "no_ans_accuracy": percent([r["exact_match"] for r in unanswerable]),
    }


def answer_scores(answer: Any, no_answer_score: float, golds: Sequence[str]) -> dict[str, Any]:
    """The scored fields of one answer (an qa.types.Answer) against its gold answers.

    `best_candidate` is the best non-null answer even when the answer is null: the threshold
    sweep flips to it, and the forced-answer (SQuAD 1.1) figures score it.
    """
    best = answer if answer.answer is not None else (answer.alternatives[0] if answer.alternatives else None)
    candidate = best.answer if best is not None else None
    return {
        "answer": answer.answer,
        "confidence": answer.confidence,
        "reader": answer.reader,
        "exact_match": exact_match(answer.answer, golds),
        "f1": round(f1_score(answer.answer, golds), 6),
        "no_answer_score": round(no_answer_score, 6),
        "best_candidate": candidate,
        "best_candidate_confidence": best.confidence if best is not None else None,
        "margin": round(best.confidence - no_answer_score, 6) if best is not None else None,
        "candidate_exact_match": exact_match(candidate, golds) if candidate is not None else None,
        "candidate_f1": round(f1_score(candidate, golds), 6) if candidate is not None else None,
    }
