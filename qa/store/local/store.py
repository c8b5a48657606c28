"""The local index (qa/store/local/files.py) behind the Store protocol: FAISS, bm25s and filter
columns memory-mapped, passages read from SQLite by row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np

import qa.store.local.dense as dense
from qa.dates import first_day, last_day
from qa.store.local.files import current_generation
from qa.store.local.keyword import KeywordIndex, global_scores
from qa.store.local.loaded import LoadedIndex, open_index
from qa.store.local.table import date_number
from qa.store.protocol import CorpusSummary, Ranking
from qa.types import Passage, SearchFilter


class LocalStore:
    """One generation of an index folder, opened for search; satisfies qa.store.protocol.Store.

    Example:
        >>> store = open_store("index/")  # doctest: +SKIP
        >>> in_2024 = SearchFilter(date_from="2024")
        >>> store.count(in_2024), store.keyword_search("tram cost", 3)  # doctest: +SKIP
        (41, [(12, 7.9), (3, 2.1), (30, 1.4)])
    """

    def __init__(self, index: LoadedIndex):
        self.index = index
        self._rows = index.rows
        self._segments = index.segments
        self._count = index.rows.count
        self._article_hashes: Mapping[str, str] | None = None
        # One question asks for the same filter (dense and keyword side) and the same BM25 scores
        # (keyword top, then the scores of dense-only candidates) twice: each is worked out once.
        # One slot each, replaced whole, so a thread never reads another question's pair.
        self._last_filter: tuple[SearchFilter, list[np.ndarray]] | None = None
        self._last_keyword: tuple[tuple[str, bool], list[np.ndarray]] | None = None

    @property
    def embedder_name(self) -> str:
        return self.index.manifest.embedder

    @property
    def generation(self) -> str:
        return self.index.generation

    def has_newer_generation(self) -> bool:
        live = current_generation(self.index.index_dir)
        return live is not None and _generation_number(live.name) > _generation_number(self.generation)

    def indexed_articles(self) -> Mapping[str, str]:
        if self._article_hashes is None:  # read on first use: builds and status ask, questions never do
            self._article_hashes = MappingProxyType(self.index.passages.article_hashes())
        return self._article_hashes

    def summary(self, max_titles: int = 5) -> CorpusSummary:
        manifest = self.index.manifest  # counts and dates from the manifest, a few titles from SQL
        return CorpusSummary(
            article_count=manifest.article_count,
            passage_count=manifest.passage_count,
            titles=tuple(self.index.passages.titles(max_titles)),
            first_date=manifest.first_date,
            last_date=manifest.last_date,
        )

    def count(self, search_filter: SearchFilter | None = None) -> int:
        allowed = self._allowed(search_filter)
        if allowed is None:
            return self._count
        return sum(len(rows) for rows in allowed)

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        return self.index.passages.get(self._checked(rows))

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        checked = self._checked(rows)
        vectors = np.empty((len(checked), self.index.manifest.dimension), dtype=np.float32)
        for i, at, physical in self._rows.split(checked):
            vectors[at] = self._segments[i].vector_rows.rows(physical.tolist())
        # Stored in float16, a vector's length is off by up to ~1e-4: normalised again, so that a
        # product of two is a cosine as exactly as float32 allows.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def dense_search(
        self, query_vectors: np.ndarray, k: int, search_filter: SearchFilter | None = None
    ) -> list[Ranking]:
        query_vectors = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
        if k <= 0:
            raise ValueError(f"k must be greater than 0, got {k}")
        dimension = self.index.manifest.dimension
        if query_vectors.shape[1] != dimension:
            raise ValueError(
                f"query vectors have {query_vectors.shape[1]} dimensions; this index holds {dimension} "
                f"(made with {self.embedder_name})"
            )
        allowed = self._allowed(search_filter)
        found: list[list[tuple[int, float]]] = [[] for _ in query_vectors]
        for i, segment in enumerate(self._segments):
            # Physical rows FAISS may return: the filter's and the live ones (tombstones left out).
            physical = allowed[i] if allowed is not None else segment.live_rows
            if physical is not None and len(physical) == 0:
                continue
            selector = segment.live_selector() if allowed is None else None
            scores, ids = dense.search(segment.dense, query_vectors, k, physical, selector=selector)
            for q, (row_ids, row_scores) in enumerate(zip(ids, scores)):
                keep = row_ids >= 0
                store_rows = self._rows.to_store_rows(i, row_ids[keep])
                found[q] += zip(store_rows.tolist(), row_scores[keep].tolist())
        # Each segment's top k, merged by score (ties by row): a flat index gives what one index would.
        return [sorted(ranking, key=lambda hit: (-hit[1], hit[0]))[:k] for ranking in found]

    def keyword_search(
        self,
        query: str,
        k: int,
        search_filter: SearchFilter | None = None,
        *,
        drop_question_words: bool = True,
    ) -> Ranking:
        if k <= 0:
            raise ValueError(f"k must be greater than 0, got {k}")
        each = self._keyword_all(query, drop_question_words)
        allowed = self._allowed(search_filter)
        found: Ranking = []
        for i, scores in enumerate(each):
            if allowed is not None:
                masked = np.full_like(scores, -np.inf)
                masked[allowed[i]] = scores[allowed[i]]
                scores = masked
            # Each segment's top k (tombstoned rows score 0, so never among them), by store row:
            # within a segment store rows follow its rows, so ties at the cut keep the lowest
            # store rows, as one index would.
            top = _top(scores, k)
            store_rows = self._rows.to_store_rows(i, np.asarray([r for r, _ in top], dtype=np.int64))
            found += zip(store_rows.tolist(), (s for _, s in top))
        return found if len(each) == 1 else sorted(found, key=lambda hit: (-hit[1], hit[0]))[:k]

    def keyword_scores(
        self, query: str, rows: Sequence[int], *, drop_question_words: bool = True
    ) -> np.ndarray:
        checked = self._checked(rows)
        each = self._keyword_all(query, drop_question_words)
        out = np.empty(len(checked), dtype=np.float32)
        for i, at, physical in self._rows.split(checked):
            out[at] = each[i][physical]
        return out

    def _keyword_all(self, query: str, drop_question_words: bool) -> list[np.ndarray]:
        """BM25 of every row of each segment, tombstoned rows 0 (read-only: callers index or copy)."""
        key = (query, drop_question_words)
        last = self._last_keyword
        if last is not None and last[0] == key:
            return last[1]
        if len(self._segments) == 1 and not isinstance(self._segments[0].keyword, KeywordIndex):
            each = [self._segments[0].keyword.scores(query, drop_question_words=drop_question_words)]
        else:  # statistics over all live passages of all segments (qa/store/local/keyword.py)
            parts = [(s.keyword, s.deleted) for s in self._segments]
            each = global_scores(parts, query, drop_question_words=drop_question_words)
        self._last_keyword = (key, each)
        return each

    def _allowed(self, search_filter: SearchFilter | None) -> list[np.ndarray] | None:
        """Per segment, the sorted live physical rows the filter lets through; None when there is no
        filter."""
        if search_filter is None or not search_filter.active:
            return None
        last = self._last_filter
        if last is not None and last[0] == search_filter:
            return last[1]
        allowed: list[np.ndarray] = []
        for segment in self._segments:
            mask = np.ones(segment.info.passages, dtype=bool) if segment.deleted is None else ~segment.deleted
            # Dates are YYYYMMDD integers (0: undated, left out by either bound); a bound covers its
            # whole period: "2019-11" runs from 20191101 to 20191130.
            if search_filter.date_from:
                mask &= segment.dates >= date_number(first_day(search_filter.date_from))
            if search_filter.date_to:
                mask &= (segment.dates > 0) & (segment.dates <= date_number(last_day(search_filter.date_to)))
            if search_filter.source:
                mask &= segment.passages.sources_matching(search_filter.source)[segment.sources]
            allowed.append(np.flatnonzero(mask).astype(np.int64))
        self._last_filter = (search_filter, allowed)
        return allowed

    def _checked(self, rows: Sequence[int]) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        count = self._count
        outside = rows[(rows < 0) | (rows >= count)]
        if len(outside):
            raise ValueError(
                f"row {int(outside[0])} is not in this store: its {count} passages are rows 0 to {count - 1}"
            )
        return rows


def open_store(index_dir: Path | str, *, embedder: str | None = None, verify: bool = True) -> LocalStore:
    """The live generation of an index folder as a Store (see qa.store.local.open_index for the checks)."""
    return LocalStore(open_index(index_dir, embedder=embedder, verify=verify))


def _top(scores: np.ndarray, depth: int) -> Ranking:
    """The `depth` best (row, score), best first; passages sharing no word with the query are left out."""
    # A passage sharing no word with the question is no keyword evidence at all; partitioning only
    # the passages that share one is cheaper than all of a million.
    rows = np.flatnonzero(scores > 0)
    depth = min(depth, len(rows))
    if depth <= 0:
        return []
    found = scores[rows]
    cut = found[np.argpartition(-found, depth - 1)[depth - 1]]  # the depth-th best score
    # Which passages tied at the cut make the list must not depend on the partition, whose SIMD
    # kernel keeps different ones on AVX2 and AVX-512 CPUs: the lowest rows do.
    better = np.flatnonzero(found > cut)
    top = np.concatenate([better, np.flatnonzero(found == cut)[: depth - len(better)]])
    top = top[
        np.lexsort((rows[top], -found[top]))
    ]  # ties by row, so the order never depends on the partition
    return [(int(rows[i]), float(found[i])) for i in top]


def _generation_number(name: str) -> int:
    digits = name[4:] if name.startswith("gen-") else ""
    return int(digits) if digits.isdigit() else -1
