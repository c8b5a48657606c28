"""qa/store/watch.py: a watched folder's new, changed and removed files reach the index within
seconds, a busy build lock is waited out, and a store opened before sees the newer generation."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from qa.store import local as store
from qa.store.local.build import build_index
from qa.store.local.location import LocalLocation
from qa.store.local.segments import segment_infos
from qa.store.local.store import open_store
from qa.store.watch import watch_folder
from tests.store.segment_corpus import HashEmbedder, write_article, write_corpus

TIMEOUT_S = 20


class Watching:
    """watch_folder in a thread; each committed report arrives on a queue."""

    def __init__(self, location, folder, embedder):
        self.commits: queue.Queue = queue.Queue()
        self.errors: list[Exception] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=lambda: self.result.append(
                watch_folder(
                    location,
                    folder,
                    embedder,
                    interval=0.1,
                    on_commit=self.commits.put,
                    on_error=self.errors.append,
                    stop=self.stop,
                )
            ),
            daemon=True,
        )
        self.result: list[int] = []
        self.thread.start()

    def next_commit(self):
        try:
            return self.commits.get(timeout=TIMEOUT_S)
        except queue.Empty:
            pytest.fail(f"no generation committed within {TIMEOUT_S} s (errors: {self.errors})")

    def close(self) -> int:
        self.stop.set()
        self.thread.join(timeout=TIMEOUT_S)
        assert not self.thread.is_alive()
        return self.result[0]


def test_new_changed_and_removed_files_are_indexed_within_seconds(tmp_path):
    embedder = HashEmbedder()
    folder = write_corpus(tmp_path / "articles", 10)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    serving = open_store(index_dir)
    watch = Watching(LocalLocation(index_dir), folder, embedder)
    try:
        time.sleep(0.3)  # the first poll finds the index up to date and commits nothing
        assert watch.commits.empty()
        started = time.perf_counter()
        write_article(folder, 42)
        report = watch.next_commit()
        assert time.perf_counter() - started < 10
        assert report.status.added == ("story-042.md",) and report.embedded_passages > 0
        assert serving.has_newer_generation()  # what QAPipeline checks before each question
        assert "story-042.md" in LocalLocation(index_dir).open().indexed_articles()
        assert len(segment_infos(store.read_manifest(index_dir))) == 2  # a small segment, not a rewrite

        write_article(folder, 3, version=4)
        (folder / "story-005.md").unlink()
        report = watch.next_commit()
        assert (report.status.changed, report.status.removed) == (("story-003.md",), ("story-005.md",))
        assert "story-005.md" not in open_store(index_dir).indexed_articles()
    finally:
        commits = watch.close()
    assert commits == 2
    assert not LocalLocation(index_dir).status(folder, embedder.name).stale


def test_a_busy_build_lock_is_waited_out(tmp_path):
    embedder = HashEmbedder()
    folder = write_corpus(tmp_path / "articles", 6)
    index_dir = tmp_path / "index"
    build_index(folder, index_dir, embedder)
    watch = Watching(LocalLocation(index_dir), folder, embedder)
    try:
        # Another build runs. The watcher's own first pass may hold the lock for a moment on a busy
        # machine (CI once refused here): wait for it as `qa index --wait` would.
        with store.build_lock(index_dir, wait_seconds=TIMEOUT_S):
            write_article(folder, 20)
            deadline = time.monotonic() + TIMEOUT_S
            while not watch.errors and time.monotonic() < deadline:
                time.sleep(0.1)
            assert watch.errors and watch.commits.empty()
        assert watch.next_commit().status.added == ("story-020.md",)
    finally:
        watch.close()


def test_a_missing_folder_is_waited_for(tmp_path):
    embedder = HashEmbedder()
    folder = tmp_path / "later"
    watch = Watching(LocalLocation(tmp_path / "index"), folder, embedder)
    try:
        time.sleep(0.3)
        write_corpus(folder, 3)
        report = watch.next_commit()
        assert report.status.added and not report.status.has_index
    finally:
        watch.close()


def test_bad_interval_is_refused(tmp_path):
    with pytest.raises(ValueError, match="interval must be greater than 0, got 0"):
        watch_folder(LocalLocation(tmp_path), tmp_path, HashEmbedder(), interval=0)
