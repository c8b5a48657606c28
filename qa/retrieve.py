"""Question -> ranked hits: dense, keyword or both fused, filtered by metadata, near-duplicates folded."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import config, dense
from .embed import Embedder
from .index import LoadedIndex
from .types import Hit

# Reciprocal rank fusion: score = sum over rankings of weight / (RRF_K + rank), rank from 1.
RRF_K = 60.0
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.0
# How deep each ranking is read before fusion, as a multiple of k (and at least CANDIDATES_MIN).
CANDIDATES_PER_K = 8
CANDIDATES_MIN = 50
# Passages whose vectors are this similar say the same thing (syndicated copies, repeated quotes).
NEAR_DUPLICATE_COSINE = 0.95


@dataclass(frozen=True)
class SearchFilter:
    """Metadata filters. Dates are ISO strings compared as text; source matches URL, path or folder."""

    date_from: str | None = None
    date_to: str | None = None
    source: str | None = None

    @property
    def active(self) -> bool:
        return any(v for v in (self.date_from, self.date_to, self.source))


class Retriever:
    def __init__(self, index: LoadedIndex, embedder: Embedder):
        self.index = index
        self.embedder = embedder
        passages = index.passages
        # Filter columns, built once: a filtered question costs a vectorised comparison, not a scan.
        self._dates = np.array([p.date or "" for p in passages], dtype=str)
        self._sources = [f"{p.source}\n{p.path}".lower() for p in passages]

    def allowed_ids(self, search_filter: SearchFilter | None) -> np.ndarray | None:
        """Sorted ids of passages the filter lets through; None when there is no filter."""
        if search_filter is None or not search_filter.active:
            return None
        mask = np.ones(len(self._dates), dtype=bool)
        if search_filter.date_from:
            mask &= (self._dates != "") & (self._dates >= search_filter.date_from)
        if search_filter.date_to:
            # "2019-11" as an upper bound means the whole month: compare on the given prefix.
            # Truncating to the bound's length makes "2019-11" include the whole month.
            truncated = self._dates.astype(f"<U{len(search_filter.date_to)}")
            mask &= (self._dates != "") & (truncated <= search_filter.date_to)
        if search_filter.source:
            needle = search_filter.source.lower()
            mask &= np.fromiter((needle in s for s in self._sources), dtype=bool, count=len(self._sources))
        return np.flatnonzero(mask).astype(np.int64)

    def dense_ranking(self, query: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        query_vector = self.embedder.encode([query])
        scores, ids = dense.search(self.index.dense, query_vector, depth, allowed)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def keyword_ranking(self, query: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        scores = self.index.keyword.scores(query)
        if allowed is not None:
            masked = np.full_like(scores, -np.inf)
            masked[allowed] = scores[allowed]
            scores = masked
        depth = min(depth, len(scores))
        if depth <= 0:
            return []
        top = np.argpartition(-scores, depth - 1)[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        # A passage sharing no word with the question is no keyword evidence at all.
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def search(
        self,
        query: str,
        k: int = config.DEFAULT_TOP_K,
        *,
        mode: str = config.DEFAULT_RETRIEVAL_MODE,
        search_filter: SearchFilter | None = None,
        collapse_duplicates: bool = True,
    ) -> list[Hit]:
        if k <= 0:
            raise ValueError(f"k must be greater than 0, got {k}")
        if mode not in config.RETRIEVAL_MODES:
            raise ValueError(f"Unknown retrieval mode {mode!r}; choose one of {', '.join(config.RETRIEVAL_MODES)}")
        if not query.strip() or not self.index.passages:
            return []
        allowed = self.allowed_ids(search_filter)
        if allowed is not None and len(allowed) == 0:
            return []
        depth = max(k * CANDIDATES_PER_K, CANDIDATES_MIN)
        rankings: list[tuple[float, list[tuple[int, float]]]] = []
        if mode in ("dense", "hybrid"):
            rankings.append((DENSE_WEIGHT, self.dense_ranking(query, depth, allowed)))
        if mode in ("keyword", "hybrid"):
            rankings.append((KEYWORD_WEIGHT, self.keyword_ranking(query, depth, allowed)))
        ranked = rankings[0][1] if len(rankings) == 1 else fuse_rankings(rankings)
        return self._to_hits(ranked, k, collapse_duplicates)

    def _to_hits(self, ranked: Sequence[tuple[int, float]], k: int, collapse: bool) -> list[Hit]:
        kept: list[tuple[int, float, list[int]]] = []  # (id, score, duplicate ids)
        for passage_id, score in ranked:
            if collapse:
                twin = self._near_duplicate_of(passage_id, [entry[0] for entry in kept])
                if twin is not None:
                    kept[twin][2].append(passage_id)
                    continue
            if len(kept) == k:
                # Past k, a passage only matters as a duplicate of one already kept.
                if not collapse:
                    break
                continue
            kept.append((passage_id, score, []))
        passages = self.index.passages
        return [
            Hit(passages[i], score, rank, tuple(passages[d] for d in dups))
            for rank, (i, score, dups) in enumerate(kept)
        ]

    def _near_duplicate_of(self, passage_id: int, kept_ids: list[int]) -> int | None:
        if not kept_ids:
            return None
        vectors = self.index.vectors
        similarities = np.asarray(vectors[kept_ids]) @ np.asarray(vectors[passage_id])
        best = int(np.argmax(similarities))
        return best if similarities[best] >= NEAR_DUPLICATE_COSINE else None


def fuse_rankings(rankings: Sequence[tuple[float, Sequence[tuple[int, float]]]], rrf_k: float = RRF_K) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion of several rankings of passage ids; best first."""
    fused: dict[int, float] = {}
    for weight, ranking in rankings:
        for rank, (passage_id, _score) in enumerate(ranking, start=1):
            fused[passage_id] = fused.get(passage_id, 0.0) + weight / (rrf_k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
