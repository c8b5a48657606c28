"""Hybrid ranking: a dense and a keyword ranking of the same passages fused into one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa import config


def fuse_scores(
    ids: Sequence[int] | np.ndarray,
    dense_scores: Sequence[float] | np.ndarray,
    keyword_scores: Sequence[float] | np.ndarray,
    dense_weight: float = config.DENSE_WEIGHT,
) -> list[tuple[int, float]]:
    """Convex combination of the two scores of each candidate, normalised over the candidates; best first.

    Cosines are min-max scaled (so the fusion does not depend on the range a given embedder's
    cosines fall in). BM25 is divided by the best candidate's BM25: a passage with none of the
    query's words gets no keyword credit, and near-equal BM25 scores stay near-equal instead of
    being stretched over 0..1 (a word found in every passage of a tiny corpus decides nothing).
    Fused scores lie in [0, 1].

    Example:
        >>> fuse_scores([7, 8, 9], [0.80, 0.60, 0.40], [0.0, 6.0, 3.0], dense_weight=0.6)
        [(8, 0.7), (7, 0.6), (9, 0.2)]
    """
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) == 0:
        return []
    dense_scores = np.asarray(dense_scores, dtype=np.float64)
    keyword_scores = np.asarray(keyword_scores, dtype=np.float64)
    low, high = float(dense_scores.min()), float(dense_scores.max())
    dense_part = (dense_scores - low) / (high - low) if high > low else np.ones_like(dense_scores)
    best = float(keyword_scores.max())
    keyword_part = np.clip(keyword_scores / best, 0.0, 1.0) if best > 0 else np.zeros_like(keyword_scores)
    fused = dense_weight * dense_part + (1.0 - dense_weight) * keyword_part
    order = np.lexsort((ids, -fused))
    return [(int(ids[i]), round(float(fused[i]), 6)) for i in order]


def with_article_scores(
    ranked: Sequence[tuple[int, float]], article_ids: Sequence[str], passage_weight: float
) -> list[tuple[int, float]]:
    """Each passage scored with its article's best passage: passage_weight * own score plus the rest
    times the best score among the ranked passages of the same article; best first.

    Why: a news story's lead paragraph repeats the question's words, and the paragraph below it that
    holds the answer ("net profit rose to 41.1 mln dlrs") shares few of them, so a passage ranking
    reads the leads of five similar stories instead of the rest of the one the question is about.
    Giving each passage some of its article's score lets the best story's other paragraphs past
    other stories' leads (BERTserini mixes article and paragraph scores for the same reason).
    `article_ids` are those of `ranked`, in its order. Weight 1 keeps the ranking as it is.

    Example:
        >>> with_article_scores([(1, 0.9), (2, 0.7), (3, 0.5)], ["a", "b", "a"], 0.4)
        [(1, 0.9), (3, 0.74), (2, 0.7)]
    """
    if passage_weight >= 1.0:
        return list(ranked)
    best: dict[str, float] = {}
    for (_, score), article in zip(ranked, article_ids):
        best[article] = max(best.get(article, score), score)
    blended = [
        (row, round(passage_weight * score + (1.0 - passage_weight) * best[article], 6), position)
        for position, ((row, score), article) in enumerate(zip(ranked, article_ids))
    ]
    # Ties keep the passage ranking's order: the article's own best passage stays first.
    blended.sort(key=lambda item: (-item[1], item[2]))
    return [(row, score) for row, score, _ in blended]


def fuse_rankings(
    rankings: Sequence[tuple[float, Sequence[tuple[int, float]]]], rrf_k: float = config.RRF_K
) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion of several rankings of passage ids; best first.

    Example:
        >>> fuse_rankings([(1.0, [(1, 0.9), (2, 0.8)]), (1.0, [(2, 7.0)])], rrf_k=0.0)
        [(2, 1.5), (1, 1.0)]
    """
    fused: dict[int, float] = {}
    for weight, ranking in rankings:
        for rank, (passage_id, _score) in enumerate(ranking, start=1):
            fused[passage_id] = fused.get(passage_id, 0.0) + weight / (rrf_k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
