"""kill -9 during an addition (a new segment) and during a merge: the index still opens and answers,
`qa index --check` passes, and the next run completes and ranks as a fresh build.

The build or merge runs as a real subprocess, paused at a named moment (qa/store/pause.py) and
killed there with SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qa.retrieve.retriever import Retriever
from qa.store import local as store
from qa.store.local.build import build_index
from qa.store.local.location import LocalLocation
from qa.store.local.merge import merge_segments
from qa.store.local.segments import segment_infos
from qa.store.local.store import open_store
from tests.store.segment_corpus import HashEmbedder, write_article, write_corpus
from tests.store.test_segments import assert_same_search

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
ADD = (
    "import sys; from tests.store.segment_corpus import HashEmbedder; "
    "from qa.store.local.build import build_index; build_index(sys.argv[1], sys.argv[2], HashEmbedder())"
)
MERGE = "import sys; from qa.store.local.merge import merge_segments; merge_segments(sys.argv[2])"


def run_and_kill(code: str, articles: Path, index_dir: Path, stage: str) -> None:
    """Run `code` in a subprocess paused at `stage`, then SIGKILL it there."""
    env = {**os.environ, "QA_TEST_PAUSE_AT": stage, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(articles), str(index_dir)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            if f"QA_TEST_PAUSED {stage}" in line:
                process.send_signal(signal.SIGKILL)
                break
        else:
            pytest.fail(f"never paused at {stage!r}: {process.stderr.read()[-3000:]}")
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def assert_serves(index_dir: Path, embedder, *, new_article: str | None) -> None:
    """The index opens, passes the full check, and answers; `new_article` found once it is live."""
    assert "match their checksums" in LocalLocation(index_dir).check()
    live = open_store(index_dir, embedder=embedder.name)
    hits = Retriever(live, embedder).search("How many visitors did the harbour report?", 5, mode="hybrid")
    assert hits
    if new_article is not None:
        assert new_article in live.indexed_articles()


@pytest.fixture
def embedder():
    return HashEmbedder()


@pytest.mark.parametrize("stage", ["embedding", "writing", "before-commit", "after-commit"])
def test_kill_during_an_addition(tmp_path, embedder, stage):
    folder = write_corpus(tmp_path / "articles", 30)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    before = store.current_generation(index_dir).name
    write_article(folder, 31)
    write_article(folder, 4, version=2)
    (folder / "story-009.md").unlink()
    run_and_kill(ADD, folder, index_dir, stage)
    committed = stage == "after-commit"
    assert (store.current_generation(index_dir).name != before) == committed
    assert_serves(index_dir, embedder, new_article="story-031.md" if committed else None)
    if not committed:
        assert "story-031.md" not in open_store(index_dir).indexed_articles()
    report = build_index(folder, index_dir, embedder)  # the next run completes the work
    assert report.status.stale != committed
    assert not list(index_dir.glob(".building-*")) and not list(index_dir.glob(".vectors-*"))
    assert len(list(index_dir.glob("gen-*"))) <= 2
    build_index(folder, tmp_path / "fresh", embedder, rebuild=True)
    assert_same_search(open_store(index_dir), open_store(tmp_path / "fresh"), embedder)


@pytest.mark.parametrize("stage", ["writing", "before-commit", "after-commit"])
def test_kill_during_a_merge(tmp_path, embedder, stage):
    folder = write_corpus(tmp_path / "articles", 20)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    for step in range(3):
        write_article(folder, 50 + step)
        write_article(folder, step, version=5)
        build_index(folder, index_dir, embedder)
    segmented = store.current_generation(index_dir).name
    assert len(segment_infos(store.read_manifest(index_dir))) == 4
    reader = open_store(index_dir)  # serving across the kill
    run_and_kill(MERGE, folder, index_dir, stage)
    committed = stage == "after-commit"
    assert (store.current_generation(index_dir).name != segmented) == committed
    assert len(segment_infos(store.read_manifest(index_dir))) == (1 if committed else 4)
    assert_serves(index_dir, embedder, new_article="story-052.md")
    assert Retriever(reader, embedder).search("lantern festival river", 3, mode="hybrid")
    merge_segments(index_dir)  # the next run completes
    assert len(segment_infos(store.read_manifest(index_dir))) == 1
    assert not list(index_dir.glob(".building-*")) and not list(index_dir.glob(".vectors-*"))
    assert not build_index(folder, index_dir, embedder).status.stale
    build_index(folder, tmp_path / "fresh", embedder, rebuild=True)
    assert_same_search(open_store(index_dir), open_store(tmp_path / "fresh"), embedder)
    shutil.rmtree(tmp_path / "fresh")
