import json
import shutil

import numpy as np
import pytest

from qa.retrieve.retriever import Retriever
from qa.store import local as store
from qa.store.local import IndexStoreError, build_lock, open_index
from qa.store.local.build import build_index, index_status
from qa.store.local.store import LocalStore

pytestmark = pytest.mark.slow


@pytest.fixture()
def articles(tmp_path, story_pair_dir):
    folder = tmp_path / "articles"
    shutil.copytree(story_pair_dir, folder)
    return folder


@pytest.fixture()
def built(tmp_path, articles, embedder):
    index_dir = tmp_path / "index"
    build_index(articles, index_dir, embedder)
    return index_dir


def test_round_trip_finds_the_passage_holding_a_known_sentence(built, embedder):
    loaded = open_index(built, embedder=embedder.name)
    assert len(loaded.passages) == loaded.manifest.passage_count == loaded.dense.ntotal == len(loaded.vectors)
    assert loaded.manifest.article_count == 2
    retriever = Retriever(LocalStore(loaded), embedder)
    target = next(p for p in loaded.passages if "2,600 customer accounts were broken into" in p.text)
    for mode in ("dense", "keyword", "hybrid"):
        hits = retriever.search(
            "As the company says, some 2,600 customer accounts were broken into in the attack.", 3, mode=mode
        )
        assert hits[0].passage.passage_id == target.passage_id, mode


def test_index_built_with_another_embedder_is_refused_with_rebuild_advice(built, embedder):
    generation = store.current_generation(built)
    manifest = json.loads((generation / store.MANIFEST_FILE).read_text())
    manifest["embedder"] = "some-org/other-model"
    (generation / store.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IndexStoreError, match="other-model.*qa index --rebuild"):
        open_index(built, embedder=embedder.name)


def test_index_of_another_format_version_is_refused(built, embedder):
    generation = store.current_generation(built)
    manifest = json.loads((generation / store.MANIFEST_FILE).read_text())
    manifest["format_version"] = store.FORMAT_VERSION + 1
    (generation / store.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IndexStoreError, match="format version"):
        open_index(built, embedder=embedder.name)


def test_an_index_of_the_first_format_is_refused_with_the_command_that_rebuilds_it(built, embedder):
    """Format 1 held passages.jsonl and float32 vectors; reading it would cost the full load this format
    removes."""
    generation = store.current_generation(built)
    manifest = json.loads((generation / store.MANIFEST_FILE).read_text())
    manifest["format_version"] = 1
    (generation / store.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(
        IndexStoreError,
        match="format version 1; this version of qa reads formats 2 and 3. Rebuild it with: qa index "
        "--rebuild",
    ):
        open_index(built, embedder=embedder.name)


def test_a_file_cut_short_is_refused_at_load(built, embedder):
    vectors = store.current_generation(built) / store.VECTORS_FILE
    vectors.write_bytes(vectors.read_bytes()[:-8])
    with pytest.raises(IndexStoreError, match="damaged: vectors.npy .*size differs"):
        open_index(built, embedder=embedder.name)


def test_a_flipped_byte_is_found_by_the_checksums_on_demand_not_at_every_load(built, embedder):
    generation = store.current_generation(built)
    vectors = generation / store.VECTORS_FILE
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    open_index(built, embedder=embedder.name)  # a load reads sizes, not every byte
    with pytest.raises(IndexStoreError, match="damaged: vectors.npy .*checksum differs"):
        store.verify_files(generation, store.read_manifest(built), built, checksums=True)


def test_an_index_written_before_sizes_were_recorded_is_checked_by_checksum(built, embedder):
    generation = store.current_generation(built)
    manifest_path = generation / store.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    del manifest["sizes"]
    manifest["files"]["manifest.json"] = "0" * 64  # names a file whose checksum cannot match
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexStoreError, match="checksum differs"):
        open_index(built, embedder=embedder.name)


def test_missing_index_says_how_to_build_one(tmp_path, embedder):
    with pytest.raises(IndexStoreError, match="qa index --articles"):
        open_index(tmp_path / "nothing-here", embedder=embedder.name)


def test_failure_mid_write_leaves_previous_index_loadable(
    built, articles, embedder, monkeypatch, sample_articles_dir
):
    before = open_index(built, embedder=embedder.name)
    shutil.copy(next(sample_articles_dir.glob("*.md")), articles / "new.md")

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("qa.store.local.keyword.write_keyword_index", crash)
    with pytest.raises(OSError):
        build_index(articles, built, embedder)
    after = open_index(built, embedder=embedder.name)
    assert [p.passage_id for p in after.passages] == [p.passage_id for p in before.passages]
    monkeypatch.undo()
    # The next run completes the work and clears the unfinished build.
    report = build_index(articles, built, embedder)
    assert report.status.added == ("new.md",)
    assert not list(built.glob(".building-*"))


