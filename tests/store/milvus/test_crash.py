"""Crash safety of a Milvus store: the server SIGKILLed in the middle of `qa index` (a real subprocess).

The build pauses for a few seconds once part of its rows are in the new collection
(QA_TEST_PAUSE_AT=milvus-writing, qa.store.pause.pause_for_tests); the test kills the server by its
pid meanwhile. The build must then stop with a one-line error (exit 2), and, once the server is
back, the alias must still point at the last good generation, which must answer; the next build
must drop the half-written collection and finish.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa import config
from qa.pipeline import QAPipeline
from qa.store.location import parse_location
from qa.store.milvus.client import connect

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[3]
TIMEOUT_S = 300  # loading the embedder on a busy two-core machine


@pytest.fixture
def own_server(tmp_path):
    """A server of this test's own: it is killed here, the session's one is not."""
    from qa.store.milvus.lite import MilvusServer, milvus_lite_missing

    if reason := milvus_lite_missing():
        pytest.skip(reason)
    server = MilvusServer(tmp_path / "milvus")
    yield server
    server.stop()


def test_a_server_killed_in_the_middle_of_indexing_leaves_the_last_good_generation_live(
    own_server, tmp_path, embedder
):
    articles = tmp_path / "articles"
    shutil.copytree(config.SAMPLE_ARTICLES_DIR, articles)
    store = own_server.address("crash")
    location = parse_location(store)
    good = location.build(articles, embedder)
    (articles / "bicycle-bridge.md").write_text(
        "---\ntitle: Valmora approves a bicycle bridge over the Lenne\ndate: 2024-10-01\n---\n\n"
        "The Valmora city council approved a bicycle bridge over the river Lenne on Tuesday. "
        "The bridge will cost 18 million euros and open in 2026.\n",
        encoding="utf-8",
    )

    environment = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "QA_TEST_PAUSE_AT": "milvus-writing",
        "QA_TEST_PAUSE_SECONDS": "4",
        "QA_MILVUS_TIMEOUT": "5",
        "PYTHONUNBUFFERED": "1",
    }
    build = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", "--articles", str(articles), "--store", store],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line, deadline = "", time.monotonic() + TIMEOUT_S
        while "QA_TEST_PAUSED milvus-writing" not in line:
            line = build.stdout.readline()
            assert line or build.poll() is None, f"the build ended before pausing: {build.stderr.read()}"
            assert time.monotonic() < deadline, "the build never paused"
        own_server.kill()  # SIGKILL by pid, rows half-written, the new generation unfinished
        _, err = build.communicate(timeout=TIMEOUT_S)
    finally:
        if build.poll() is None:
            build.kill()
    assert build.returncode == 2, err
    assert err.strip().count("\n") == 0 and f"Milvus at {store}" in err and "Traceback" not in err, err

    own_server.start()  # the same port and data folder
    connection = connect(location.address)
    assert connection.alias_target("crash") == good.generation == "crash__gen_000001"
    assert "crash__gen_000002" in connection.collections()  # what the killed build left
    pipeline = QAPipeline.load(store, reader="bundled", embedder=embedder)
    assert pipeline.store.count() == good.passages
    assert pipeline.ask("How much did the Green Line tram cost?").answer == "412 million euros"

    finished = location.build(articles, embedder)
    assert finished.generation == "crash__gen_000002" and finished.embedded_passages == 1
    assert connection.alias_target("crash") == "crash__gen_000002"
    assert pipeline.ask("How much will the bicycle bridge over the Lenne cost?").answer == "18 million euros"
    assert (
        pipeline.store.generation == "crash__gen_000002"
    )  # the pipeline moved to the new generation by itself
    assert location.check().startswith(f"{store}: alias crash -> crash__gen_000002, {good.passages + 1} rows")
