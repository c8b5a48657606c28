"""Scale: approximate against exact FAISS search on a large synthetic corpus, and the build's peak memory.

    python -m bench.ann [--quick] [--passages N] [--build-passages N]

Vectors: 384-d, shaped like sentence embeddings: a Gaussian mixture of 200 topics x 50 subtopics,
normalised, with points spread so that a query's 10th neighbour is close to its first (cosine
~0.32 against ~0.38), and queries drawn from the same mixture (near the data, not copies of it).
Exact: IndexFlatIP. Approximate: what qa.store.local.dense chooses for the corpus size ("auto"). Latency is
one query at a time (as the chat asks), p50 over the queries; recall@10 is against exact search;
memory is the index's serialised size (what it holds in RAM). The build part indexes a JSONL
corpus of synthetic passages with a stand-in embedder (random unit vectors, so the model's cost
does not hide the pipeline's memory) twice in child processes: with qa/build.py as committed
(the newest committed version from before streaming) and as it is now, and reports each one's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT, table

DIMENSION = 384


def synthetic_vectors(n: int, seed: int, topics: int = 200, subtopics: int = 50) -> np.ndarray:
    """Clustered unit vectors; the mixture is fixed (seed 42) and `seed` picks the points."""
    mixture = np.random.default_rng(42)
    centres = mixture.standard_normal((topics, DIMENSION)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    sub = centres[:, None, :] + 0.8 * mixture.standard_normal((topics, subtopics, DIMENSION)).astype(
        np.float32
    ) / np.sqrt(DIMENSION)
    sub = sub.reshape(-1, DIMENSION)
    sub /= np.linalg.norm(sub, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIMENSION), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        x = sub[rng.integers(0, len(sub), m)] + 1.5 * rng.standard_normal((m, DIMENSION)).astype(
            np.float32
        ) / np.sqrt(DIMENSION)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def one_at_a_time(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    from qa.store.local import dense

    ids, ms = [], []
    for q in queries:
        started = time.perf_counter()
        _, found = dense.search(index, q[None], k)
        ms.append((time.perf_counter() - started) * 1000)
        ids.append(found[0])
    return np.array(ids), float(np.median(ms))


def search_figures(n: int, n_queries: int) -> dict[str, Any]:
    import faiss

    from qa.store.local import dense

    started = time.perf_counter()
    vectors = synthetic_vectors(n, seed=0)
    queries = synthetic_vectors(n_queries, seed=1)
    generated = time.perf_counter() - started
    exact = faiss.IndexFlatIP(DIMENSION)
    exact.add(vectors)
    truth, exact_ms = one_at_a_time(exact, queries[: max(20, n_queries // 4)], 10)
    _, truth = exact.search(queries, 10)
    exact_gib = exact.ntotal * DIMENSION * 4 / 2**30
    del exact
    started = time.perf_counter()
    index, description = dense.build_dense_index(vectors, "auto")
    built = time.perf_counter() - started
    ann_gib = faiss.serialize_index(index).nbytes / 2**30
    found, ann_ms = one_at_a_time(index, queries, 10)
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
    print(
        f"\nDense search over {n:,} synthetic passages (generated in {generated:.0f} s), one query at a time"
    )
    print(
        table(
            ["index", "p50 ms", "recall@10 vs exact", "memory GiB", "build s"],
            [["Flat (exact)", exact_ms, 1.0, exact_gib, "-"], [description, ann_ms, recall, ann_gib, built]],
        )
    )
    return {
        "n_passages": n,
        "ann_index": description,
        "ann_search_p50_ms": round(ann_ms, 3),
        "exact_search_p50_ms": round(exact_ms, 2),
        "ann_recall_at_10": round(recall, 4),
        "ann_memory_gib": round(ann_gib, 3),
        "exact_memory_gib": round(exact_gib, 3),
        "ann_build_s": round(built, 1),
    }


# -- build memory ---------------------------------------------------------------------------------

_CHILD = r"""
import importlib.util, json, resource, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, {root!r})
import qa
corpus, index_dir, build_file = sys.argv[1], sys.argv[2], sys.argv[3]
spec = importlib.util.spec_from_file_location("qa._bench_build", build_file)
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)

class RandomEmbedder:
    name, dimension = "bench-random", 384
    def encode(self, texts, *, show_progress=False):
        x = np.random.default_rng(len(texts)).standard_normal((len(texts), 384)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

started = time.perf_counter()
report = module.build_index(corpus, index_dir, RandomEmbedder())
# VmHWM, not ru_maxrss: Linux carries the parent's high-water mark across fork and exec.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
seconds = time.perf_counter() - started
print(json.dumps({{"passages": report.passages, "seconds": seconds, "peak_rss_gib": hwm / 2**20}}))
"""


def write_corpus(folder: Path, n: int, per_file: int = 10_000) -> None:
    """n one-paragraph stories as JSONL files of `per_file` records (ingest caps a file at 20 MB)."""
    words = "government minister said company users data privacy court report city council budget".split()
    rng = np.random.default_rng(0)
    for first in range(0, n, per_file):
        with open(folder / f"stories-{first // per_file:04d}.jsonl", "w", encoding="utf-8") as handle:
            for i in range(first, min(n, first + per_file)):
                text = " ".join(words[j] for j in rng.integers(0, len(words), 60)).capitalize() + "."
                handle.write(
                    json.dumps({"title": f"Story {i}", "url": f"https://example.org/{i}", "text": text})
                    + "\n"
                )


def build_before() -> str | None:
    """qa/build.py as it was before it streamed (the newest committed version without _write_vectors)."""
    try:
        log = subprocess.run(
            ["git", "-C", str(ROOT), "log", "--format=%H", "--", "qa/build.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for commit in log:
            text = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{commit}:qa/build.py"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if "def _write_vectors(" not in text:
                return text
    except (OSError, subprocess.CalledProcessError):
        pass
    return None


def build_memory(n: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="qa-bench-build-") as folder:
        folder = Path(folder)
        corpus = folder / "corpus"
        corpus.mkdir()
        write_corpus(corpus, n)
        versions = {"now": ROOT / "qa" / "build.py"}
        before = build_before()
        if before is not None:
            (folder / "build_before.py").write_text(before, encoding="utf-8")
            versions = {"before (not streamed, from git)": folder / "build_before.py", **versions}
        rows = []
        for label, build_file in versions.items():
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _CHILD.format(root=str(ROOT)),
                    str(corpus),
                    str(folder / f"index-{len(rows)}"),
                    str(build_file),
                ],
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                print(f"build ({label}) failed:\n{out.stderr[-2000:]}")
                continue
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append([label, figures["passages"], figures["seconds"], figures["peak_rss_gib"]])
            results["build_peak_rss_gib" if label == "now" else "build_peak_rss_gib_before"] = round(
                figures["peak_rss_gib"], 3
            )
    print(f"\nIndex build of {n:,} synthetic passages (stand-in embedder), peak RSS of the build process")
    print(table(["qa/build.py", "passages", "seconds", "peak RSS GiB"], rows))
    results["build_passages"] = n
    return results


def run(
    quick: bool = False, passages: int | None = None, build_passages: int | None = None
) -> dict[str, Any]:
    n = passages if passages is not None else (200_000 if quick else 1_000_000)
    results = search_figures(n, 200 if quick else 500)
    results.update(
        build_memory(build_passages if build_passages is not None else (50_000 if quick else 200_000))
    )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="200k passages (build: 50k) instead of 1M (200k)"
    )
    parser.add_argument("--passages", type=int, default=None)
    parser.add_argument("--build-passages", type=int, default=None)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick, args.passages, args.build_passages)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
