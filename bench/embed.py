"""Embedding throughput and retrieval recall per backend: plain sentence-transformers beside ours.

    python -m bench.embed [--quick] [--repeat N]

Throughput: the 126 context paragraphs of the SQuAD 2.0 dev subset (times --repeat), encoded by
plain `SentenceTransformer(all-MiniLM-L6-v2).encode` (its defaults: batch 32, torch threads) and
by each qa.embed backend, interleaved round by round in one process so that machine noise hits
all alike; the median round counts. Recall: dense-mode answer recall@5 over the answerable
questions (bench/retrieval.py's definition), for every pair (index built with A, questions
embedded with B), so that an index built with one backend is known to be searchable with another.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench import table
from bench.retrieval import (
    DEFAULT_SQUAD,
    CachedEmbedder,
    build_squad_index,
    first_answer_rank,
    load_squad,
    recall_at,
)
from qa import config
from qa.answer.compose import normalize_answer
from qa.embed import load_embedder, resolve_model_location
from qa.retrieve.retriever import Retriever
from qa.store.local.store import LocalStore

BACKENDS = ("torch", "onnx", "onnx-int8")
# --quick keeps what the headline figures need: fp32 (torch) against the default int8, plus fp32
# ONNX for speed. The `torch` speed row (the baseline's model with another batch size) and the
# fp32 ONNX recall row and column are in the full run.
QUICK_SPEED_BACKENDS = ("onnx", "onnx-int8")
QUICK_RECALL_BACKENDS = ("torch", "onnx-int8")


def throughput(texts: Sequence[str], rounds: int, backends: Sequence[str] = BACKENDS) -> dict[str, float]:
    """Median seconds per pass over `texts`, per system, systems interleaved each round."""
    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(resolve_model_location(config.DEFAULT_EMBEDDER), device="cpu")
    systems = {
        "sentence-transformers (plain)": lambda t=texts: plain.encode(list(t), normalize_embeddings=True)
    }
    for backend in backends:
        embedder = load_embedder(config.DEFAULT_EMBEDDER, backend)
        systems[f"qa.embed {backend}"] = lambda t=texts, e=embedder: e.encode(t)
    for run in systems.values():  # warm-up: first calls allocate (the longest texts: the biggest buffers)
        run(sorted(texts, key=len)[-16:])
    seconds: dict[str, list[float]] = {name: [] for name in systems}
    for number in range(rounds):
        names = list(systems)
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            systems[name]()
            seconds[name].append(time.perf_counter() - started)
    return {name: float(np.median(values)) for name, values in seconds.items()}


def recall_matrix(
    squad: Path, folder: Path, backends: Sequence[str] = BACKENDS
) -> tuple[dict[tuple[str, str], float], dict[str, np.ndarray]]:
    """recall@5 for (index backend, query backend), and each backend's passage vectors."""
    titles, contexts, questions = load_squad(squad)
    embedders = {b: load_embedder(config.DEFAULT_EMBEDDER, b) for b in backends}
    indexes = {}
    for backend in backends:
        (folder / backend).mkdir()
        indexes[backend] = build_squad_index(titles, contexts, folder / backend, embedders[backend])
    # Each question is embedded once per backend (in one call) and reused against the three indexes.
    embedders = {b: CachedEmbedder(e) for b, e in embedders.items()}
    for embedder in embedders.values():
        embedder.encode([q.text for q in questions])
    normalised = {p.passage_id: normalize_answer(p.text) for p in indexes["torch"].passages}
    recall = {}
    for built_with, index in indexes.items():
        for asked_with, embedder in embedders.items():
            retriever = Retriever(LocalStore(index), embedder)
            ranks = [first_answer_rank(retriever, "dense", q, 5, normalised) for q in questions]
            recall[(built_with, asked_with)] = recall_at(ranks, 5)
    vectors = {b: np.asarray(index.vectors) for b, index in indexes.items()}
    return recall, vectors


def run(quick: bool = False, repeat: int = 1, squad: Path = DEFAULT_SQUAD) -> dict[str, float]:
    data = json.loads(Path(squad).read_text(encoding="utf-8"))["data"]
    texts = [p["context"] for article in data for p in article["paragraphs"]] * repeat
    rounds = 3 if quick else 5
    recall_backends = QUICK_RECALL_BACKENDS if quick else BACKENDS
    seconds = throughput(texts, rounds, QUICK_SPEED_BACKENDS if quick else BACKENDS)
    base = seconds["sentence-transformers (plain)"]
    print(f"Embedding throughput: {len(texts)} SQuAD paragraphs, median of {rounds} interleaved rounds")
    print(
        table(
            ["system", "paragraphs/s", "x plain"],
            [[name, len(texts) / s, base / s] for name, s in seconds.items()],
        )
    )
    with tempfile.TemporaryDirectory(prefix="qa-bench-embed-") as folder:
        recall, vectors = recall_matrix(squad, Path(folder), recall_backends)
    print(
        "\nDense recall@5 on the SQuAD subset (answerable questions); "
        "rows: index built with, columns: questions embedded with"
    )
    print(
        table(
            ["index \\ query"] + list(recall_backends),
            [[b] + [recall[(b, q)] for q in recall_backends] for b in recall_backends],
        )
    )
    print("\nCosine of each backend's passage vectors with torch's (min / mean)")
    cos = {b: np.sum(vectors[b] * vectors["torch"], axis=1) for b in recall_backends}
    print(
        table(
            ["backend", "min", "mean"],
            [[b, float(cos[b].min()), float(cos[b].mean())] for b in recall_backends],
        )
    )
    return {
        "embed_paragraphs_per_s_plain": round(len(texts) / base, 2),
        "embed_paragraphs_per_s": round(len(texts) / seconds["qa.embed onnx-int8"], 2),
        "embed_speedup": round(base / seconds["qa.embed onnx-int8"], 2),
        "embed_speedup_onnx_fp32": round(base / seconds["qa.embed onnx"], 2),
        "embed_recall_at_5_fp32": round(recall[("torch", "torch")], 4),
        "embed_recall_at_5_int8": round(recall[("onnx-int8", "onnx-int8")], 4),
        "embed_recall_at_5_delta": round(recall[("onnx-int8", "onnx-int8")] - recall[("torch", "torch")], 4),
        "embed_recall_at_5_cross_min": round(min(recall.values()), 4),
        "embed_cosine_int8_min": round(float(cos["onnx-int8"].min()), 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 rounds instead of 5; no torch speed row, recall of torch and int8 only",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="encode the paragraphs this many times per round"
    )
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick, args.repeat, args.squad)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
