"""Question -> ranked hits: dense, keyword or both fused, filtered by metadata, near-duplicates folded."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from qa import config
from qa.embed import Embedder
from qa.store import dense
from qa.store.local import LoadedIndex
from qa.types import Hit

if TYPE_CHECKING:
    from qa.retrieve.rerank import Reranker

# Hybrid ranking. "score": a convex combination of the two scores, each normalised over the
# candidate set (fuse_scores); "rrf": weighted reciprocal rank fusion (fuse_rankings).
# Measured with `python bench/retrieval.py --tune` on the SQuAD 2.0 dev subset (126 paragraphs, 473
# answerable questions, answer recall; docs/retrieval.md): score fusion at dense weight 0.55 gives
# recall@1 0.890 and @5 0.992 with either embedder backend (onnx-int8, the default, and torch),
# against 0.833 / 0.987 (0.839 / 0.985 with torch) for RRF with k=60 and equal weights. The weight
# was chosen on two of the three articles and checked on the third, each way round: 0.55, 0.55 and
# 0.40 with onnx-int8, 0.60 three times with torch, on a flat plateau (recall@1 0.88-0.89 from
# 0.40 to 0.65); score fusion matched or beat the grid's best RRF (k 1-100, dense weight 0.3-0.7)
# on every held-out article.
FUSION_METHODS = ("score", "rrf")
DEFAULT_FUSION = "score"
DENSE_WEIGHT = 0.55  # the keyword side gets 1 - DENSE_WEIGHT
# Reciprocal rank fusion: score = sum over rankings of weight / (RRF_K + rank), rank from 1.
# 60 is the constant of Cormack et al. (2009); kept for fusion="rrf" and as the bench's baseline.
RRF_K = 60.0
# How deep each ranking is read before fusion, as a multiple of k (and at least CANDIDATES_MIN).
# Recall barely moves with depth (score fusion: 0.886 @1 at depth 20, 0.892 at 50, 0.888 at all).
CANDIDATES_PER_K = 8
CANDIDATES_MIN = 50
# With a cross-encoder, this many distinct candidates are rescored before the top k are kept.
RERANK_PER_K = 4
RERANK_MIN = 20

# Near-duplicates (syndicated copies, quotes repeated across articles) fold into one Hit. Two tests,
# either one enough. Measured with `python bench/retrieval.py --duplicates` on 174 passages (the
# shared and sample articles, the SQuAD paragraphs) and copies of each made the way outlets make
# them (docs/retrieval.md):
# - cosine >= 0.95 between the stored vectors: every lightly reworded copy ("said" -> "stated",
#   "govt", "%") scored 0.96 or more, while the closest two different passages scored 0.909.
# - word 3-grams shared, as a share of the larger passage's, >= 0.6: the vector alone misses short
#   passages with "NEW DELHI (Reuters) - " put in front (cosine down to 0.79; 17-20% missed) and
#   passages with a new or dropped first sentence (about 80% missed). With both tests credit-line,
#   dateline and reworded copies fold (693 of 694; the one left is a 19-word passage given a 16-word
#   credit paragraph: cosine 0.946, overlap 0.59), and a new first sentence folds where it is under
#   about 40% of the passage (61% of passages of two sentences or more). The closest two
#   different passages share 0.457 (one repeats the other's quote but adds new facts: they must
#   stay apart).
NEAR_DUPLICATE_COSINE = 0.95
NEAR_DUPLICATE_OVERLAP = 0.6
SHINGLE_WORDS = 3
# The word test runs only for pairs at this cosine or above, which spares most of the set work: a
# copy sharing >= 0.6 of its 3-grams never scored under 0.61 in our samples.
NEAR_DUPLICATE_SCREEN = 0.5
# Word runs of recently compared passages, kept between questions: about 7 KiB for a 75-word passage.
SHINGLE_CACHE_PASSAGES = 2048

_DATE_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_WORD = re.compile(r"\w+")


def _date_bound(value: Any, name: str) -> str | None:
    """A date bound as YYYY, YYYY-MM or YYYY-MM-DD text; None for none; ValueError naming a bad one."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _DATE_BOUND.fullmatch(text)
        if match:
            year, month, day = (int(part) if part else 1 for part in match.groups())
            try:
                dt.date(year, month, day)
                return text
            except ValueError:
                pass
    raise ValueError(f"{name} must be a date written YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2019-11-02), got {value!r}")


