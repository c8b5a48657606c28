"""The local index at 10k, 100k and 1M real-text passages: build, cold start, server memory, search and answer latency.

    python -m bench.scale [--sizes 10000 100000 1000000] [--work DIR] [--embedder static] [--quick]

Corpora are made at run time from Reuters-21578 (../shared/corpora/reuters21578.jsonl, research
use only: generated into --work, never committed). Its 21,577 stories split into ~94k passages;
bigger corpora repeat them as other outlets would, copy c with its dates moved c years on, its own
source URL (https://wireNN.example/...) and every digit d written (d + c) mod 10, so that copies
are different passages with different figures rather than exact duplicates. Each corpus is
indexed with the real command (`qa index`, a subprocess) and measured:

- build: wall seconds, passages/s, peak RSS of the `qa index` process (wait4), size on disk;
- cold start: wall time of a fresh `qa ask` process, start to printed answer (bundled reader);
- server memory: RSS of a `qa chat` process once its index is loaded, and after 20 questions;
- hybrid search (dense + keyword + a date filter) p50 and p95 in one process, and plain hybrid;
- answer p50 with the bundled reader at k=5 (QAPipeline.ask, warm).

An index already built in --work for a size (its build.json beside it) is reused: `--quick`
measures only sizes whose index exists, or 10k, and says which it skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bench import ROOT, table

REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578.jsonl"
DEFAULT_WORK = Path(os.environ.get("QA_SCALE_WORK", "/tmp/qa-scale"))
SIZES = (10_000, 100_000, 1_000_000)
# April 1987 to 1992: most of the stories at 10k and 100k, about half of a 1M corpus (copies 0-5):
# a wide filter, the dearer case (a mask over most rows).
DATE_FILTER = ("1987-04", "1992")
QUESTION_COUNT = 20
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


# ------------------------------------------------------------------------------------- corpora


def _passage_counts() -> list[int]:
    """Passages per Reuters story as the project splits it (the order of the file)."""
    from qa.ingest.articles import load_articles
    from qa.ingest.split import split_article

    report = load_articles(REUTERS)
    counts = {a.article_id: len(split_article(a)) for a in report.articles}
    # article ids are "reuters21578.jsonl#<line>": back to file order
    by_line = {int(a.split("#")[1]): n for a, n in counts.items()}
    return [by_line.get(line, 0) for line in range(1, max(by_line) + 1)]


def _rotate_digits(text: str, shift: int) -> str:
    return text.translate(str.maketrans("0123456789", "".join(str((d + shift) % 10) for d in range(10))))


def make_corpus(folder: Path, passages: int) -> int:
    """Write a corpus of about `passages` passages into `folder` (one JSONL file per copy); returns the
    passages it holds by the project's own split."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = _passage_counts()
    records = [json.loads(line) for line in REUTERS.read_text(encoding="utf-8").splitlines() if line.strip()]
    # Under one copy of the file: every n-th story, so that a small corpus spans the whole year too.
    share = min(1.0, passages / max(1, sum(counts)))
    total, copy = 0, 0
    while total < passages:
        with open(folder / f"reuters-{copy:02d}.jsonl", "w", encoding="utf-8") as handle:
            for number, (record, count) in enumerate(zip(records, counts)):
                if total >= passages:
                    break
                if count == 0 or int(number * share) == int((number - 1) * share):
                    continue
                made = dict(record)
                if copy:
                    for key in ("text", "title"):
                        if isinstance(made.get(key), str):
                            made[key] = _rotate_digits(made[key], copy)
                    if isinstance(made.get("date"), str) and re.match(r"\d{4}", made["date"]):
                        made["date"] = f"{int(made['date'][:4]) + copy}{made['date'][4:]}"
                made["url"] = f"https://wire{copy:02d}.example/{record.get('id', 'story')}"
                handle.write(json.dumps(made, ensure_ascii=False) + "\n")
                total += count
        copy += 1
    return total


# ------------------------------------------------------------------------------------- measures


