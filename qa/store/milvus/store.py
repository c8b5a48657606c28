"""A Milvus collection behind the Store protocol: the server searches (HNSW, BM25, filters); rows are the
primary key."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from qa import config
from qa.store.address import MilvusAddress
from qa.store.milvus import schema
from qa.store.milvus.client import Connection, MilvusStoreError, connect
from qa.store.milvus.records import (
    check_compatible,
    count_rows,
    passage_from_record,
    read_articles,
    read_description,
)
from qa.store.protocol import CorpusSummary, Ranking
from qa.types import Passage, SearchFilter

_WORDS = re.compile(r"\w+")


class MilvusStore:
    """One generation (collection) of a Milvus store, opened for search; satisfies qa.store.protocol.Store.

    Row r is the passage the build wrote r-th (the primary key), as in the local index, so the
    same folder gives the same rows in both stores. The server ranks; ties come back ordered by row
    (as the local store orders them), and Milvus Lite's negated BM25 scores are turned positive.

    Example:
        >>> store = open_milvus_store(parse_milvus_address("milvus://127.0.0.1:19530/news"))  # doctest: +SKIP
        >>> store.keyword_search("tram cost", 3, SearchFilter(source="example.org"))  # doctest: +SKIP
        [(12, 7.9), (3, 2.1), (30, 1.4)]
    """

    def __init__(self, connection: Connection, name: str, collection: str, description: schema.Description):
        self.connection = connection
        self.name = name
        self.collection = collection
        self.description = description
        self._articles: Mapping[str, str] | None = None
        # Passages and vectors of recent rows: a question asks for a candidate's passage and vector
        # more than once, and each ask is a round trip to the server.
        self._rows: OrderedDict[int, tuple[Passage, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MilvusStore({self.connection.address}, {self.collection})"

    @property
    def embedder_name(self) -> str:
        return self.description.embedder

    @property
    def generation(self) -> str:
        return self.collection

    def has_newer_generation(self) -> bool:
        """Whether the alias now points at another collection (a newer build, or an operator's rollback)."""
        try:
            live = self.connection.alias_target(self.name)
        except MilvusStoreError:
            return False  # the server is away: keep serving; the next question will say what failed
        return live is not None and live != self.collection

    def indexed_articles(self) -> Mapping[str, str]:
        if self._articles is None:
            self._articles = MappingProxyType(
                read_articles(self.connection, self.collection, self.description.article_count)
            )
        return self._articles

    def summary(self, max_titles: int = 5) -> CorpusSummary:
        titles: dict[str, str] = {}
        count, window = self.description.passage_count, 256
        for start in range(0, count, window):
            if len(titles) >= max_titles:
                break
            for passage in self.passages(range(start, min(start + window, count))):
                if len(titles) >= max_titles:
                    break
                titles.setdefault(passage.article_id, passage.title or passage.article_id)
        return CorpusSummary(
            article_count=self.description.article_count,
            passage_count=count,
            titles=tuple(titles.values()),
            first_date=self.description.first_date or None,
            last_date=self.description.last_date or None,
        )

    def count(self, search_filter: SearchFilter | None = None) -> int:
        expression = schema.filter_expression(search_filter)
        if not expression:
            return self.description.passage_count
        return count_rows(self.connection, self.collection, expression)

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        checked = self._checked(rows)
        fetched = self._fetch(checked)
        return [fetched[row][0] for row in checked.tolist()]

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        checked = self._checked(rows)
        fetched = self._fetch(checked)
        if not len(checked):
            return np.zeros((0, self.description.dimension), dtype=np.float32)
        return np.stack([fetched[row][1] for row in checked.tolist()]).astype(np.float32, copy=False)

    def dense_search(
        self, query_vectors: np.ndarray, k: int, search_filter: SearchFilter | None = None
    ) -> list[Ranking]:
        query_vectors = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
        if k <= 0:
            raise ValueError(f"k must be greater than 0, got {k}")
        dimension = self.description.dimension
        if query_vectors.shape[1] != dimension:
            raise ValueError(
                f"query vectors have {query_vectors.shape[1]} dimensions; this index holds {dimension} "
                f"(made with {self.embedder_name})"
            )
        if len(query_vectors) == 0:
            return []
        limit = min(k, self.description.passage_count, config.MILVUS_MAX_TOPK)
        if limit == 0:
            return [[] for _ in query_vectors]
        results = self.connection.call(
            "a vector search",
            "search",
            self.collection,
            data=query_vectors.tolist(),
            anns_field=schema.VECTOR,
            limit=limit,
            filter=schema.filter_expression(search_filter),
            output_fields=[schema.ROW],
            search_params={"metric_type": "IP", "params": {"ef": max(limit, config.MILVUS_EF_SEARCH)}},
        )
        return [_ranked((_row(hit), float(hit["distance"])) for hit in hits) for hits in results]

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
        return self._bm25(
            query,
            min(k, config.MILVUS_MAX_TOPK),
            schema.filter_expression(search_filter),
            drop_question_words,
        )

    def keyword_scores(
        self, query: str, rows: Sequence[int], *, drop_question_words: bool = True
    ) -> np.ndarray:
        checked = self._checked(rows)
        scores = np.zeros(len(checked), dtype=np.float32)
        wanted = np.unique(checked)
        found: dict[int, float] = {}
        for start in range(0, len(wanted), config.MILVUS_MAX_TOPK):
            chunk = wanted[start : start + config.MILVUS_MAX_TOPK]
            found.update(self._bm25(query, len(chunk), schema.rows_expression(chunk), drop_question_words))
        for i, row in enumerate(checked.tolist()):
            scores[i] = found.get(row, 0.0)
        return scores

    def keyword_text(self, query: str, drop_question_words: bool = True) -> str:
        """What the BM25 search sends: our tokens (qa/store/tokens.py), or the words for the server's
        analyzer."""
        if self.description.keyword_tokens == "ours":
            from qa.store.tokens import query_tokens

            return " ".join(query_tokens(query, drop_question_words=drop_question_words))
        words = _WORDS.findall(query)
        if drop_question_words:
            content = [w for w in words if w.lower() not in config.QUESTION_WORDS]
            words = content if content else words
        return " ".join(words)

    def hybrid_search(
        self,
        query: str,
        query_vector: np.ndarray,
        k: int,
        search_filter: SearchFilter | None = None,
        *,
        rrf_k: float = config.RRF_K,
        drop_question_words: bool = True,
    ) -> Ranking:
        """The server's own fusion: hybrid_search of the dense and BM25 searches with its RRFRanker.

        Not what the Retriever uses: its score fusion measured better on the SQuAD subset
        (bench/milvus.py, docs/scale-out.md); kept so the comparison can be rerun.
        """
        from pymilvus import AnnSearchRequest, RRFRanker

        limit = min(k, config.MILVUS_MAX_TOPK)
        expression = schema.filter_expression(search_filter)
        text = self.keyword_text(query, drop_question_words)
        vector = np.asarray(query_vector, dtype=np.float32).reshape(-1).tolist()
        requests = [
            AnnSearchRequest(
                data=[vector],
                anns_field=schema.VECTOR,
                limit=limit,
                expr=expression,
                param={"metric_type": "IP", "params": {"ef": max(limit, config.MILVUS_EF_SEARCH)}},
            )
        ]
        if text:
            requests.append(
                AnnSearchRequest(
                    data=[text],
                    anns_field=schema.SPARSE,
                    limit=limit,
                    expr=expression,
                    param={"metric_type": "BM25"},
                )
            )
        results = self.connection.call(
            "a hybrid search",
            "hybrid_search",
            self.collection,
            reqs=requests,
            ranker=RRFRanker(int(rrf_k)),
            limit=limit,
            output_fields=[schema.ROW],
        )
        return _ranked((_row(hit), float(hit["distance"])) for hit in results[0])

    def _bm25(self, query: str, limit: int, expression: str, drop_question_words: bool) -> Ranking:
        text = self.keyword_text(query, drop_question_words)
        if not text or limit <= 0 or self.description.passage_count == 0:
            return []
        results = self.connection.call(
            "a keyword search",
            "search",
            self.collection,
            data=[text],
            anns_field=schema.SPARSE,
            limit=limit,
            filter=expression,
            output_fields=[schema.ROW],
            search_params={"metric_type": "BM25"},
        )
        # Milvus returns BM25 scores; Milvus Lite returns them negated (as distances): either way
        # the score is the size. A passage sharing no word with the query is no evidence at all.
        return _ranked(
            (r, s) for r, s in ((_row(hit), abs(float(hit["distance"]))) for hit in results[0]) if s > 0
        )

    def _fetch(self, rows: np.ndarray) -> dict[int, tuple[Passage, np.ndarray]]:
        """row -> (passage, vector) for these rows, from the cache or in a few queries."""
        with self._lock:
            found = {row: self._rows[row] for row in rows.tolist() if row in self._rows}
            for row in found:
                self._rows.move_to_end(row)
        missing = sorted(set(rows.tolist()) - found.keys())
        for start in range(0, len(missing), config.MILVUS_QUERY_BATCH):
            chunk = missing[start : start + config.MILVUS_QUERY_BATCH]
            records = self.connection.call(
                "reading passages", "query", self.collection, ids=chunk, output_fields=schema.PASSAGE_FIELDS
            )
            for record in records:
                found[int(record[schema.ROW])] = (
                    passage_from_record(record),
                    np.asarray(record[schema.VECTOR], dtype=np.float32),
                )
            absent = [row for row in chunk if row not in found]
            if absent:
                raise MilvusStoreError(
                    f"{self.connection.address}: {self.collection} is out of step: row {absent[0]} is "
                    "missing. Rebuild it with: qa index --rebuild --articles DIR --store "
                    f"{self.connection.address}"
                )
        with self._lock:
            for row in missing:
                self._rows[row] = found[row]
            while len(self._rows) > config.MILVUS_ROW_CACHE:
                self._rows.popitem(last=False)
        return found

    def _checked(self, rows: Sequence[int]) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        count = self.description.passage_count
        outside = rows[(rows < 0) | (rows >= count)]
        if len(outside):
            raise ValueError(
                f"row {int(outside[0])} is not in this store: its {count} passages are rows 0 to {count - 1}"
            )
        return rows


def _row(hit: Any) -> int:
    entity = hit.get("entity") or {}
    return int(entity[schema.ROW] if schema.ROW in entity else hit["id"])


def _ranked(pairs) -> Ranking:
    """Best first; ties by row, as the local store orders them (the server's tie order is its own)."""
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def open_milvus_store(
    address: MilvusAddress,
    *,
    embedder: str | None = None,
    verify: bool = True,
    connection: Connection | None = None,
) -> MilvusStore:
    """The collection the alias points at, as a Store; refuses a missing, unfinished or incompatible one."""
    connection = connection if connection is not None else connect(address)
    retries = 5  # each retry needs a build to have moved the alias (and dropped what we read) meanwhile
    while True:
        collection = connection.alias_target(address.name)
        if collection is None:
            raise MilvusStoreError(
                f"No index in {address}. Build one with: qa index --articles DIR --store {address}"
            )
        try:
            description = read_description(connection, collection)
            check_compatible(address, collection, description, embedder)
            connection.ensure_loaded(collection)
            if verify and count_rows(connection, collection) != description.passage_count:
                raise MilvusStoreError(
                    f"{address}: {collection} is out of step: it holds {count_rows(connection, collection)} "
                    f"rows, its manifest says {description.passage_count}. Rebuild it with: qa index "
                    f"--rebuild --articles DIR --store {address}"
                )
            return MilvusStore(connection, address.name, collection, description)
        except MilvusStoreError:
            if retries == 0 or connection.alias_target(address.name) == collection:
                raise
            retries -= 1
