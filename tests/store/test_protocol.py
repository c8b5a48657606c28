"""qa/store/protocol.py: every store satisfies the Store protocol, on real indexes: the local FAISS +
bm25s store (exact and approximate) and a Milvus collection on a real Milvus Lite server, with the
same rows, hits, order and filters (scores are each engine's own: asserted only where they must agree)."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

from qa.retrieve.filters import SearchFilter
from qa.store.location import LocalLocation, StoreLocation, parse_location
from qa.store.protocol import Store

pytestmark = pytest.mark.slow

ARTICLES = {
    # path: (date, source URL or None, text)
    "harbour/fee.md": (
        "2024-05-02",
        "https://harbour.example/fee",
        "The port authority of Valmora raised the harbour fee to 4.25 euros a tonne to pay for a new "
        "breakwater.",
    ),
    "harbour/storm.md": (
        "2024-06-10",
        "https://harbour.example/storm",
        "A spring storm closed the harbour for two days and damaged three fishing boats moored at the old "
        "pier.",
    ),
    "city/library.md": (
        "2023-11-20",
        "https://city.example/library",
        "The city library opened a floating reading room on a converted barge holding four thousand books.",
    ),
    "notes/lighthouse.md": (
        None,
        None,
        "Volunteers repainted the lighthouse on the northern breakwater in red and white over one weekend.",
    ),
}
PROTOCOL_MEMBERS = (
    "embedder_name",
    "generation",
    "has_newer_generation",
    "indexed_articles",
    "summary",
    "count",
    "passages",
    "vectors",
    "dense_search",
    "keyword_search",
    "keyword_scores",
)


def write_corpus(folder: Path, articles: dict = ARTICLES) -> Path:
    for relative, (date, url, text) in articles.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        front = (
            [f"title: {relative}"] + ([f"date: {date}"] if date else []) + ([f"url: {url}"] if url else [])
        )
        path.write_text("---\n" + "\n".join(front) + "\n---\n\n" + text + "\n", encoding="utf-8")
    return folder


STORES = ["local-Flat", "local-HNSW32", "milvus"]


def location_of(kind: str, folder: Path, request, name: str) -> StoreLocation:
    """A local index folder, or a store on the session's Milvus Lite server (started only when asked for)."""
    if kind == "milvus":
        return parse_location(request.getfixturevalue("milvus_server").address(name))
    return LocalLocation(folder / "index")


def build(location: StoreLocation, kind: str, articles: Path, embedder):
    options = {"dense_index": kind.split("-")[1]} if kind.startswith("local-") else {}
    return location.build(articles, embedder, **options)


@pytest.fixture(scope="module", params=STORES)
def store(request, tmp_path_factory, embedder) -> Store:
    """The four articles indexed with the real model: FAISS exact and approximate, and Milvus (HNSW)."""
    folder = tmp_path_factory.mktemp("protocol")
    location = location_of(request.param, folder, request, "protocol")
    build(location, request.param, write_corpus(folder / "articles"), embedder)
    return location.open(embedder=embedder.name)


def _row(store: Store, article_id: str) -> int:
    rows = range(store.count())
    return next(r for r, p in zip(rows, store.passages(rows)) if p.article_id == article_id)


def test_each_store_has_every_member_of_the_protocol_with_its_signature(store):
    assert isinstance(store, Store)
    for name in PROTOCOL_MEMBERS:
        promised, given = inspect.getattr_static(Store, name), inspect.getattr_static(type(store), name)
        assert isinstance(given, property) == isinstance(promised, property), name
        if not isinstance(promised, property):
            assert list(inspect.signature(given).parameters) == list(
                inspect.signature(promised).parameters
            ), name
    assert set(PROTOCOL_MEMBERS) == {n for n in vars(Store) if not n.startswith("_")}


def test_the_manifest_side_names_the_model_the_articles_and_the_generation(store, embedder):
    assert store.embedder_name == embedder.name
    assert set(store.indexed_articles()) == set(ARTICLES)
    assert all(len(h) == 64 for h in store.indexed_articles().values())  # sha256 of each file
    assert store.generation in ("gen-000001", "protocol__gen_000001") and not store.has_newer_generation()


