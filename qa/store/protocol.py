"""What the retriever asks of an index: the Store protocol, which every index backend implements.

The first implementation is qa/store/local/store.py (FAISS + bm25s in a folder of generations). A
store identifies a passage by its row, an int in [0, count()); rows are stable for as long as the
store object lives (one generation), so a retriever may cache by row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from qa.types import Passage, SearchFilter

# (row, score) pairs, best first.
Ranking = list[tuple[int, float]]


class StoreError(RuntimeError):
    """Anything wrong with a store (missing, damaged, unreachable, built with another model);
    the message says what to do. Each backend raises its own subclass."""


@dataclass(frozen=True)
class CorpusSummary:
    """What the chat says about the corpus before the first question, at any corpus size."""

    article_count: int
    passage_count: int
    titles: tuple[str, ...]  # a few article titles, for the placeholder text
    first_date: str | None  # ISO dates of the oldest and newest dated passage
    last_date: str | None


@dataclass(frozen=True)
class StoredIndexInfo:
    """What a location holds, read without opening the index for search."""

    embedder: str
    passage_count: int
    article_count: int
    articles_dir: str  # the folder the last build read ("" when not recorded)


@runtime_checkable
class Store(Protocol):
    """An index opened for search: passages, their vectors, a dense and a keyword search, filters.

    Filters are resolved by the store, each its own way (the local store masks columns of dates and
    sources; a database store turns them into its query language), with SearchFilter's meaning: a
    bound covers its whole period, undated passages are out when a bound is set, and `source`
    matches part of the source URL or file path, case-insensitively.
    """

    @property
    def embedder_name(self) -> str:
        """The embedding model the vectors were made with (the manifest's): queries must use it too."""
        ...

    @property
    def generation(self) -> str:
        """Which version of the index this store serves (e.g. "gen-000007")."""
        ...

    def has_newer_generation(self) -> bool:
        """Whether a build has published a newer version since this store was opened."""
        ...

    def indexed_articles(self) -> Mapping[str, str]:
        """article_id -> content_hash of every article served: what a build compares a folder with."""
        ...

    def summary(self, max_titles: int = 5) -> CorpusSummary:
        """Counts, a few titles and the date range: cheap at a million passages."""
        ...

    def count(self, search_filter: SearchFilter | None = None) -> int:
        """How many passages the filter lets through; all passages for None."""
        ...

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        """The passages at these rows, in the order asked; ValueError naming a row out of range."""
        ...

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        """float32 (len(rows), dimension), L2-normalised: the stored vectors, exact (not FAISS's codes)."""
        ...

    def dense_search(
        self, query_vectors: np.ndarray, k: int, search_filter: SearchFilter | None = None
    ) -> list[Ranking]:
        """For each query vector, up to k (row, inner product) of the passages the filter allows.

        Scores may be approximate where the store's index is (IVF, HNSW): rank by them, and ask
        `vectors` for exact cosines.
        """
        ...

    def keyword_search(
        self,
        query: str,
        k: int,
        search_filter: SearchFilter | None = None,
        *,
        drop_question_words: bool = True,
    ) -> Ranking:
        """Up to k (row, BM25 score) the filter allows; passages sharing no word with the query are left out.

        `drop_question_words`: score without interrogatives ("when", "how many") unless nothing
        else is left (config.QUESTION_WORDS).
        """
        ...

    def keyword_scores(
        self, query: str, rows: Sequence[int], *, drop_question_words: bool = True
    ) -> np.ndarray:
        """The BM25 score of each of these rows for the query (0 where no query word occurs), on the
        scale keyword_search uses: hybrid fusion scores dense-only candidates with it."""
        ...
