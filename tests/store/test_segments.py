"""The local store as immutable segments: an addition writes a small segment and tombstones, search
over all live segments ranks exactly as one fresh build would, merges rewrite segments as one."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import qa.store.local.build as store_build
import qa.store.local.changes as changes
from qa.retrieve.retriever import Retriever
from qa.store import local as store
from qa.store.local import open_index
from qa.store.local.build import build_index
from qa.store.local.location import LocalLocation
from qa.store.local.merge import MAX_SEGMENTS, choose_merge, merge_segments
from qa.store.local.segments import SegmentInfo, segment_infos
from qa.store.local.store import LocalStore, open_store
from qa.types import SearchFilter
from tests.store.segment_corpus import QUESTIONS, HashEmbedder, write_article, write_corpus

FILTERS = (
    None,
    SearchFilter(date_from="2016"),
    SearchFilter(date_to="2014-06"),
    SearchFilter(source="story-01"),
)


@pytest.fixture
def embedder():
    return HashEmbedder()


def _segments(index_dir):
    return segment_infos(store.read_manifest(index_dir))


def _fresh(folder, tmp_path, embedder, name="fresh"):
    build_index(folder, tmp_path / name, embedder, rebuild=True)
    return open_store(tmp_path / name)


def assert_same_search(got: LocalStore, want: LocalStore, embedder) -> None:
    """Same hits, same order, same scores in every mode and filter; BM25 equal to the bit."""
    assert got.count() == want.count()
    assert dict(got.indexed_articles()) == dict(want.indexed_articles())
    ids = lambda s, ranking: [s.passages([r])[0].passage_id for r, _ in ranking]  # noqa: E731
    for question in QUESTIONS:
        vector = embedder.encode([question])
        for search_filter in FILTERS:
            assert got.count(search_filter) == want.count(search_filter)
            for k in (1, 5, 40):
                a, b = (
                    got.keyword_search(question, k, search_filter),
                    want.keyword_search(question, k, search_filter),
                )
                assert ids(got, a) == ids(want, b) and [s for _, s in a] == [s for _, s in b], (question, k)
                a, b = (
                    got.dense_search(vector, k, search_filter)[0],
                    want.dense_search(vector, k, search_filter)[0],
                )
                assert ids(got, a) == ids(want, b), (question, k, search_filter)
                np.testing.assert_allclose([s for _, s in a], [s for _, s in b], rtol=0, atol=1e-6)
        for mode in ("dense", "keyword", "hybrid"):
            a = Retriever(got, embedder).search(question, 8, mode=mode)
            b = Retriever(want, embedder).search(question, 8, mode=mode)
            assert [h.passage.passage_id for h in a] == [h.passage.passage_id for h in b], (question, mode)
            assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-6)
    # Every live passage's BM25 score equals the fresh build's, bit for bit.
    by_id = {p.passage_id: row for row, p in enumerate(want.index.passages)}
    rows = [by_id[p.passage_id] for p in got.index.passages]
    for question in QUESTIONS:
        np.testing.assert_array_equal(
            got.keyword_scores(question, range(got.count())), want.keyword_scores(question, rows)
        )


def test_a_first_build_is_one_segment_and_an_addition_writes_only_a_small_one(tmp_path, embedder):
    folder = write_corpus(tmp_path / "articles", 30)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    first = store.current_generation(index_dir)
    assert [(s.name, s.deleted) for s in _segments(index_dir)] == [("", 0)]
    write_article(folder, 30)
    write_article(folder, 3, version=1)  # changed
    (folder / "story-007.md").unlink()  # removed
    report = build_index(folder, index_dir, embedder)
    assert report.status.added == ("story-030.md",) and report.status.changed == ("story-003.md",)
    generation = store.current_generation(index_dir)
    infos = _segments(index_dir)
    assert [s.name for s in infos] == ["", f"seg-{generation.name[4:]}"]
    assert infos[0].deleted_articles == ("story-003.md", "story-007.md") and infos[0].deleted > 0
    new_passages = infos[1].passages
    assert report.embedded_passages == new_passages  # only the added and changed articles
    # The first segment's files are the first build's, linked, not written again.
    for name in (store.VECTORS_FILE, store.DENSE_FILE, store.PASSAGES_FILE):
        assert os.path.samefile(first / name, generation / name)
    assert LocalLocation(index_dir).check().startswith(f"{index_dir}: {generation.name}")
    assert_same_search(open_store(index_dir), _fresh(folder, tmp_path, embedder), embedder)


def test_many_additions_and_removals_rank_as_one_fresh_build(tmp_path, embedder):
    folder = write_corpus(tmp_path / "articles", 24)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    for step in range(6):
        write_article(folder, 100 + step)
        write_article(folder, 100 + step + 50)
        write_article(folder, step * 3, version=step + 1)
        if step % 2:
            (folder / f"story-{100 + step - 1:03d}.md").unlink()  # one added by the last step
        build_index(folder, index_dir, embedder)
        assert_same_search(open_store(index_dir), _fresh(folder, tmp_path, embedder), embedder)
    assert len(_segments(index_dir)) > 2


def test_merge_rewrites_every_segment_as_one_equal_to_a_fresh_build(tmp_path, embedder):
    folder = write_corpus(tmp_path / "articles", 20)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    for step in range(3):
        write_article(folder, 200 + step)
        write_article(folder, step, version=9)
        build_index(folder, index_dir, embedder)
    reader = open_store(index_dir)  # a reader of the segmented generation, open across the merge
    before = [Retriever(reader, embedder).search(q, 5, mode="hybrid") for q in QUESTIONS]
    report = merge_segments(LocalLocation(index_dir))
    assert report.generation == store.current_generation(index_dir)
    assert [(s.name, s.deleted) for s in _segments(index_dir)] == [("", 0)]
    fresh = _fresh(folder, tmp_path, embedder)
    merged = open_store(index_dir)
    assert [p.passage_id for p in merged.index.passages] == [p.passage_id for p in fresh.index.passages]
    np.testing.assert_array_equal(np.asarray(merged.index.vectors), np.asarray(fresh.index.vectors))
    assert_same_search(merged, fresh, embedder)
    assert store.read_manifest(index_dir).corpus_fingerprint == fresh.index.manifest.corpus_fingerprint
    # The reader still serves the generation it opened, with the same answers.
    after = [Retriever(reader, embedder).search(q, 5, mode="hybrid") for q in QUESTIONS]
    assert [[h.passage.passage_id for h in hits] for hits in after] == [
        [h.passage.passage_id for h in hits] for hits in before
    ]
    assert reader.has_newer_generation()
    assert merge_segments(index_dir).generation is None  # one segment already: nothing to do


def test_the_policy_keeps_the_segments_few(tmp_path, embedder):
    folder = write_corpus(tmp_path / "articles", 60)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    for step in range(MAX_SEGMENTS + 4):
        write_article(folder, 300 + step)
        build_index(folder, index_dir, embedder)
        assert len(_segments(index_dir)) <= MAX_SEGMENTS
    assert len(_segments(index_dir)) > 2
    assert_same_search(open_store(index_dir), _fresh(folder, tmp_path, embedder), embedder)


def test_choose_merge():
    first = SegmentInfo("", 1000, "Flat")
    small = [SegmentInfo(f"seg-{i:06d}", 5 + i, "Flat") for i in range(2, 2 + MAX_SEGMENTS)]
    assert choose_merge([first, *small[:3]]) is None
    assert choose_merge([first, *small]) == ("seg-000002", "seg-000003")  # the two smallest
    assert choose_merge([first, SegmentInfo("seg-000002", 1000, "Flat")]) == ("", "seg-000002")
    assert choose_merge([SegmentInfo("", 900, "Flat", deleted=400), small[0]]) == ("", "seg-000002")


def test_only_removals_write_a_generation_with_no_new_segment(tmp_path, embedder):
    folder = write_corpus(tmp_path / "articles", 12)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    (folder / "story-004.md").unlink()
    report = build_index(folder, index_dir, embedder)
    assert report.status.removed == ("story-004.md",) and report.embedded_passages == 0
    assert [s.name for s in _segments(index_dir)] == [""]
    assert "story-004.md" not in open_store(index_dir).indexed_articles()
    assert_same_search(open_store(index_dir), _fresh(folder, tmp_path, embedder), embedder)
    assert not build_index(folder, index_dir, embedder).status.stale


def _as_format_2(index_dir, texts):
    """Turn a fresh one-segment index into what format 2 wrote: bm25s's files under keyword/."""
    import bm25s

    from qa.store.local.durable import sha256_file
    from qa.store.tokens import tokenize

    generation = store.current_generation(index_dir)
    shutil.rmtree(generation / store.KEYWORD_DIR)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in (tokens or [""])] for tokens in tokenize(texts)]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    retriever.save(str(generation / store.KEYWORD_DIR))
    manifest = json.loads((generation / store.MANIFEST_FILE).read_text())
    files = {str(p.relative_to(generation)) for p in generation.rglob("*") if p.is_file()}
    files -= {store.MANIFEST_FILE, store.LISTING_FILE}
    manifest.update(format_version=2, segments=[])
    manifest["files"] = {f: sha256_file(generation / f) for f in sorted(files)}
    manifest["sizes"] = {f: (generation / f).stat().st_size for f in sorted(files)}
    (generation / store.MANIFEST_FILE).write_text(json.dumps(manifest))


