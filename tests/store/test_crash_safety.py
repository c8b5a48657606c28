"""Crash safety of `qa index`: SIGKILL at named moments of a real build, and two builds at once.

The build runs as a real subprocess (`python -m qa.cli index`). To kill it at a chosen moment
rather than at a random one, the test sets QA_TEST_PAUSE_AT=<stage>: the build prints
"QA_TEST_PAUSED <stage>" and sleeps there (qa.store.pause.pause_for_tests), and the test kills it with
SIGKILL on that line. After each kill the last good index must open, with its old contents (the
new ones once CURRENT has been switched), search correctly, and the next build must finish the
work and leave nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from importlib.util import find_spec
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from qa import config
from qa.retrieve.retriever import Retriever
from qa.store import local as store
from qa.store.local import open_index
from qa.store.local.build import build_index, index_status
from qa.store.local.store import LocalStore

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300  # loading torch on a slow, busy two-core machine; a hang takes longer
SYNTHETIC_ARTICLES = 40  # one passage each: enough to see, cheap to embed
SEED = 1125

# The vectors of a passage must not depend on which other passages share its batch, or an incremental
# build (which embeds only what changed) cannot equal a full rebuild. The default backend,
# onnx-int8, quantises activations per batch and breaks that (docs/reliability.md); ONNX float32
# keeps it and starts in about a second, torch keeps it too.
EMBED_BACKEND = (
    "onnx"
    if "onnx" in getattr(config, "EMBED_BACKENDS", ()) and find_spec("onnxruntime") and find_spec("onnx")
    else "torch"
)


@pytest.fixture(scope="module")
def embedder():
    """The default model in EMBED_BACKEND (this module's own, in place of conftest's)."""
    from qa.embed import load_embedder

    return load_embedder(config.DEFAULT_EMBEDDER, EMBED_BACKEND)


def _synthetic_articles(rng: random.Random) -> list[dict]:
    """Made-up articles, each with a village name found nowhere else and one fact about it."""
    syllables = [
        "zor",
        "van",
        "til",
        "mek",
        "qua",
        "rin",
        "dos",
        "pel",
        "bru",
        "kav",
        "ost",
        "ni",
        "lum",
        "gra",
    ]
    names: set[str] = set()
    while len(names) < SYNTHETIC_ARTICLES:
        names.add("".join(rng.choice(syllables) for _ in range(3)).capitalize())
    articles = []
    for i, name in enumerate(sorted(names)):
        lanterns, year = rng.randint(100, 9999), rng.randint(1900, 2020)
        articles.append(
            {
                "title": f"{name} lights its lanterns",
                "date": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "text": (
                    f"The village of {name} lit {lanterns} paper lanterns on the night of its founding "
                    "festival, "
                    f"the organisers said on Sunday. The festival has been held in {name} every year since "
                    f"{year}."
                ),
                "lanterns": lanterns,
            }
        )
    return articles


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, sample_articles_dir, embedder) -> SimpleNamespace:
    """An old corpus (the sample articles) with its index, and a new one (40 added, 1 changed, 1
    removed) with a full-build reference."""
    root = tmp_path_factory.mktemp("crash")
    old, new = root / "old", root / "new"
    shutil.copytree(sample_articles_dir, old)
    shutil.copytree(old, new)
    synthetic = _synthetic_articles(random.Random(SEED))
    with open(new / "villages.jsonl", "w", encoding="utf-8") as handle:
        for record in synthetic:
            handle.write(json.dumps(record) + "\n")
    with open(new / "tram-line.md", "a", encoding="utf-8") as handle:
        handle.write("\nThe tram line will reach the airport in 2027, the transport office said.\n")
    (new / "film-festival.txt").unlink()
    build_index(old, root / "old-index", embedder)
    build_index(new, root / "reference-index", embedder, rebuild=True)
    return SimpleNamespace(
        old=old,
        new=new,
        old_index=root / "old-index",
        reference=root / "reference-index",
        synthetic=synthetic,
    )


class Build:
    """`qa index` in a subprocess: stdout lines arrive on a queue, stderr goes to a file."""

    def __init__(
        self, articles: Path, index_dir: Path, log: Path, *options: str, pause_at: str | None = None
    ):
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "QA_EMBED_BACKEND": EMBED_BACKEND,
        }
        env.pop("QA_TEST_PAUSE_AT", None)
        if pause_at is not None:
            env["QA_TEST_PAUSE_AT"] = pause_at
        self.log = log
        with open(log, "w", encoding="utf-8") as stderr:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "qa.cli",
                    "index",
                    "--articles",
                    str(articles),
                    "--index",
                    str(index_dir),
                    *options,
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    @property
    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_line(self, needle: str, timeout: float = TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no {needle!r} from the build within {timeout:.0f} s:\n{self.stderr[-3000:]}")
            if line is None:
                self.process.wait(timeout=30)
                pytest.fail(
                    f"the build exited ({self.process.returncode}) before {needle!r}:\n{self.stderr[-3000:]}"
                )
            self.stdout.append(line)
            if needle in line:
                return

    def wait_for_stderr(self, needle: str, timeout: float = TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.stderr:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"no {needle!r} on the build's stderr (exit "
                    f"{self.process.returncode}):\n{self.stderr[-3000:]}"
                )
            time.sleep(0.2)

    def finish(self, timeout: float = TIMEOUT_S) -> int:
        status = self.process.wait(timeout=timeout)
        while (line := self.lines.get(timeout=30)) is not None:
            self.stdout.append(line)
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


def assert_same_index(index_dir: Path, reference: Path) -> None:
    got, want = open_index(index_dir), open_index(reference)
    assert got.manifest.corpus_fingerprint == want.manifest.corpus_fingerprint
    assert [p.passage_id for p in got.passages] == [p.passage_id for p in want.passages]
    assert [p.text for p in got.passages] == [p.text for p in want.passages]
    np.testing.assert_allclose(got.vectors, want.vectors, atol=1e-5)


def assert_searches_correctly(index_dir: Path, embedder, synthetic: list[dict], *, new: bool) -> None:
    """A fact every version holds is found; a village is found only once the new version is live."""
    loaded = open_index(index_dir, embedder=embedder.name)
    retriever = Retriever(LocalStore(loaded), embedder)
    for mode in ("keyword", "hybrid", "dense"):
        hits = retriever.search("How much did the Green Line tram cost, 412 million euros?", 3, mode=mode)
        assert "tram-line.md" in {h.passage.article_id for h in hits}, mode
    village = synthetic[17]
    name = village["title"].split()[0]
    hits = retriever.search(f"How many paper lanterns did the village of {name} light?", 3, mode="hybrid")
    if new:
        assert str(village["lanterns"]) in hits[0].passage.text and name in hits[0].passage.text
    else:
        assert not any(name in h.passage.text for h in hits)
        assert "villages.jsonl" not in {p.article_id.split("#")[0] for p in loaded.passages}


def assert_tidy(index_dir: Path) -> None:
    """The live generation and at most the one before it (kept until the next build commits), the
    pointer and the lock: no `.building-*`, temporary or older files."""
    names = sorted(p.name for p in index_dir.iterdir())
    assert store.CURRENT_FILE in names, names
    live = (index_dir / store.CURRENT_FILE).read_text().strip()
    generations = [n for n in names if n.startswith("gen-")]
    assert live in generations and len(generations) <= 2 and max(generations) == live, names
    assert {n for n in names if not n.startswith("gen-")} <= {store.CURRENT_FILE, store.LOCK_FILE}, names


STAGES = ("embedding", "writing", "after-commit")  # before-commit: the concurrency test below


@pytest.fixture(scope="module")
def killed(corpora, tmp_path_factory) -> dict[str, Path]:
    """Index folders whose build was killed at each stage; the builds start together (a model load each)."""
    root = tmp_path_factory.mktemp("killed")
    builds: dict[str, tuple[Path, Build]] = {}
    try:
        for stage in STAGES:
            index_dir = root / stage / "index"
            shutil.copytree(corpora.old_index, index_dir)
            builds[stage] = (
                index_dir,
                Build(corpora.new, index_dir, root / stage / "build.log", pause_at=stage),
            )
        for stage, (_, build) in builds.items():
            build.wait_for_line(f"QA_TEST_PAUSED {stage}")
            build.kill()
    finally:
        for _, build in builds.values():
            build.kill()
    return {stage: index_dir for stage, (index_dir, _) in builds.items()}


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_during_a_build_leaves_the_last_good_index(killed, corpora, embedder, stage):
    index_dir = killed[stage]
    committed = stage == "after-commit"
    names = {p.name for p in index_dir.iterdir()}
    if stage == "writing":  # the kill really came mid-write
        assert any(n.startswith(".building-") for n in names), names
    if committed:  # ...and really after the switch: the old generation is still there
        assert len([n for n in names if n.startswith("gen-")]) == 2, names
    assert_same_index(index_dir, corpora.reference if committed else corpora.old_index)
    assert_searches_correctly(index_dir, embedder, corpora.synthetic, new=committed)
    assert index_status(corpora.new, index_dir, embedder.name).stale is not committed

    # The next run finishes the work (or finds nothing to do) and tidies up after the killed one.
    report = build_index(corpora.new, index_dir, embedder)
    if committed:
        assert report.generation is None and report.embedded_passages == 0
    else:
        assert len(report.status.added) == SYNTHETIC_ARTICLES and report.status.changed == ("tram-line.md",)
    assert_tidy(index_dir)
    assert_same_index(index_dir, corpora.reference)
    assert_searches_correctly(index_dir, embedder, corpora.synthetic, new=True)


def test_concurrent_builds_wait_or_refuse_and_a_kill_before_commit_loses_nothing(tmp_path, corpora, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(corpora.old_index, index_dir)
    first = Build(corpora.new, index_dir, tmp_path / "first.log", pause_at="before-commit")
    builds = [first]
    try:
        first.wait_for_line("QA_TEST_PAUSED before-commit")  # holds the lock; new generation complete
        refused = Build(corpora.new, index_dir, tmp_path / "refused.log")
        waiting = Build(corpora.new, index_dir, tmp_path / "waiting.log", "--wait", str(TIMEOUT_S))
        builds += [refused, waiting]

        assert refused.finish() == 2
        lines = [line for line in refused.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: Another `qa index` is building"), (
            refused.stderr
        )

        waiting.wait_for_stderr("waiting up to")
        # Before the switch of CURRENT, readers see the old index, whole.
        assert_same_index(index_dir, corpora.old_index)
        assert_searches_correctly(index_dir, embedder, corpora.synthetic, new=False)

        first.kill()  # at the commit point; the lock goes with the process
        assert waiting.finish() == 0, waiting.stderr
    finally:
        for build in builds:
            build.kill()
    assert "Traceback" not in waiting.stderr
    summary = "".join(waiting.stdout)
    assert f"{SYNTHETIC_ARTICLES} new, 1 changed, 1 removed articles" in summary, summary
    assert_tidy(index_dir)
    assert_same_index(index_dir, corpora.reference)
    assert_searches_correctly(index_dir, embedder, corpora.synthetic, new=True)


class _HashEmbedder:
    """Deterministic vectors from a hash of the text: a build takes milliseconds, not a model load."""

    name = "test/hash-embedder"
    dimension = 16

    def encode(self, texts, *, show_progress=False):
        vectors = np.array(
            [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.uint8) + 1.0 for t in texts],
            dtype=np.float32,
        ).reshape(len(texts), self.dimension)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _damage(index_dir: Path, how: str) -> None:
    generation = store.current_generation(index_dir)
    if how == "CURRENT garbage":
        (index_dir / store.CURRENT_FILE).write_bytes(b"\xff\xfe\x00 not a generation")
    elif how == "CURRENT names a missing generation":
        (index_dir / store.CURRENT_FILE).write_text("gen-999999", encoding="utf-8")
    elif how == "manifest of the wrong shape":
        manifest = json.loads((generation / store.MANIFEST_FILE).read_text(encoding="utf-8"))
        manifest["files"] = 5
        (generation / store.MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    elif how == "manifest cut short":
        data = (generation / store.MANIFEST_FILE).read_bytes()
        (generation / store.MANIFEST_FILE).write_bytes(data[: len(data) // 2])
    elif how == "passages cut short":
        data = (generation / store.PASSAGES_FILE).read_bytes()
        (generation / store.PASSAGES_FILE).write_bytes(data[: len(data) // 2])
    elif how == "keyword file missing":
        next((generation / store.KEYWORD_DIR).iterdir()).unlink()


DAMAGE = {  # how -> what the refusal says
    "CURRENT garbage": "No index in",
    "CURRENT names a missing generation": "No index in",
    "manifest of the wrong shape": "damaged (manifest.json: 'files' is not a dict)",
    "manifest cut short": "damaged (manifest.json",
    "passages cut short": (
        f"damaged: {store.PASSAGES_FILE} is missing or not as it was written (its size differs)"
    ),
    "keyword file missing": "damaged: keyword/",
}


@pytest.fixture(scope="module")
def hashed(tmp_path_factory, sample_articles_dir) -> Path:
    """The sample corpus indexed with _HashEmbedder: the store's logic, without a model."""
    index_dir = tmp_path_factory.mktemp("hashed") / "index"
    build_index(sample_articles_dir, index_dir, _HashEmbedder())
    return index_dir


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_index_is_refused_clearly_and_the_next_build_repairs_it(
    tmp_path, hashed, sample_articles_dir, how
):
    index_dir, embedder = tmp_path / "index", _HashEmbedder()
    shutil.copytree(hashed, index_dir)
    _damage(index_dir, how)
    with pytest.raises(store.IndexStoreError, match=re.escape(DAMAGE[how])) as refused:
        open_index(index_dir, embedder=embedder.name)
    assert "qa index" in str(refused.value)  # says how to get a working index back...
    # ...and doing what it says works: `qa index --rebuild` where it says so, else a plain `qa index`.
    build_index(sample_articles_dir, index_dir, embedder, rebuild="--rebuild" in str(refused.value))
    assert_same_index(index_dir, hashed)
    assert_tidy(index_dir)