def _first_day(bound: str) -> str:
    return {4: f"{bound}-01-01", 7: f"{bound}-01"}.get(len(bound), bound)


def _last_day(bound: str) -> str:
    if len(bound) == 4:
        return f"{bound}-12-31"
    if len(bound) == 7:
        year, month = int(bound[:4]), int(bound[5:7])
        return f"{bound}-{calendar.monthrange(year, month)[1]:02d}"
    return bound


@dataclass(frozen=True)
class SearchFilter:
    """Metadata filters, checked on creation.

    `date_from` / `date_to` take YYYY, YYYY-MM or YYYY-MM-DD (or a datetime.date); a bound covers its
    whole period, so date_to="2019-11" keeps 30 November. Passages without a date are left out when
    either bound is set. `source` matches, case-insensitively, part of the source URL or the file
    path (a site such as "beebom.com" or a folder such as "wire/"). Empty strings mean no filter.

    Example:
        >>> SearchFilter(date_from="2019-11", date_to="2019-11-30").active
        True
        >>> SearchFilter(date_from="02/11/2019")
        Traceback (most recent call last):
        ...
        ValueError: date_from must be a date written YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2019-11-02), got '02/11/2019'
    """

    date_from: str | None = None
    date_to: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        date_from = _date_bound(self.date_from, "date_from")
        date_to = _date_bound(self.date_to, "date_to")
        if date_from and date_to and _first_day(date_from) > _last_day(date_to):
            raise ValueError(f"date_from {date_from!r} is after date_to {date_to!r}: no article can match")
        if self.source is not None and not isinstance(self.source, str):
            raise ValueError(f"source must be text (part of a URL or a folder), got {self.source!r}")
        source = self.source.strip() if self.source is not None else ""
        # Frozen, so the checked values are written past __setattr__, once, here.
        object.__setattr__(self, "date_from", date_from)
        object.__setattr__(self, "date_to", date_to)
        object.__setattr__(self, "source", source or None)

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.date_from, self.date_to, self.source))


