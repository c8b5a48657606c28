"""Tests for the pipeline's wiring (qa/pipeline.py): what each stage is handed."""

from __future__ import annotations

import pytest

from qa.pipeline import QAPipeline, answer_from
from qa.read.protocol import empty_result
from qa.retrieve.conversation import Turn
from qa.store.local.build import build_index
from qa.types import AnswerResult, Query


class SpyReader:
    """Records what it is asked; answers nothing."""

    name = "spy"
    no_answer_threshold = None

    def __init__(self) -> None:
        self.queries: list[Query] = []

    def read(self, query, passages):
        self.queries.append(query)
        return empty_result(self.name)


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory, sample_articles_dir, embedder):
    index_dir = tmp_path_factory.mktemp("pipeline") / "index"
    build_index(sample_articles_dir, index_dir, embedder)
    return index_dir


def test_a_follow_up_reaches_the_reader_as_its_question_and_the_carried_words(sample_index, embedder) -> None:
    spy = SpyReader()
    pipeline = QAPipeline.load(sample_index, reader=spy, embedder=embedder)
    history = [Turn("How many seats did the Coastal Alliance win in the regional assembly?", "31")]
    answer = pipeline.ask("And the Harbour Party?", history=history)
    (query,) = spy.queries
    assert query.question == "And the Harbour Party?"  # as typed, not rewritten
    assert "seats" in query.context and "how many" in query.context
    assert answer.search_query == query.search_text != query.question


def test_a_self_contained_question_carries_nothing(sample_index, embedder) -> None:
    spy = SpyReader()
    pipeline = QAPipeline.load(sample_index, reader=spy, embedder=embedder)
    pipeline.ask(
        "Who is the mayor of Valmora?", history=[Turn("How much did the tram cost?", "412 million euros")]
    )
    assert spy.queries == [Query("Who is the mayor of Valmora?")]


def test_answer_from_gives_the_answer_with_the_passages_read_and_the_readers_result(sample_index, embedder):
    spy = PassageSpy()
    pipeline = QAPipeline.load(sample_index, reader=spy, embedder=embedder)
    returned = []
    spy_read = spy.read
    spy.read = lambda query, passages: returned.append(spy_read(query, passages)) or returned[-1]
    result = answer_from(
        pipeline.retriever,
        spy,
        Query("Who is the mayor of Valmora?"),
        k=3,
        mode="hybrid",
        no_answer_threshold=0.0,
    )
    assert isinstance(result, AnswerResult)
    assert result.reader_result is returned[0]  # the reader's own result, before composing
    assert len(result.hits) == 3 and [h.rank for h in result.hits] == [0, 1, 2]
    assert spy.articles == [{h.passage.article_id for h in result.hits}]
    assert result.answer.answer is None and result.answer.question == "Who is the mayor of Valmora?"
    assert set(result.answer.timings_ms) == {"retrieve_ms", "read_ms", "total_ms"}


class PassageSpy(SpyReader):
    def __init__(self) -> None:
        super().__init__()
        self.articles: list[set[str]] = []

    def read(self, query, passages):
        self.articles.append({p.article_id for p in passages})
        return super().read(query, passages)


def test_a_rebuilt_index_is_served_from_the_next_question_on(tmp_path, sample_articles_dir, embedder) -> None:
    import shutil

    articles, index_dir = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(sample_articles_dir, articles)
    build_index(articles, index_dir, embedder)
    spy = PassageSpy()
    pipeline = QAPipeline.load(index_dir, reader=spy, embedder=embedder)
    question = "Which lighthouse keeper rescued the fishing crew near Gull Point?"
    pipeline.ask(question)
    assert "lighthouse.md" not in spy.articles[-1]

    (articles / "lighthouse.md").write_text(
        "---\ntitle: Keeper rescues crew at Gull Point\ndate: 2024-10-02\n---\n\n"
        "The lighthouse keeper Ines Moreau rescued a fishing crew of four near Gull Point on Tuesday night, "
        "rowing out through the storm after their engine failed.\n",
        encoding="utf-8",
    )
    build_index(articles, index_dir, embedder)  # another process's rebuild, as far as the pipeline knows
    pipeline.ask(question)
    assert "lighthouse.md" in spy.articles[-1]


def test_passages_from_the_index_keep_their_exact_offset_into_the_article(
    sample_index, sample_articles_dir, embedder
):
    from qa.ingest.articles import load_articles
    from qa.ingest.split import article_text

    texts = {a.article_id: article_text(a) for a in load_articles(sample_articles_dir).articles}
    store = QAPipeline.load(sample_index, reader=SpyReader(), embedder=embedder).store
    passages = store.passages(range(store.count()))
    assert passages and all(p.article_offset is not None for p in passages)
    for p in passages:
        assert texts[p.article_id][p.article_offset : p.article_offset + len(p.text)] == p.text
