"""`qa index --watch`, `qa chat --watch` and `qa index --merge`, as a user runs them: real processes,
real files written into the watched folder, real answers."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa import config

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # bench/ (the chat server helper) from a test run anywhere
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
NEW_ARTICLE = """---
title: Port Ellery opens a floating library
date: 2024-10-02
source: https://example.org/port-ellery/floating-library
---

The floating library of Port Ellery, a converted grain barge, opened on Tuesday with 4,800 books.
It was designed by the boat builder Marta Quennell and will moor at the north quay until spring.
"""
QUESTION = "Who designed the floating library of Port Ellery?"


def _articles(folder: Path) -> Path:
    folder.mkdir()
    for path in sorted(config.SAMPLE_ARTICLES_DIR.iterdir()):
        shutil.copy(path, folder / path.name)
    return folder


def _qa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )


class Lines:
    """A process's stdout, line by line, waited for."""

    def __init__(self, process: subprocess.Popen):
        self.process, self.queue, self.seen = process, queue.Queue(), []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.queue.put(line)

    def wait_for(self, needle: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if needle in line:
                return line
        pytest.fail(f"no {needle!r} within {timeout:.0f} s; got:\n{''.join(self.seen)}")


@pytest.mark.slow
def test_index_watch_indexes_a_new_file_and_ctrl_c_ends_it(tmp_path):
    articles, index = _articles(tmp_path / "articles"), tmp_path / "index"
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            "--articles",
            str(articles),
            "--index",
            str(index),
            "--watch",
        ],
        cwd=REPO_ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = Lines(watcher)
        lines.wait_for("Watching")
        (articles / "floating-library.md").write_text(NEW_ARTICLE, encoding="utf-8")
        written = time.monotonic()
        lines.wait_for("Indexed 1 new, 0 changed, 0 removed articles", timeout=120)
        assert time.monotonic() - written < 60
        answer = _qa("ask", QUESTION, "--index", str(index), "--reader", "bundled")
        assert answer.returncode == 0, answer.stderr
        assert "Answer: Marta Quennell" in answer.stdout and "floating-library" in answer.stdout
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=60) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()


@pytest.mark.slow
def test_merge_rewrites_segments_as_one_and_answers_the_same(tmp_path):
    articles, index = _articles(tmp_path / "articles"), tmp_path / "index"
    assert _qa("index", "--articles", str(articles), "--index", str(index)).returncode == 0
    (articles / "floating-library.md").write_text(NEW_ARTICLE, encoding="utf-8")
    assert _qa("index", "--index", str(index)).returncode == 0  # an addition: a second segment
    merged = _qa("index", "--merge", "--index", str(index))
    assert merged.returncode == 0, merged.stderr
    from qa.store.local.files import read_manifest

    manifest = read_manifest(index)
    assert f"merged into one segment ({manifest.passage_count} passages)" in merged.stdout
    assert len(manifest.segments) == 1 and manifest.article_count == 10
    again = _qa("index", "--merge", "--index", str(index))
    assert "already one segment" in again.stdout
    answer = _qa("ask", QUESTION, "--index", str(index), "--reader", "bundled")
    assert "Answer: Marta Quennell" in answer.stdout
    refused = _qa("index", "--merge", "--index", str(tmp_path / "nothing"))
    assert refused.returncode == 2 and refused.stderr.startswith("error: no index in")


@pytest.mark.slow
def test_a_watching_chat_answers_from_a_file_written_after_it_started(tmp_path):
    gradio_client = pytest.importorskip("gradio_client")
    from bench.appserver import running_app

    articles = _articles(tmp_path / "articles")
    with running_app(articles, tmp_path / "index", tmp_path / "app.log", options=["--watch"]) as server:
        client = gradio_client.Client(server.url, verbose=False)
        assert client.predict(QUESTION, api_name="/ask")["answer"] != "Marta Quennell"
        (articles / "floating-library.md").write_text(NEW_ARTICLE, encoding="utf-8")
        written, answer = time.monotonic(), None
        while time.monotonic() - written < 60 and answer != "Marta Quennell":
            time.sleep(0.5)
            answer = client.predict(QUESTION, api_name="/ask")["answer"]
        assert answer == "Marta Quennell", server.log()
        # The target is 10 s on a quiet machine; a loaded test machine gets more room.
        assert time.monotonic() - written < 60
