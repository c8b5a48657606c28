"""A resumable build: an index build stopped halfway (SIGKILL or Ctrl-C) and run again does not embed
what it had already embedded, and ends with the index a build in one go makes.

The build runs as a real subprocess and is stopped for real: with QA_TEST_PAUSE_AT=embedded-half it
prints "QA_TEST_PAUSED embedded-half" once half of its passages are embedded (and checkpointed)
and sleeps there (qa.store.pause.pause_for_tests). Its embedder writes every text it is given to a
log, so the test counts what each run really embedded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import config
from qa.store.local import open_index
from qa.store.local.build import build_index

REPO_ROOT = Path(__file__).resolve().parents[2]
STORIES = 120
CHUNK = 8  # passages per embedded chunk in the subprocess: 15 chunks

# Shared by the subprocess and the in-process reference build: vectors from a hash of the text,
# and a log line per text embedded.
EMBEDDER = """
import hashlib, os
import numpy as np

class LoggingHashEmbedder:
    name = "test/logging-hash-embedder"
    dimension = 16

    def __init__(self, log=None):
        self.log = log

    def encode(self, texts, *, show_progress=False):
        if self.log:
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.writelines(hashlib.sha256(t.encode()).hexdigest() + "\\n" for t in texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.uint8) + 1.0 for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), self.dimension)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
"""
BUILD = (
    EMBEDDER
    + f"""
import json, sys
from qa import config
config.EMBED_CHUNK = {CHUNK}
"""
    + """from qa.store.local.build import build_index
report = build_index(sys.argv[1], sys.argv[2], LoggingHashEmbedder(sys.argv[3]))
print("REPORT " + json.dumps({"embedded": report.embedded_passages, "resumed": report.resumed_passages,
                              "passages": report.passages}), flush=True)
"""
)


def _embedder_class():
    namespace: dict = {}
    exec(EMBEDDER, namespace)  # noqa: S102 - the test's own source, shared with the subprocess
    return namespace["LoggingHashEmbedder"]


@pytest.fixture()
def corpus(tmp_path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    with open(folder / "stories.jsonl", "w", encoding="utf-8") as handle:
        for i in range(STORIES):
            handle.write(
                json.dumps(
                    {
                        "title": f"Story {i}",
                        "date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                        "text": (
                            f"The council of town {i} approved a budget of {i * 37} crowns for its "
                            f"{i % 7} bridges."
                        ),
                    }
                )
                + "\n"
            )
    return folder


def _build(corpus: Path, index_dir: Path, log: Path, pause: bool) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("QA_TEST_PAUSE_AT", None)
    if pause:
        env["QA_TEST_PAUSE_AT"] = "embedded-half"
    return subprocess.Popen(
        [sys.executable, "-c", BUILD, str(corpus), str(index_dir), str(log)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _logged(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").split() if log.is_file() else []


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
def test_a_build_stopped_halfway_resumes_without_embedding_again_what_it_had_embedded(tmp_path, corpus, stop):
    index_dir, first_log, second_log = tmp_path / "index", tmp_path / "first.log", tmp_path / "second.log"
    first = _build(corpus, index_dir, first_log, pause=True)
    try:
        assert first.stdout.readline().strip() == "QA_TEST_PAUSED embedded-half", first.stderr.read()
        first.send_signal(stop)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode != 0
    embedded_before = _logged(first_log)
    assert STORIES // 2 <= len(embedded_before) < STORIES  # stopped halfway, with chunks on disk
    assert not (index_dir / "CURRENT").exists()  # nothing was published
    assert list((index_dir / config.RESUME_DIR).rglob("*.npy"))

    second = _build(corpus, index_dir, second_log, pause=False)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    report = json.loads(next(line for line in out.splitlines() if line.startswith("REPORT "))[7:])
    embedded_after = _logged(second_log)
    # Every chunk finished before the stop is read back: only the rest is embedded again.
    assert report == {"embedded": STORIES, "resumed": len(embedded_before), "passages": STORIES}
    assert len(embedded_after) == STORIES - len(embedded_before)
    assert set(embedded_after).isdisjoint(embedded_before)
    assert not (index_dir / config.RESUME_DIR).exists()  # removed once the build committed

    # The same index as a build in one go.
    reference = tmp_path / "reference"
    build_index(corpus, reference, _embedder_class()())
    got, want = open_index(index_dir), open_index(reference)
    assert [p.passage_id for p in got.passages] == [p.passage_id for p in want.passages]
    np.testing.assert_array_equal(np.asarray(got.vectors), np.asarray(want.vectors))


def test_checkpoints_of_other_passages_are_not_used(tmp_path, corpus, monkeypatch):
    """A chunk is reused only for the same passages: a changed story is embedded afresh."""
    monkeypatch.setattr(config, "EMBED_CHUNK", CHUNK)  # as in the subprocess
    index_dir, log = tmp_path / "index", tmp_path / "first.log"
    first = _build(corpus, index_dir, log, pause=True)
    try:
        assert first.stdout.readline().strip() == "QA_TEST_PAUSED embedded-half"
        first.kill()
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    lines = (corpus / "stories.jsonl").read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("approved a budget", "rejected a budget")  # in the first chunk
    (corpus / "stories.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    embedder = _embedder_class()(tmp_path / "second.log")
    report = build_index(corpus, index_dir, embedder)
    assert report.resumed_passages == len(_logged(log)) - CHUNK  # every finished chunk but the changed one
    want = tmp_path / "reference"
    build_index(corpus, want, _embedder_class()())
    np.testing.assert_array_equal(
        np.asarray(open_index(index_dir).vectors), np.asarray(open_index(want).vectors)
    )
