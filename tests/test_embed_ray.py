"""qa/embed_ray.py: `qa index --ray` on a real local Ray cluster gives the index a single process gives."""

from __future__ import annotations

import numpy as np
import pytest

from qa import config
from qa.pipeline import QAPipeline
from qa.store.location import LocalLocation, parse_location

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How much did the Green Line tram cost?",
    "Who is the mayor of Valmora?",
    "How many seats did the Coastal Alliance win?",
    "What is the interest rate now?",
]


# First, before the module's actors below take the cluster's CPUs.
def test_qa_index_with_ray_reports_what_it_embedded(ray_cluster, tmp_path, sample_articles_dir, capsys):
    from qa.cli import main

    assert (
        main(
            [
                "index",
                "--articles",
                str(sample_articles_dir),
                "--store",
                str(tmp_path / "index"),
                "--ray",
                "auto",
            ]
        )
        == 0
    )
    count = LocalLocation(tmp_path / "index").open().count()
    assert f"{count} passages ({count} embedded, 0 reused" in capsys.readouterr().out
    assert ray_cluster.is_initialized()  # a cluster the command did not start is left running
    assert main(["index", "--store", str(tmp_path / "index"), "--ray", " "]) == 2
    assert "--ray needs auto or a Ray cluster's address" in capsys.readouterr().err


@pytest.fixture(scope="module")
def ray_embedder(ray_cluster, embedder):
    from qa.embed_ray import RayEmbedder

    with RayEmbedder(config.DEFAULT_EMBEDDER, embedder.backend, address="auto") as ray_embedder:
        yield ray_embedder


def test_the_local_cluster_listens_on_loopback_only_and_runs_one_actor_per_cpu(ray_cluster, ray_embedder):
    assert ray_cluster.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    assert {node["NodeManagerAddress"] for node in ray_cluster.nodes()} == {"127.0.0.1"}
    assert len(set(ray_embedder.pids)) == config.RAY_LOCAL_CPUS  # each actor its own process, its own model


def test_ray_vectors_are_the_single_process_vectors_in_order(ray_embedder, embedder):
    texts = [
        f"Passage {i}: the tram line number {i} carried {i * 37} riders on its first day." for i in range(23)
    ]
    vectors = ray_embedder.encode(texts)
    assert vectors.shape == (23, embedder.dimension) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, embedder.encode(texts), atol=1e-5)
    assert ray_embedder.encode([]).shape == (0, embedder.dimension)
    assert (ray_embedder.name, ray_embedder.dimension) == (embedder.name, embedder.dimension)


@pytest.mark.parametrize("kind", ["local", "milvus"])
def test_a_ray_build_equals_a_single_process_build(
    kind, request, tmp_path, sample_articles_dir, embedder, ray_embedder
):
    def location(name):
        if kind == "milvus":
            return parse_location(request.getfixturevalue("milvus_server").address(f"ray_{name}"))
        return LocalLocation(tmp_path / name)

    single, spread = location("single"), location("spread")
    single.build(sample_articles_dir, embedder)
    report = spread.build(sample_articles_dir, ray_embedder)
    assert report.embedded_passages == report.passages > 0
    a, b = single.open(), spread.open()
    rows = range(a.count())
    assert a.passages(rows) == b.passages(rows)
    np.testing.assert_allclose(a.vectors(rows), b.vectors(rows), atol=1e-5)
    pipelines = [
        QAPipeline.load(location, reader="bundled", embedder=embedder) for location in (single, spread)
    ]
    answered = 0
    for question in QUESTIONS:
        first, second = (p.ask(question) for p in pipelines)
        answered += first.answer is not None
        assert first.answer == second.answer
        assert [c.passage_id for c in first.citations] == [c.passage_id for c in second.citations]
    assert answered >= 3