def build(corpus: Path, index_dir: Path, embedder: str) -> dict[str, Any]:
    """`qa index` in a subprocess, timed; its own printed figures (peak RSS, size) are parsed back."""
    command = [sys.executable, "-m", "qa.cli", "index", "--articles", str(corpus), "--store", str(index_dir),
               "--embedder", embedder, "--rebuild"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"qa index failed ({done.returncode}):\n{done.stderr[-3000:]}")
    figures = re.search(r"([\d,]+) articles/s, ([\d,]+) passages/s, peak memory ([\d.]+) GiB, index ([\d,.]+) MiB", done.stdout)
    counts = re.search(r": (\d+) passages \((\d+) embedded", done.stdout)
    if not figures or not counts:
        raise RuntimeError(f"unexpected `qa index` output:\n{done.stdout}")
    passages = int(counts[1])
    return {
        "passages": passages,
        "embedder": embedder,
        "build_s": round(seconds, 1),
        "passages_per_s": round(passages / seconds, 1),
        "peak_rss_gib": float(figures[3]),
        "disk_mib": float(figures[4].replace(",", "")),
        "output": done.stdout.strip(),
    }


def questions_from(index_dir: Path, count: int, seed: int = 15) -> list[str]:
    """Questions about random passages: 'What ... <six words of the passage>?' (latency only: the
    answers do not matter here; bench/reuters.py has questions with known answers)."""
    from qa.store.local_store import open_store

    store = open_store(index_dir)
    rng = np.random.default_rng(seed)
    rows = rng.choice(store.count(), size=count, replace=False)
    made = []
    for passage in store.passages(rows.tolist()):
        words = re.findall(r"[A-Za-z][A-Za-z'-]+", passage.text)
        start = int(rng.integers(0, max(1, len(words) - 6)))
        made.append(f"What did {' '.join(words[start:start + 6]) or passage.title} say?")
    return made