class Retriever:
    """Ranks passages for a question: dense, keyword or hybrid, with filters and duplicates folded.

    Hit scores by mode: dense, the cosine similarity; keyword, the BM25 score; hybrid, the fused
    score in [0, 1] (fusion="score") or the RRF sum (fusion="rrf"); with a reranker, its score.

    Example:
        >>> from qa.embed import load_embedder
        >>> from qa.store.local import open_index
        >>> retriever = Retriever(open_index("index/"), load_embedder())  # doctest: +SKIP
        >>> hits = retriever.search("What did the tram line cost?", 5, search_filter=SearchFilter(date_from="2024"))  # doctest: +SKIP
        >>> hits[0].passage.title, [p.source for p in hits[0].passages]  # doctest: +SKIP
    """

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        *,
        fusion: str = DEFAULT_FUSION,
        dense_weight: float = DENSE_WEIGHT,
        rrf_k: float = RRF_K,
        drop_question_words: bool = True,
        reranker: "Reranker | str | None" = None,
    ):
        if fusion not in FUSION_METHODS:
            raise ValueError(f"Unknown fusion {fusion!r}; choose one of {', '.join(FUSION_METHODS)}")
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be between 0 and 1, got {dense_weight}")
        if rrf_k < 0:
            raise ValueError(f"rrf_k must be 0 or more, got {rrf_k}")
        if isinstance(reranker, str):
            from qa.retrieve.rerank import load_reranker

            reranker = load_reranker(reranker)
        self.index = index
        self.embedder = embedder
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.rrf_k = rrf_k
        self.drop_question_words = drop_question_words
        self.reranker = reranker
        passages = index.passages
        # Filter columns, built once: a filtered question costs a vectorised comparison, not a scan.
        self._dates = np.array([p.date or "" for p in passages], dtype=str)
        self._sources = [f"{p.source}\n{p.path}".lower() for p in passages]
        self._shingle_cache: dict[int, frozenset[int]] = {}

    def allowed_ids(self, search_filter: SearchFilter | None) -> np.ndarray | None:
        """Sorted ids of passages the filter lets through; None when there is no filter."""
        if search_filter is None or not search_filter.active:
            return None
        mask = np.ones(len(self._dates), dtype=bool)
        if search_filter.date_from:
            # ISO dates compare as text; "2019-11" sorts before every day of November.
            mask &= (self._dates != "") & (self._dates >= search_filter.date_from)
        if search_filter.date_to:
            # Truncating the dates to the bound's length makes "2019-11" include the whole month.
            truncated = self._dates.astype(f"<U{len(search_filter.date_to)}")
            mask &= (self._dates != "") & (truncated <= search_filter.date_to)
        if search_filter.source:
            needle = search_filter.source.lower()
            mask &= np.fromiter((needle in s for s in self._sources), dtype=bool, count=len(self._sources))
        return np.flatnonzero(mask).astype(np.int64)

    def dense_ranking(self, query: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        return self._dense_top(self._encode(query), depth, allowed)

    def keyword_ranking(self, query: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        return _top(self._keyword_scores(query, allowed), depth)

    def hybrid_ranking(self, query: str, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        query_vector = self._encode(query)
        dense_top = self._dense_top(query_vector, depth, allowed)
        keyword_scores = self._keyword_scores(query, allowed)
        keyword_top = _top(keyword_scores, depth)
        if self.fusion == "rrf":
            return fuse_rankings([(self.dense_weight, dense_top), (1.0 - self.dense_weight, keyword_top)], self.rrf_k)
        ids = np.unique(np.array([i for i, _ in dense_top] + [i for i, _ in keyword_top], dtype=np.int64))
        # Both scores for every candidate: exact cosines from the stored vectors (FAISS may be
        # approximate, and a keyword-only candidate has no FAISS score), BM25 for all passages.
        dense_scores = np.asarray(self.index.vectors[ids], dtype=np.float32) @ query_vector
        return fuse_scores(ids, dense_scores, keyword_scores[ids], self.dense_weight)

    def search(
        self,
        query: str,
        k: int = config.DEFAULT_TOP_K,
        *,
        mode: str = config.DEFAULT_RETRIEVAL_MODE,
        search_filter: SearchFilter | None = None,
        collapse_duplicates: bool = True,
    ) -> list[Hit]:
        """The k best distinct passages for `query`, best first.

        A passage that repeats one ranked above it (see NEAR_DUPLICATE_*) does not take a slot: it
        is folded into that hit's `duplicates`, so k hits are k different pieces of evidence and
        every copy stays citable.
        """
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
        if mode == "dense":
            ranked = self.dense_ranking(query, depth, allowed)
        elif mode == "keyword":
            ranked = self.keyword_ranking(query, depth, allowed)
        else:
            ranked = self.hybrid_ranking(query, depth, allowed)
        if self.reranker is None:
            groups = self._group(ranked, k, collapse_duplicates)
        else:
            groups = self._group(ranked, max(k * RERANK_PER_K, RERANK_MIN), collapse_duplicates)
            groups = self._rerank(query, groups)[:k]
        passages = self.index.passages
        return [
            Hit(passages[i], score, rank, tuple(passages[d] for d in dups))
            for rank, (i, score, dups) in enumerate(groups)
        ]

    def _encode(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.encode([query])[0], dtype=np.float32)

    def _dense_top(self, query_vector: np.ndarray, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        scores, ids = dense.search(self.index.dense, query_vector[None, :], depth, allowed)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def _keyword_scores(self, query: str, allowed: np.ndarray | None) -> np.ndarray:
        scores = self.index.keyword.scores(query, drop_question_words=self.drop_question_words)
        if allowed is not None:
            masked = np.full_like(scores, -np.inf)
            masked[allowed] = scores[allowed]
            scores = masked
        return scores

    def _group(self, ranked: Sequence[tuple[int, float]], limit: int, collapse: bool) -> list[tuple[int, float, list[int]]]:
        """Up to `limit` (id, score, duplicate ids), folding each passage into a near-copy kept above it."""
        if not collapse:
            return [(passage_id, score, []) for passage_id, score in ranked[:limit]]
        ids = [passage_id for passage_id, _ in ranked]
        vectors = np.asarray(self.index.vectors[ids], dtype=np.float32)
        # Row j: cosines of the j-th kept passage with every candidate, one matrix-vector product per
        # kept passage (a full candidates x candidates product costs more, and stalls on a busy CPU).
        kept_cosines = np.empty((min(limit, len(ids)), len(ids)), dtype=np.float32)
        kept: list[tuple[int, float, list[int]]] = []
        for row, (passage_id, score) in enumerate(ranked):
            twin = self._near_duplicate_of(row, ids, kept, kept_cosines[: len(kept), row]) if kept else None
            if twin is not None:
                kept[twin][2].append(passage_id)
            elif len(kept) < limit:
                kept_cosines[len(kept)] = vectors @ vectors[row]
                kept.append((passage_id, score, []))
            # Past the limit, a passage only matters as a duplicate of one already kept.
        return kept

    def _near_duplicate_of(
        self, row: int, ids: list[int], kept: list[tuple[int, float, list[int]]], cosines: np.ndarray
    ) -> int | None:
        """Position in `kept` of a passage saying the same thing as candidate `row`, or None."""
        best = int(np.argmax(cosines))
        if cosines[best] >= NEAR_DUPLICATE_COSINE:
            return best
        # The word-overlap test only where the vectors allow it: copies that share most of their
        # word runs are never far apart in meaning (NEAR_DUPLICATE_SCREEN), and this keeps the set
        # work to a few pairs per question.
        for position in np.flatnonzero(cosines >= NEAR_DUPLICATE_SCREEN):
            mine, theirs = self._shingles(ids[row]), self._shingles(kept[position][0])
            # The overlap can be no larger than the size ratio: a cheap test before the set work.
            if min(len(mine), len(theirs)) < NEAR_DUPLICATE_OVERLAP * max(len(mine), len(theirs)):
                continue
            if shingle_overlap(mine, theirs) >= NEAR_DUPLICATE_OVERLAP:
                return int(position)
        return None

    def _shingles(self, passage_id: int) -> frozenset[int]:
        found = self._shingle_cache.get(passage_id)
        if found is None:
            if len(self._shingle_cache) >= SHINGLE_CACHE_PASSAGES:
                self._shingle_cache.clear()  # crude but bounded; the hot passages come back at once
            found = self._shingle_cache[passage_id] = shingles(self.index.passages[passage_id].text)
        return found

    def _rerank(self, query: str, groups: list[tuple[int, float, list[int]]]) -> list[tuple[int, float, list[int]]]:
        if not groups:
            return groups
        passages = self.index.passages
        scores = np.asarray(self.reranker.score(query, [passages[i].text for i, _, _ in groups]), dtype=np.float64)
        if scores.shape != (len(groups),):
            raise ValueError(f"the reranker gave {scores.shape} scores for {len(groups)} passages")
        order = sorted(range(len(groups)), key=lambda j: (-scores[j], j))
        return [(groups[j][0], float(scores[j]), groups[j][2]) for j in order]


def _top(scores: np.ndarray, depth: int) -> list[tuple[int, float]]:
    """The `depth` best (id, score), best first; passages sharing no word with the query are left out."""
    depth = min(depth, len(scores))
    if depth <= 0:
        return []
    top = np.argpartition(-scores, depth - 1)[:depth]
    top = top[np.lexsort((top, -scores[top]))]  # ties by id, so the order never depends on the partition
    # A passage sharing no word with the question is no keyword evidence at all.
    return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def fuse_scores(
    ids: Sequence[int] | np.ndarray,
    dense_scores: Sequence[float] | np.ndarray,
    keyword_scores: Sequence[float] | np.ndarray,
    dense_weight: float = DENSE_WEIGHT,
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


def fuse_rankings(rankings: Sequence[tuple[float, Sequence[tuple[int, float]]]], rrf_k: float = RRF_K) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion of several rankings of passage ids; best first."""
    fused: dict[int, float] = {}
    for weight, ranking in rankings:
        for rank, (passage_id, _score) in enumerate(ranking, start=1):
            fused[passage_id] = fused.get(passage_id, 0.0) + weight / (rrf_k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """The `size`-word runs of `text` (lower-cased words; the whole text if shorter), hashed.

    Hashes, not strings: a fifth of the memory in the cache, and quicker to intersect. They are
    only compared within one process, where str hashes are stable.
    """
    words = _WORD.findall(text.lower())
    if len(words) <= size:
        return frozenset({hash(tuple(words))}) if words else frozenset()
    return frozenset(map(hash, zip(*(words[i:] for i in range(size)))))


def shingle_overlap(a: frozenset[int], b: frozenset[int]) -> float:
    """Shared shingles as a share of the larger set: 1 - overlap bounds the new text on either side.

    Example:
        >>> story = shingles("The council approved the budget on Monday after a long debate.")
        >>> round(shingle_overlap(story, shingles("The council approved the budget on Monday after a long debate. (AP)")), 2)
        0.9
    """
    if not a or not b:
        return 0.0
    return len(a & b) / max(len(a), len(b))
