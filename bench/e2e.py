"""End to end on the bundled sample corpus: `qa ask` cold start and warm QAPipeline.ask latency.

    python -m bench.e2e [--quick]

Cold start: wall time of a fresh `python -m qa.cli ask` process (start to printed answer), with
the embedder in torch (sentence-transformers, as before) and in ONNX Runtime int8 (now the
default), the bundled trained reader answering, runs alternated.
Warm: QAPipeline.ask per question on one loaded pipeline, with the bundled trained reader and with
a DistilBERT-shaped transformers reader (random weights: timing only) in torch and in onnx-int8.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT, table
from qa import config

QUESTIONS = (
    "How much did the tram line cost?",
    "Who won the regional election?",
    "When did the festival open?",
    "What did the council decide?",
    "Where was the new bridge built?",
    "Who opened the tram line?",
    "How many people voted?",
    "What did the report find?",
)


def cold_start(index_dir: Path, runs: int) -> dict[str, float]:
    seconds: dict[str, list[float]] = {"torch": [], "onnx-int8": []}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for _ in range(runs):
        for backend in seconds:
            started = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "qa.cli",
                    "ask",
                    QUESTIONS[0],
                    "--index",
                    str(index_dir),
                    "--embed-backend",
                    backend,
                    "--reader",
                    "bundled",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                check=True,
            )
            seconds[backend].append(time.perf_counter() - started)
    return {backend: float(np.median(v)) for backend, v in seconds.items()}


def warm(index_dir: Path, folder: Path, questions: Sequence[str]) -> dict[str, float]:
    from bench.reader import build_model
    from qa.pipeline import QAPipeline
    from qa.read.transformers_reader import TransformersReader

    model = build_model("6l", folder)
    pipelines = {
        "bundled reader": QAPipeline.load(index_dir, reader="bundled"),
        "6-layer reader, torch": QAPipeline.load(
            index_dir, reader=TransformersReader(str(model), local_files_only=True, backend="torch")
        ),
        "6-layer reader, onnx-int8": QAPipeline.load(
            index_dir, reader=TransformersReader(str(model), local_files_only=True, backend="onnx-int8")
        ),
    }
    ms: dict[str, list[float]] = {name: [] for name in pipelines}
    for pipeline in pipelines.values():
        pipeline.ask(questions[0])
    for question in questions:
        for name, pipeline in pipelines.items():
            started = time.perf_counter()
            pipeline.ask(question, k=config.DEFAULT_TOP_K)
            ms[name].append((time.perf_counter() - started) * 1000)
    return {name: float(np.median(v)) for name, v in ms.items()}


def run(quick: bool = False) -> dict[str, Any]:
    from qa.embed import load_embedder
    from qa.store.local.build import build_index

    with tempfile.TemporaryDirectory(prefix="qa-bench-e2e-") as folder:
        folder = Path(folder)
        index_dir = folder / "index"
        build_index(
            config.SAMPLE_ARTICLES_DIR, index_dir, load_embedder(config.DEFAULT_EMBEDDER, "onnx-int8")
        )
        cold = cold_start(index_dir, 1 if quick else 3)
        previous = os.environ.get("NEWSQA_CACHE")
        os.environ["NEWSQA_CACHE"] = str(folder / "cache")  # the throw-away reader's export
        try:
            warm_ms = warm(index_dir, folder, QUESTIONS[:4] if quick else QUESTIONS)
        finally:
            if previous is None:
                os.environ.pop("NEWSQA_CACHE", None)
            else:
                os.environ["NEWSQA_CACHE"] = previous
    print("\n`qa ask` cold start on the sample corpus (process start to answer, bundled reader)")
    print(
        table(
            ["embedder backend", "seconds", "x torch"], [[b, s, cold["torch"] / s] for b, s in cold.items()]
        )
    )
    print("\nWarm QAPipeline.ask, p50 per question (hybrid retrieval, k=5)")
    print(table(["pipeline", "p50 ms"], [[name, v] for name, v in warm_ms.items()]))
    return {
        "cold_start_s_torch": round(cold["torch"], 2),
        "cold_start_s": round(cold["onnx-int8"], 2),
        "cold_start_speedup": round(cold["torch"] / cold["onnx-int8"], 2),
        "ask_p50_ms_trained": round(warm_ms["bundled reader"], 1),
        "ask_p50_ms_6l_torch": round(warm_ms["6-layer reader, torch"], 1),
        "ask_p50_ms_6l_int8": round(warm_ms["6-layer reader, onnx-int8"], 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one cold start per backend, 4 questions")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