def cold_start(index_dir: Path, question: str, runs: int) -> float:
    """Median wall seconds of a fresh `qa ask` process (bundled reader), start to answer."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qa.cli", "ask", question, "--store", str(index_dir), "--reader", "bundled"],
                       cwd=ROOT, env=ENV, capture_output=True, check=True)
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))


def _rss_gib(pid: int) -> float:
    """Resident memory of a process and its children (gradio starts none; be sure), GiB."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 2**20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_memory(index_dir: Path, questions: Sequence[str], timeout: float = 900) -> dict[str, float]:
    """RSS of a real `qa chat` server on the index: once it listens, and after answering the questions."""
    import gradio_client

    port = _free_port()
    log = open(index_dir.parent / f"chat-{index_dir.name}.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "qa.cli", "chat", "--store", str(index_dir), "--reader", "bundled",
                               "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, started = time.monotonic() + timeout, time.perf_counter()
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read(1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the chat server did not start: see {log.name}")
                time.sleep(0.5)
        ready_s = time.perf_counter() - started
        loaded = _rss_gib(server.pid)
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        for question in questions:
            client.predict(question, api_name="/ask")
        return {"server_ready_s": round(ready_s, 1), "server_rss_gib_loaded": round(loaded, 3),
                "server_rss_gib": round(_rss_gib(server.pid), 3)}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def search_and_answer(index_dir: Path, questions: Sequence[str]) -> dict[str, float]:
    """Warm hybrid search p50/p95 (with and without a date filter) and answer p50 at k=5."""
    from qa.pipeline import QAPipeline
    from qa.retrieve.filters import SearchFilter

    pipeline = QAPipeline.load(index_dir, reader="bundled")
    retriever = pipeline.retriever
    dated = SearchFilter(*DATE_FILTER)
    for question in questions[:3]:  # warm-up: first calls page in lists and postings
        retriever.search(question, 5, search_filter=dated)
        pipeline.ask(question, k=5)
    timings: dict[str, list[float]] = {"hybrid": [], "hybrid+date": [], "answer": []}
    for question in questions:
        for name, run in (("hybrid", lambda: retriever.search(question, 5)),
                          ("hybrid+date", lambda: retriever.search(question, 5, search_filter=dated)),
                          ("answer", lambda: pipeline.ask(question, k=5))):
            started = time.perf_counter()
            run()
            timings[name].append((time.perf_counter() - started) * 1000)
    return {
        "hybrid_search_p50_ms": round(float(np.median(timings["hybrid"])), 1),
        "hybrid_date_search_p50_ms": round(float(np.median(timings["hybrid+date"])), 1),
        "hybrid_date_search_p95_ms": round(float(np.percentile(timings["hybrid+date"], 95)), 1),
        "answer_p50_ms": round(float(np.median(timings["answer"])), 1),
        "filtered_share": round(pipeline.store.count(dated) / pipeline.store.count(), 3),
    }


# ------------------------------------------------------------------------------------- the run


def measure_size(work: Path, size: int, embedder: str, *, build_missing: bool, cold_runs: int,
                 build_only: bool = False) -> dict[str, Any] | None:
    folder = work / f"{size}-{embedder}"
    index_dir, record = folder / "index", folder / "build.json"
    if record.is_file() and (index_dir / "CURRENT").is_file():
        built = json.loads(record.read_text())
    elif not build_missing:
        return None
    else:
        corpus = folder / "corpus"
        shutil.rmtree(corpus, ignore_errors=True)
        print(f"[{size:,}] making the corpus in {corpus} ...", flush=True)
        made = make_corpus(corpus, size)
        print(f"[{size:,}] {made:,} passages; indexing with --embedder {embedder} ...", flush=True)
        built = build(corpus, index_dir, embedder)
        record.write_text(json.dumps(built, indent=1))
    print(f"[{size:,}] built: {built['output'].splitlines()[-1]}", flush=True)
    if build_only:
        return None
    questions = questions_from(index_dir, QUESTION_COUNT)
    result = dict(built)
    result.pop("output", None)
    result["cold_start_s"] = round(cold_start(index_dir, questions[0], cold_runs), 2)
    result.update(search_and_answer(index_dir, questions))
    result.update(server_memory(index_dir, questions))
    print(f"[{size:,}] {json.dumps(result)}", flush=True)
    return result


def run(quick: bool = False, sizes: Sequence[int] = SIZES, work: Path = DEFAULT_WORK, embedder: str = "static") -> dict[str, Any]:
    """Figures per size; with `quick`, only sizes already built in `work`, or the smallest."""
    if not REUTERS.is_file():
        print(f"bench.scale: {REUTERS} not found; skipped")
        return {}
    work.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, Any]] = {}
    for size in sizes:
        build_missing = not quick or size == min(sizes)
        measured = measure_size(work, size, embedder, build_missing=build_missing, cold_runs=1 if quick else 3)
        if measured is None:
            print(f"[{size:,}] skipped: no index built in {work / f'{size}-{embedder}'} (--quick builds only the smallest; "
                  f"python -m bench.scale --sizes {size} --work {work} builds it)", flush=True)
        else:
            results[size] = measured
    if results:
        keys = ("passages", "build_s", "passages_per_s", "peak_rss_gib", "disk_mib", "cold_start_s", "server_rss_gib_loaded",
                "server_rss_gib", "hybrid_search_p50_ms", "hybrid_date_search_p50_ms", "answer_p50_ms")
        print(table(["size", *keys], [[f"{s:,}", *(r.get(k) for k in keys)] for s, r in results.items()]))
    out: dict[str, Any] = {"scale": {str(s): r for s, r in results.items()}}
    biggest = results.get(1_000_000, {})
    if not biggest:
        print(f"The 1M keys are null: no 1M index in {work} (python -m bench.scale --sizes 1000000 --work {work} builds it, ~15 min)")
    out |= {"cold_start_s_1m": biggest.get("cold_start_s"), "server_rss_gib_1m": biggest.get("server_rss_gib"),
            "hybrid_search_p50_ms_1m": biggest.get("hybrid_date_search_p50_ms"), "answer_p50_ms_1m": biggest.get("answer_p50_ms")}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="corpus sizes in passages (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where corpora and indexes go (default: $QA_SCALE_WORK or %(default)s)")
    parser.add_argument("--embedder", default="static", help="--embedder for qa index (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="measure only indexes already built, or the smallest size")
    parser.add_argument("--build-only", action="store_true", help="build the missing indexes, measure nothing else")
    args = parser.parse_args(argv)
    if args.build_only:
        for size in args.sizes:
            measure_size(args.work, size, args.embedder, build_missing=True, cold_runs=0, build_only=True)
        return 0
    print(json.dumps(run(args.quick, args.sizes, args.work, args.embedder)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