def test_the_summary_counts_the_corpus_and_spans_its_dates(store):
    summary = store.summary(max_titles=2)
    dates = sorted(date for date, _url, _text in ARTICLES.values() if date)
    assert (summary.article_count, summary.passage_count) == (len(ARTICLES), store.count())
    assert len(summary.titles) == 2 and set(summary.titles) <= set(ARTICLES)
    assert (summary.first_date, summary.last_date) == (dates[0], dates[-1])


def test_passages_and_vectors_come_back_by_row_in_the_order_asked(store, embedder):
    assert store.count() == len(ARTICLES)
    rows = [3, 0, 2]
    passages = store.passages(rows)
    assert [p.text for p in passages] == [store.passages([r])[0].text for r in rows]
    vectors = store.vectors(rows)
    assert vectors.dtype == np.float32 and vectors.shape == (3, embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The stored vector of a passage is the model's vector of its text.
    assert float(vectors[1] @ embedder.encode([passages[1].text])[0]) > 0.999
    assert store.passages([]) == [] and store.vectors([]).shape == (0, embedder.dimension)
    for bad in (4, -1):
        with pytest.raises(
            ValueError, match=f"row {bad} is not in this store: its 4 passages are rows 0 to 3"
        ):
            store.passages([0, bad])
        with pytest.raises(ValueError, match=f"row {bad} "):
            store.vectors([bad])


def test_dense_search_ranks_each_query_vector_and_applies_filters(store, embedder):
    fee, library = _row(store, "harbour/fee.md"), _row(store, "city/library.md")
    queries = embedder.encode(
        ["How much is the harbour fee per tonne?", "Where can I borrow books on a boat?"]
    )
    first, second = store.dense_search(queries, 10)
    assert first[0][0] == fee and second[0][0] == library
    for ranking in (first, second):
        assert len(ranking) == store.count()  # k beyond the corpus: every passage once, no padding rows
        assert [s for _, s in ranking] == sorted((s for _, s in ranking), reverse=True)
    # Scores are inner products of unit vectors: the exact cosine, up to the index's rounding.
    assert first[0][1] == pytest.approx(float(store.vectors([fee])[0] @ queries[0]), abs=1e-3)
    harbour = store.dense_search(queries[1:], 10, SearchFilter(source="HARBOUR.example"))[0]
    assert {store.passages([r])[0].article_id for r, _ in harbour} == {"harbour/fee.md", "harbour/storm.md"}
    assert store.dense_search(queries, 3, SearchFilter(date_from="2030")) == [[], []]
    with pytest.raises(ValueError, match="query vectors have 3 dimensions; this index holds 384"):
        store.dense_search(np.ones((1, 3), dtype=np.float32), 3)
    with pytest.raises(ValueError, match="k must be greater than 0, got 0"):
        store.dense_search(queries, 0)


def test_keyword_search_and_keyword_scores_agree_and_apply_filters(store):
    storm = _row(store, "harbour/storm.md")
    top = store.keyword_search("Which boats did the storm damage?", 10)
    assert top[0][0] == storm and all(score > 0 for _, score in top)
    assert len(top) < store.count()  # passages sharing no word with the query are no evidence
    every = store.keyword_scores("Which boats did the storm damage?", range(store.count()))
    assert dict(top) == {r: pytest.approx(float(s)) for r, s in enumerate(every) if s > 0}

    def found(ranking):
        return {store.passages([r])[0].article_id for r, _ in ranking}

    assert found(store.keyword_search("breakwater", 10)) == {"harbour/fee.md", "notes/lighthouse.md"}
    assert found(
        store.keyword_search("breakwater", 10, SearchFilter(date_from="2024", source="harbour"))
    ) == {"harbour/fee.md"}
    assert (
        store.keyword_search("lighthouse", 5, SearchFilter(date_to="2024-12-31")) == []
    )  # undated: left out
    assert store.keyword_search("lighthouse", 5)[0][0] == _row(store, "notes/lighthouse.md")


def test_filters_are_counted_by_the_store(store):
    assert store.count(None) == store.count(SearchFilter()) == 4
    assert store.count(SearchFilter(date_from="2024")) == 2
    assert store.count(SearchFilter(date_to="2023-11")) == 1  # the bound keeps all of November
    assert store.count(SearchFilter(date_to="2023-11-19")) == 0
    assert store.count(SearchFilter(source="notes/")) == 1  # part of the file path, not only the URL
    assert store.count(SearchFilter(date_from="2000")) == 3  # the undated article cannot be after 2000


@pytest.mark.parametrize("kind", ["local-Flat", "milvus"])
def test_a_newer_generation_is_noticed_and_served_by_a_new_store(kind, request, tmp_path, embedder):
    location = location_of(kind, tmp_path, request, "newer")
    build(location, kind, write_corpus(tmp_path / "articles"), embedder)
    served = location.open()
    first = served.generation
    write_corpus(
        tmp_path / "articles",
        {
            "city/tram.md": (
                "2024-07-01",
                None,
                "The new tram line to the harbour opened with free rides for a week.",
            )
        },
    )
    build(location, kind, tmp_path / "articles", embedder)
    assert served.has_newer_generation() and served.generation == first
    assert served.count() == 4  # the old store still serves its own generation, whole
    fresh = location.open()
    assert fresh.generation != first and not fresh.has_newer_generation() and fresh.count() == 5
    assert "city/tram.md" in fresh.indexed_articles() and "city/tram.md" not in served.indexed_articles()


def test_the_stores_give_the_same_rows_and_hits_for_the_same_questions(request, tmp_path, embedder):
    """One folder in both stores: the same passages at the same rows, and the same ranking for each
    question and filter (ids and order; each engine scores on its own scale)."""
    articles = write_corpus(tmp_path / "articles")
    local, milvus = (location_of(kind, tmp_path, request, "same_hits") for kind in ("local-Flat", "milvus"))
    for location, kind in ((local, "local-Flat"), (milvus, "milvus")):
        build(location, kind, articles, embedder)
    a, b = local.open(), milvus.open()
    rows = range(a.count())
    assert a.passages(rows) == b.passages(rows) and dict(a.indexed_articles()) == dict(b.indexed_articles())
    # The local store keeps its exact copy in float16 (format 2), Milvus in float32: components of a
    # unit vector differ by at most float16's half step (2**-12 near 0.1), nothing more.
    np.testing.assert_allclose(a.vectors(rows), b.vectors(rows), atol=2**-11)
    questions = [
        "How much is the harbour fee?",
        "Which boats did the storm damage?",
        "Where can I read books on a barge?",
        "Who repainted the lighthouse?",
        "What happened at the breakwater?",
    ]
    filters = [
        None,
        SearchFilter(date_from="2024"),
        SearchFilter(date_to="2023-11"),
        SearchFilter(source="HARBOUR"),
    ]
    for question in questions:
        vector = embedder.encode([question])
        for search_filter in filters:
            dense_a, dense_b = (
                a.dense_search(vector, 4, search_filter)[0],
                b.dense_search(vector, 4, search_filter)[0],
            )
            assert [r for r, _ in dense_a] == [r for r, _ in dense_b], (question, search_filter)
            np.testing.assert_allclose(
                [s for _, s in dense_a], [s for _, s in dense_b], atol=1e-4
            )  # cosines: one scale
            keyword_a, keyword_b = (
                a.keyword_search(question, 4, search_filter),
                b.keyword_search(question, 4, search_filter),
            )
            assert [r for r, _ in keyword_a] == [r for r, _ in keyword_b], (question, search_filter)
            assert a.count(search_filter) == b.count(search_filter)
        # BM25 on both: bm25s leaves out BM25's (k1 + 1) factor, a constant that fusion divides away.
        scores_a, scores_b = a.keyword_scores(question, rows), b.keyword_scores(question, rows)
        assert ((scores_a > 0) == (scores_b > 0)).all()
        if scores_a.max() > 0:
            np.testing.assert_allclose(scores_a / scores_a.max(), scores_b / scores_b.max(), atol=1e-4)