def test_a_format_2_index_is_read_and_its_first_addition_rewrites_it(tmp_path, embedder):
    folder = write_corpus(tmp_path / "articles", 15)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    _as_format_2(index_dir, [p.text for p in open_index(index_dir).passages])
    old = open_store(index_dir)
    assert old.index.manifest.format_version == 2
    fresh = _fresh(folder, tmp_path, embedder)
    for question in QUESTIONS:  # bm25s's scores: the same ranking, to float rounding
        a, b = old.keyword_search(question, 10), fresh.keyword_search(question, 10)
        assert [r for r, _ in a] == [r for r, _ in b]
        np.testing.assert_allclose([s for _, s in a], [s for _, s in b], rtol=1e-5)
    assert "up to date" in LocalLocation(index_dir).status(folder, embedder.name).describe()
    write_article(folder, 40)
    build_index(folder, index_dir, embedder)
    manifest = store.read_manifest(index_dir)
    assert manifest.format_version == store.FORMAT_VERSION and len(manifest.segments) == 1
    assert_same_search(open_store(index_dir), _fresh(folder, tmp_path, embedder, "fresh2"), embedder)


def _age(paths, seconds=3600):
    """Move these files' mtimes back, so that the build's listing vouches for them (not racy)."""
    for path in paths:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