def test_incremental_build_embeds_only_changes_and_matches_full_rebuild(
    tmp_path, built, articles, embedder, sample_articles_dir
):
    shutil.copy(next(sample_articles_dir.glob("*.md")), articles / "new.md")
    report = build_index(articles, built, embedder)
    new_passages = [p for p in open_index(built).passages if p.article_id == "new.md"]
    assert report.embedded_passages == len(new_passages) > 0
    assert report.status.unchanged == 2

    full_dir = tmp_path / "full"
    build_index(articles, full_dir, embedder, rebuild=True)
    incremental, full = open_index(built), open_index(full_dir)
    assert [p.passage_id for p in incremental.passages] == [p.passage_id for p in full.passages]
    np.testing.assert_allclose(incremental.vectors, full.vectors, atol=1e-5)

    (articles / "new.md").unlink()
    report = build_index(articles, built, embedder)
    assert report.status.removed == ("new.md",) and report.embedded_passages == 0
    assert not any(p.article_id == "new.md" for p in open_index(built).passages)
    assert not index_status(articles, built, embedder.name).stale


def test_second_build_of_the_same_directory_is_refused_while_one_runs(built, articles, embedder):
    with build_lock(built):
        with pytest.raises(IndexStoreError, match="Another `qa index`"):
            build_index(articles, built, embedder, rebuild=True)
    assert open_index(built).manifest.article_count == 2


def test_the_previous_generation_stays_readable_until_the_next_build_commits(
    tmp_path, sample_articles_dir, embedder
):
    index_dir = tmp_path / "index"
    build_index(sample_articles_dir, index_dir, embedder)
    first = store.current_generation(index_dir)
    build_index(sample_articles_dir, index_dir, embedder, rebuild=True)
    second = store.current_generation(index_dir)
    # A reader that took the first generation just before the switch still finds every file of it.
    assert second != first and first.is_dir()
    store.verify_files(first, store.read_manifest(index_dir, first), index_dir)
    build_index(sample_articles_dir, index_dir, embedder, rebuild=True)
    assert not first.exists() and second.is_dir()
    assert sorted(p.name for p in index_dir.glob("gen-*")) == [
        second.name,
        store.current_generation(index_dir).name,
    ]


def test_vectors_read_by_row_without_a_memory_map_equal_the_stored_ones(built, embedder):
    loaded = open_index(built, embedder=embedder.name)
    rows = [len(loaded.vectors) - 1, 0, 2, 0]
    got = loaded.vector_rows.rows(rows)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.asarray(loaded.vectors[rows], dtype=np.float32))


def test_a_faiss_index_built_from_rows_read_with_pread_equals_one_built_from_the_map(tmp_path):
    from qa.store.local import VectorRows
    from qa.store.local.dense import build_dense_index

    vectors = np.random.default_rng(15).standard_normal((5000, 16)).astype(np.float16)
    np.save(tmp_path / "vectors.npy", vectors)
    rows = VectorRows(tmp_path / "vectors.npy")
    np.testing.assert_array_equal(rows[100:140], vectors[100:140])
    queries = vectors[:20].astype(np.float32)
    from_rows, _ = build_dense_index(rows, "IVF64,SQ8")
    from_map, _ = build_dense_index(np.load(tmp_path / "vectors.npy", mmap_mode="r"), "IVF64,SQ8")
    np.testing.assert_array_equal(from_rows.search(queries, 10)[1], from_map.search(queries, 10)[1])
    rows.close()


def test_keyword_ties_at_the_cut_keep_the_lowest_rows_whatever_the_cpu():
    # numpy's argpartition keeps different members of a tie on AVX2 and AVX-512 kernels (seen under
    # QEMU as an AVX2-only CPU): which passages make the list must not depend on it.
    from qa.store.local.store import _top

    scores = np.zeros(2000, np.float32)
    scores[::3] = 1.5
    scores[7] = 4.0
    assert _top(scores, 10) == [(7, 4.0)] + [(row, 1.5) for row in range(0, 27, 3)]
    assert _top(scores, 1) == [(7, 4.0)]
    assert [row for row, _ in _top(scores, 5000)] == [7] + list(range(0, 2000, 3))