def test_a_reader_opening_the_index_while_builds_commit_never_sees_damage(tmp_path, sample_articles_dir):
    """open_index during a commit once failed: it read the manifest of one generation and the files of
    the next, or files the build had just removed, and called the index damaged."""
    index_dir, embedder = tmp_path / "index", _HashEmbedder()
    build_index(sample_articles_dir, index_dir, embedder)
    stop, errors, opened = threading.Event(), [], []

    def read() -> None:
        while not stop.is_set():
            try:
                opened.append(len(open_index(index_dir, embedder=embedder.name).passages))
            except Exception as error:  # noqa: BLE001 - any failure is the finding, reported below
                errors.append(repr(error))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(15):
            build_index(sample_articles_dir, index_dir, embedder, rebuild=True)
    finally:
        stop.set()
        reader.join(timeout=60)
    assert errors == [] and opened
    assert set(opened) == {len(open_index(index_dir).passages)}
    assert_tidy(index_dir)


def test_an_index_path_that_is_a_file_is_refused_before_anything_is_written(tmp_path):
    a_file = tmp_path / "index"
    a_file.write_text("my notes", encoding="utf-8")
    with pytest.raises(
        store.IndexStoreError, match="is not a folder; pass a folder for the index with --index DIR"
    ):
        with store.build_lock(a_file):
            pass
    assert a_file.read_text(encoding="utf-8") == "my notes"


def test_taking_the_build_lock_clears_what_killed_builds_left(tmp_path, hashed):
    """Whatever the moment of a kill, its leftovers have these shapes; the next lock holder removes them."""
    index_dir = tmp_path / "index"
    shutil.copytree(hashed, index_dir)
    live = store.current_generation(index_dir).name
    (index_dir / ".building-000042-99999").mkdir()  # killed while writing a generation
    (index_dir / ".building-000042-99999" / store.PASSAGES_FILE).write_text("{}\n", encoding="utf-8")
    (index_dir / ".vectors-99999.npy.tmp").write_bytes(b"\x93NUMPY")  # killed while embedding
    shutil.copytree(index_dir / live, index_dir / "gen-000041")  # killed after the switch of CURRENT
    (index_dir / f".{store.CURRENT_FILE}.tmp").write_text("gen-000043", encoding="utf-8")  # before it
    with store.build_lock(index_dir):
        pass
    assert_tidy(index_dir)
    assert store.current_generation(index_dir).name == live
    assert_same_index(index_dir, hashed)
