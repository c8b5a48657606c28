"""qa/retrieve/retriever.py: the Retriever over a Store, with every mode and rows kept in step."""

import shutil

import numpy as np
import pytest
from crafted import HashEmbedder, write_article, write_crafted_corpus

from qa.retrieve.retriever import Retriever
from qa.store.local.build import build_index
from qa.store.local.store import open_store

# ------------------------------------------------------------------ rows in step after build, load, update


@pytest.mark.slow
def test_keyword_and_dense_rows_are_the_same_passages_after_build_save_load_and_update(tmp_path):
    corpus = write_crafted_corpus(tmp_path / "corpus")
    embedder = HashEmbedder()
    build_index(corpus, tmp_path / "index", embedder)

    def check():
        store = open_store(tmp_path / "index")
        retriever = Retriever(store, embedder)
        passages = store.passages(range(store.count()))
        assert store.index.keyword.size == len(passages) == store.index.dense.ntotal
        distinct = {p.text: p for p in passages}.values()  # copies of a text may tie
        for passage in distinct:
            row = passages.index(passage)
            dense_top = retriever.dense_ranking(passage.text, 1, None)[0][0]
            keyword_top = retriever.keyword_ranking(passage.text, 1, None)[0][0]
            assert passages[dense_top].text == passages[keyword_top].text == passage.text, passage.passage_id
            # Stored in float16: equal to about 1e-3 (another passage's vector differs by tenths).
            assert np.allclose(store.vectors([row])[0], embedder.encode([passage.text])[0], atol=1e-3)
        return len(passages)

    before = check()
    # An incremental build (one new article, sorting first; one removed) must keep both in step.
    write_article(
        corpus,
        "aaa/new.md",
        "New",
        "2024-06-01",
        "https://aaa.example/new",
        ["A brand new article about a ferry strike that stopped every crossing on Monday morning."],
    )
    shutil.rmtree(corpus / "outlet-g")
    report = build_index(corpus, tmp_path / "index", embedder)
    assert report.embedded_passages == 1
    assert check() == before


# ------------------------------------------- the real model on the story pair and the sample articles


@pytest.mark.slow
def test_every_mode_returns_k_ranked_hits_and_bad_arguments_are_refused(retriever):
    for mode in ("dense", "keyword", "hybrid"):
        hits = retriever.search("central bank interest rate", 3, mode=mode)
        assert [h.rank for h in hits] == list(range(len(hits))) and 0 < len(hits) <= 3
    with pytest.raises(ValueError, match="k must be greater than 0"):
        retriever.search("x", 0)
    with pytest.raises(ValueError, match="hybrid, dense, keyword"):
        retriever.search("x", 3, mode="magic")


# ------------------------------------------- a story's answer paragraph against other stories' leads

EARNINGS_LEADS = {
    "harbour": "Harbour Times Co said first quarter earnings rose on higher newspaper advertising revenue.",
    "gannett": "Gannett Co said first quarter earnings rose on higher newspaper advertising revenue again.",
    "knight": "Knight Ridder Inc said first quarter earnings rose on newspaper advertising revenue gains.",
    "tribune": "Tribune Co said its first quarter earnings rose as newspaper advertising revenue grew.",
}


@pytest.mark.parametrize(("passage_weight", "answer_read"), [(1.0, False), (0.3, True)])
def test_the_best_storys_answer_paragraph_is_read_when_passages_share_their_articles_score(
    tmp_path, passage_weight, answer_read
):
    for name, lead in EARNINGS_LEADS.items():
        body = [lead, f"The company's chairman said {name} would open two printing plants in the autumn."]
        if name == "harbour":
            body[1] = "Net profit was 41.1 mln dlrs against 35.2 mln dlrs a year ago, the company said."
        write_article(
            tmp_path / "corpus",
            f"{name}.md",
            f"{name} results",
            "1987-04-02",
            f"https://{name}.example",
            body,
        )
    build_index(tmp_path / "corpus", tmp_path / "index", HashEmbedder())
    retriever = Retriever(open_store(tmp_path / "index"), HashEmbedder(), passage_weight=passage_weight)
    hits = retriever.search("How much did Harbour Times Co earn in the first quarter?", 3)
    assert hits[0].passage.text.startswith("Harbour Times Co said")  # its lead is the best passage either way
    assert any("41.1 mln dlrs" in hit.passage.text for hit in hits) is answer_read


def test_a_passage_weight_outside_0_to_1_is_refused(crafted):
    with pytest.raises(ValueError, match="passage_weight"):
        Retriever(crafted.store, crafted.embedder, passage_weight=1.5)
