"""BM25 as term frequencies with global statistics (format 3) against bm25s's own index (format 2).

    python -m bench.bm25_formats [--index DIR] [--questions 40]

Both are built from the passages of an existing index (default: bench/scale.py's 100k Reuters
index) and asked the same questions: build seconds, size on disk, p50 of scoring every passage, the
largest relative difference between the two scores, and whether the top 10 are the same
(docs/benchmarks.md, section 6).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.scale import DEFAULT_WORK


def _write_bm25s(path: Path, texts: Sequence[str]) -> None:
    """What format 2 wrote (qa/store/local/keyword.py before segments)."""
    import bm25s

    from qa.store.tokens import tokenize

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in (tokens or [""])] for tokens in tokenize(texts)]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    retriever.save(str(path))


def run(index_dir: Path, questions: int = 40) -> dict[str, float]:
    from qa.store.local.bm25s_index import Bm25sIndex
    from qa.store.local.keyword import KeywordIndex, write_keyword_index
    from qa.store.local.store import open_store

    texts = [p.text for p in open_store(index_dir).index.passages]
    out = Path(tempfile.mkdtemp(prefix="bm25-formats-"))
    try:
        started = time.perf_counter()
        _write_bm25s(out / "bm25s", texts)
        bm25s_build = time.perf_counter() - started
        started = time.perf_counter()
        write_keyword_index(out / "tf", texts)
        tf_build = time.perf_counter() - started
        mib = lambda p: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20  # noqa: E731
        old, new = Bm25sIndex(out / "bm25s", mmap=True), KeywordIndex(out / "tf", mmap=True)
        rng = np.random.default_rng(3)
        asked = []
        for i in rng.choice(len(texts), questions, replace=False):
            words = re.findall(r"[A-Za-z][A-Za-z'-]+", texts[i])
            start = int(rng.integers(0, max(1, len(words) - 6)))
            asked.append(f"What did {' '.join(words[start : start + 6])} say?")
        for question in asked[:3]:  # warm-up
            old.scores(question), new.scores(question)
        times_old, times_new, worst, same = [], [], 0.0, 0
        for question in asked:
            started = time.perf_counter()
            a = old.scores(question)
            times_old.append(time.perf_counter() - started)
            started = time.perf_counter()
            b = new.scores(question)
            times_new.append(time.perf_counter() - started)
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-9))))
            same += np.argsort(-a, kind="stable")[:10].tolist() == np.argsort(-b, kind="stable")[:10].tolist()
        return {
            "passages": len(texts),
            "bm25s_build_s": round(bm25s_build, 1),
            "tf_build_s": round(tf_build, 1),
            "bm25s_disk_mib": round(mib(out / "bm25s"), 1),
            "tf_disk_mib": round(mib(out / "tf"), 1),
            "bm25s_scores_p50_ms": round(float(np.median(times_old)) * 1000, 2),
            "tf_scores_p50_ms": round(float(np.median(times_new)) * 1000, 2),
            "max_relative_difference": worst,
            "same_top10_share": same / questions,
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_WORK / "100000-static" / "index")
    parser.add_argument("--questions", type=int, default=40)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.index, args.questions)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