def test_an_addition_reads_only_the_files_whose_stat_changed(tmp_path, embedder, monkeypatch):
    folder = write_corpus(tmp_path / "articles", 20)
    with open(folder / "wire.jsonl", "w", encoding="utf-8") as handle:
        for i in range(4):
            handle.write(
                json.dumps({"title": f"Wire {i}", "text": f"The ferry carried {i + 7} trucks."}) + "\n"
            )
    _age(folder.iterdir(), 7200)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    write_article(folder, 21)
    write_article(folder, 2, version=3)
    (folder / "story-011.md").unlink()
    with open(folder / "wire.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"title": "Wire 4", "text": "The ferry carried 99 trucks."}) + "\n")
    _age([folder / "story-021.md", folder / "story-002.md", folder / "wire.jsonl"])
    read = []
    original = changes.load_article_file
    monkeypatch.setattr(
        changes, "load_article_file", lambda path, root: read.append(path.name) or original(path, root)
    )
    monkeypatch.setattr(store_build, "load_articles", lambda folder: pytest.fail("the whole folder was read"))
    report = build_index(folder, index_dir, embedder)
    assert sorted(read) == ["story-002.md", "story-021.md", "wire.jsonl"]
    assert report.status.added == ("story-021.md", "wire.jsonl#5")
    assert report.status.changed == ("story-002.md",) and report.status.removed == ("story-011.md",)
    assert report.status.unchanged == 18 + 4
    read.clear()
    assert not build_index(folder, index_dir, embedder).status.stale and read == []  # by stat alone
    monkeypatch.undo()
    assert_same_search(open_store(index_dir), _fresh(folder, tmp_path, embedder), embedder)
