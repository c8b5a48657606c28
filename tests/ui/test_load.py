"""Load: twenty concurrent chat clients against a real app process, and one pipeline shared by threads."""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
from apphelpers import running_app, write_corpus

from qa import config

gradio_client = pytest.importorskip(
    "gradio_client", reason="gradio_client is not installed (pip install -e '.[test]')"
)

pytestmark = pytest.mark.slow

CLIENTS = 20
QUESTIONS_PER_CLIENT = 3
OVERALL_TIMEOUT_S = 600  # every request answered within this; the speed itself is printed, not asserted
# question -> what the answer may be written as (the story pair and apphelpers' hostile article)
QUESTIONS = {
    "How many customer accounts were broken into?": ("2,600", "2600"),
    # Not "... of Ardenia?": the bundled reader's known miss (tests/test_answers_end_to_end.py).
    "Who is the Transport Minister?": ("Brune",),
    "How many copies of the Zorblatt bulletin were sold?": ("7,300",),
}


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("load")
    with running_app(
        write_corpus(root / "articles"), root / "index", root / "app.log", reader="bundled"
    ) as app:
        yield app


def test_twenty_concurrent_clients_are_all_answered(server):
    questions = list(QUESTIONS)

    def session(number: int) -> list[tuple[str, dict, float]]:
        """One user: a client of their own (on 127.0.0.1), asking three questions one after another."""
        client = gradio_client.Client(server.url, verbose=False)
        results = []
        for turn in range(QUESTIONS_PER_CLIENT):
            question = questions[(number + turn) % len(questions)]
            started = time.perf_counter()
            data = client.predict(question, api_name="/ask")
            results.append((question, data, time.perf_counter() - started))
        return results

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(session, number) for number in range(CLIENTS)]
        done, pending = wait(futures, timeout=OVERALL_TIMEOUT_S)
        assert not pending, (
            f"{len(pending)} of {CLIENTS} clients not answered within {OVERALL_TIMEOUT_S} s:\n{server.log()}"
        )
        results = [result for future in futures for result in future.result()]
    elapsed = time.perf_counter() - started

    assert len(results) == CLIENTS * QUESTIONS_PER_CLIENT
    answers: dict[str, set[str]] = {}
    for question, data, _ in results:
        assert data["question"] == question and data["answer"], data
        assert any(expected in data["answer"] for expected in QUESTIONS[question]), (question, data["answer"])
        first = data["citations"][0]
        assert first["text"][first["start"] : first["end"]] == data["answer"]
        answers.setdefault(question, set()).add(data["answer"])
    assert all(len(given) == 1 for given in answers.values()), answers  # the same answer under load
    latencies = [latency for _, _, latency in results]
    print(
        f"\n{len(results)} requests from {CLIENTS} concurrent clients in {elapsed:.1f} s "
        f"({len(results) / elapsed:.2f} requests/s); latency p50 {percentile(latencies, 0.5):.2f} s, "
        f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s"
    )
    assert server.process.poll() is None, server.log()
    assert "Traceback" not in server.log(tail=100_000)


def test_pipeline_shared_by_eight_threads_answers_as_it_does_alone(tmp_path, sample_articles_dir, embedder):
    from qa.pipeline import QAPipeline
    from qa.store.local.build import build_index

    build_index(sample_articles_dir, tmp_path / "index", embedder)
    pipeline = QAPipeline.load(tmp_path / "index", reader="bundled", embedder=embedder)
    items = json.loads(config.SAMPLE_QUESTIONS.read_text(encoding="utf-8"))
    questions = [item["question"] for item in items][:8]

    def outcome(question: str) -> str:
        answer = pipeline.ask(question)
        data = answer.to_dict()
        data.pop("timings_ms")
        for alternative in data["alternatives"]:
            alternative.pop("timings_ms")
        return json.dumps(data, sort_keys=True)

    alone = [outcome(question) for question in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(outcome, questions))  # all eight at once
    assert together == alone
