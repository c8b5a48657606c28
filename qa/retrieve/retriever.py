"""Question -> ranked hits: dense, keyword or both fused, filtered by metadata, near-duplicates folded."""

from __future__ import annotations

import numpy as np

from qa import config
from qa.retrieve.dedup import DuplicateFolder
from qa.retrieve.filters import SearchFilter
from qa.retrieve.fusion import fuse_rankings, fuse_scores, with_article_scores
from qa.store.protocol import Ranking, Store
from qa.types import Embedder, Hit


class Retriever:
    """Ranks passages for a question: dense, keyword or hybrid, with filters and duplicates folded.

    Hit scores by mode: dense, the cosine similarity; keyword, the BM25 score; hybrid, the fused
    score in [0, 1] (fusion="score") or the RRF sum (fusion="rrf").
    Any Store serves (qa/store/protocol.py); the local FAISS + bm25s one is qa/store/local/store.py.

    Example:
        >>> from qa.embed import load_embedder
        >>> from qa.store.local.store import open_store
        >>> retriever = Retriever(open_store("index/"), load_embedder())  # doctest: +SKIP
        >>> hits = retriever.search(  # doctest: +SKIP
        ...     "What did the tram line cost?", 5, search_filter=SearchFilter(date_from="2024")
        ... )
        >>> hits[0].passage.title, [p.source for p in hits[0].passages]  # doctest: +SKIP
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        fusion: str = config.DEFAULT_FUSION,
        dense_weight: float | None = None,
        rrf_k: float = config.RRF_K,
        drop_question_words: bool = True,
        passage_weight: float | None = None,
    ):
        """`passage_weight`: the share of a passage's own score in its ranking, the rest its
        article's best (fusion.with_article_scores); None: config.PASSAGE_WEIGHT."""
        if dense_weight is None:  # the weight measured for this embedding model, else the default
            dense_weight = config.DENSE_WEIGHTS.get(getattr(embedder, "name", ""), config.DENSE_WEIGHT)
        if fusion not in config.FUSION_METHODS:
            raise ValueError(f"Unknown fusion {fusion!r}; choose one of {', '.join(config.FUSION_METHODS)}")
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be between 0 and 1, got {dense_weight}")
        if passage_weight is None:
            passage_weight = config.PASSAGE_WEIGHT
        if not 0.0 <= passage_weight <= 1.0:
            raise ValueError(f"passage_weight must be between 0 and 1, got {passage_weight}")
        if rrf_k < 0:
            raise ValueError(f"rrf_k must be 0 or more, got {rrf_k}")
        self.store = store
        self.embedder = embedder
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.rrf_k = rrf_k
        self.drop_question_words = drop_question_words
        self.passage_weight = passage_weight
        self.folder = DuplicateFolder()

    def dense_ranking(self, query: str, depth: int, search_filter: SearchFilter | None = None) -> Ranking:
        return self.store.dense_search(self._encode(query)[None, :], depth, search_filter)[0]

    def keyword_ranking(self, query: str, depth: int, search_filter: SearchFilter | None = None) -> Ranking:
        return self.store.keyword_search(
            query, depth, search_filter, drop_question_words=self.drop_question_words
        )

    def hybrid_ranking(self, query: str, depth: int, search_filter: SearchFilter | None = None) -> Ranking:
        query_vector = self._encode(query)
        dense_top = self.store.dense_search(query_vector[None, :], depth, search_filter)[0]
        keyword_top = self.keyword_ranking(query, depth, search_filter)
        if self.fusion == "rrf":
            return fuse_rankings(
                [(self.dense_weight, dense_top), (1.0 - self.dense_weight, keyword_top)], self.rrf_k
            )
        ids = np.unique(np.array([i for i, _ in dense_top] + [i for i, _ in keyword_top], dtype=np.int64))
        # Both scores for every candidate: exact cosines from the stored vectors (FAISS may be
        # approximate, and a keyword-only candidate has no FAISS score), BM25 for the dense-only ones.
        dense_scores = self.store.vectors(ids) @ query_vector
        keyword_scores = self.store.keyword_scores(query, ids, drop_question_words=self.drop_question_words)
        return fuse_scores(ids, dense_scores, keyword_scores, self.dense_weight)

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

        A passage that repeats one ranked above it, word for word and fact for fact (see
        qa/retrieve/dedup.py), does not take a slot: it is folded into that hit's `duplicates`, so
        k hits are k different pieces of evidence and every copy stays citable.
        """
        if k <= 0:
            raise ValueError(f"k must be greater than 0, got {k}")
        if mode not in config.RETRIEVAL_MODES:
            raise ValueError(
                f"Unknown retrieval mode {mode!r}; choose one of {', '.join(config.RETRIEVAL_MODES)}"
            )
        if not query.strip() or self.store.count(search_filter) == 0:
            return []
        depth = max(k * config.CANDIDATES_PER_K, config.CANDIDATES_MIN)
        if mode == "dense":
            ranked = self.dense_ranking(query, depth, search_filter)
        elif mode == "keyword":
            ranked = self.keyword_ranking(query, depth, search_filter)
        else:
            ranked = self.hybrid_ranking(query, depth, search_filter)
        if not collapse_duplicates and self.passage_weight >= 1.0:
            ranked = ranked[:k]
        rows = [row for row, _ in ranked]
        passages = self.store.passages(rows)  # every candidate's, in one call: the store may be remote
        if self.passage_weight < 1.0:
            by_row = dict(zip(rows, passages))
            ranked = with_article_scores(ranked, [p.article_id for p in passages], self.passage_weight)
            rows = [row for row, _ in ranked]
            passages = [by_row[row] for row in rows]
        if not collapse_duplicates:
            ranked, rows, passages = ranked[:k], rows[:k], passages[:k]
        if collapse_duplicates:
            groups = self.folder.fold(ranked, passages, self.store.vectors(rows), k)
        else:
            groups = [(row, score, []) for row, score in ranked]
        by_row = dict(zip(rows, passages))
        return [
            Hit(by_row[row], score, rank, tuple(by_row[d] for d in dups))
            for rank, (row, score, dups) in enumerate(groups)
        ]

    def _encode(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.encode([query])[0], dtype=np.float32)
