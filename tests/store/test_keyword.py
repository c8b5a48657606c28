import shutil

import numpy as np
import pytest

from qa.retrieve.retriever import Retriever
from qa.store import tokens
from qa.store.local.build import build_index
from qa.store.local.keyword import KeywordIndex, write_keyword_index
from qa.store.local.store import open_store
from qa.store.tokens import query_tokens


def _index(tmp_path, texts):
    write_keyword_index(tmp_path / "keyword", texts)
    return KeywordIndex(tmp_path / "keyword")


def test_rows_keep_the_order_of_the_texts_through_save_and_load(tmp_path):
    texts = [f"Report number {word} about the harbour." for word in ("alpha", "bravo", "charlie", "delta")]
    index = _index(tmp_path, texts)
    assert index.size == len(texts)
    for row, word in enumerate(("alpha", "bravo", "charlie", "delta")):
        assert int(np.argmax(index.scores(word))) == row


def test_a_word_in_every_document_of_a_two_document_corpus_still_ranks(tmp_path):
    # DrQA's TF-IDF gives such a word zero IDF and returns nothing (DrQA #58, #73, #108).
    index = _index(
        tmp_path,
        [
            "The tram line opened on Thursday. The tram carries commuters; the tram is full.",
            "The council met about the budget and mentioned the tram once.",
        ],
    )
    scores = index.scores("tram")
    assert (scores > 0).all()
    assert scores[0] > scores[1]  # more occurrences rank first
    # A second, distinguishing word still decides between the two.
    assert int(np.argmax(index.scores("tram budget"))) == 1


def test_question_words_are_dropped_from_the_query_only(tmp_path):
    index = _index(tmp_path, ["When the rain came, the river rose.", "The mayor opened the bridge in May."])
    # "when" matches the first text only; the question is about the bridge.
    assert int(np.argmax(index.scores("When did the mayor open the bridge?"))) == 1
    assert index.scores("When did the mayor open the bridge?")[0] == 0.0
    assert index.scores("when", drop_question_words=False)[0] > 0
    assert "mayor" in query_tokens("When did the mayor open the bridge?")
    assert not {"when", "did"} & set(query_tokens("When did the mayor open the bridge?"))


def test_a_query_of_question_words_only_keeps_them():
    assert query_tokens("Who?") == ["who"]


def test_empty_and_stopword_queries_score_zero_everywhere(tmp_path):
    index = _index(tmp_path, ["One text.", "Another text."])
    for query in ("", "   ", "the of and"):
        assert index.scores(query).tolist() == [0.0, 0.0]


def test_empty_texts_do_not_break_the_index(tmp_path):
    index = _index(tmp_path, ["", "The tram opened."])
    assert index.scores("tram")[0] == 0.0 and index.scores("tram")[1] > 0


def test_question_words_are_stemmed_like_the_queries():
    assert tokens._question_tokens() >= {"what", "who", "when", "how"}
    assert all(
        token in tokens._question_tokens() for token in query_tokens("does many", drop_question_words=False)
    )


@pytest.mark.slow
def test_two_article_corpus_ranks_sensibly_in_every_mode(tmp_path, story_pair_dir, embedder):
    shutil.copytree(story_pair_dir, tmp_path / "articles")
    build_index(tmp_path / "articles", tmp_path / "index", embedder)
    retriever = Retriever(open_store(tmp_path / "index"), embedder)
    # "Bluewake" is in both articles: a word in every document must still find passages, of both.
    hits = retriever.search("Bluewake", 5, mode="keyword")
    assert len(hits) == 5
    assert all("bluewake" in hit.passage.text.lower() for hit in hits)
    assert {hit.passage.article_id for hit in hits} == {p.name for p in story_pair_dir.iterdir()}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True) and hits[-1].score > 0
    # With a name only one article has, that article's passage comes first: the name is a rare
    # word, which is what the keyword side adds to the fused ranking.
    for mode in ("keyword", "hybrid"):
        top = retriever.search("What did Ilse Marrow say about Bluewake?", 3, mode=mode)[0]
        assert "Ilse Marrow" in top.passage.text, mode


def test_tokenising_in_slices_builds_the_same_index(tmp_path, monkeypatch):
    from qa import config

    texts = [
        f"The {word} harbour fee rose to {n} euros; trams and ferries {word}."
        for n, word in enumerate(["alpha", "", "bravo", "charlie", "the", "delta", "echo"])
    ]
    whole = _index(tmp_path / "whole", texts)
    monkeypatch.setattr(config, "KEYWORD_TOKENIZE_BATCH", 2)
    sliced = _index(tmp_path / "sliced", texts)
    for query in ("harbour fee", "bravo trams", "delta echo euros", "the"):
        np.testing.assert_array_equal(sliced.scores(query), whole.scores(query))
    # mmap=True (what an index load uses) reads the same scores
    np.testing.assert_array_equal(
        KeywordIndex(tmp_path / "sliced" / "keyword", mmap=True).scores("harbour fee"),
        sliced.scores("harbour fee"),
    )
