"""Tests for the pipeline's wiring (qa/pipeline.py): what each stage is handed."""
from __future__ import annotations

import pytest

from qa.pipeline import QAPipeline
from qa.read.protocol import empty_result
from qa.retrieve.conversation import Turn
from qa.store.build import build_index
from qa.types import Query


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
    pipeline.ask("Who is the mayor of Valmora?", history=[Turn("How much did the tram cost?", "412 million euros")])
    assert spy.queries == [Query("Who is the mayor of Valmora?")]
