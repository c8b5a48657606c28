"""The local index at 10k, 100k and 1M real-text passages: build, cold start, server memory, search
and answer latency.

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

An index already built in --work for a size (its build.json beside it) is reused. `--quick`
measures the biggest size if its index exists, else builds and measures the smallest, and says
which sizes it skipped.
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT, table

REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578.jsonl"
DEFAULT_WORK = Path(os.environ.get("QA_SCALE_WORK", "/tmp/qa-scale"))
SIZES = (10_000, 100_000, 1_000_000)
# April 1987 to 1992: most of the stories at 10k and 100k, about half of a 1M corpus (copies 0-5):
# a wide filter, the dearer case (a mask over most rows).
DATE_FILTER = ("1987-04", "1992")
QUESTION_COUNT = 20
ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    # the repository first, then what the caller had (an extra such as model2vec installed aside)
    "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
}


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
    command = [
        sys.executable,
        "-m",
        "qa.cli",
        "index",
        "--articles",
        str(corpus),
        "--store",
        str(index_dir),
        "--embedder",
        embedder,
        "--rebuild",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"qa index failed ({done.returncode}):\n{done.stderr[-3000:]}")
    figures = re.search(
        r"([\d,]+) articles/s, ([\d,]+) passages/s, peak memory ([\d.]+) GiB, index ([\d,.]+) MiB",
        done.stdout,
    )
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
    from qa.store.local.store import open_store

    store = open_store(index_dir)
    rng = np.random.default_rng(seed)
    rows = rng.choice(store.count(), size=count, replace=False)
    made = []
    for passage in store.passages(rows.tolist()):
        words = re.findall(r"[A-Za-z][A-Za-z'-]+", passage.text)
        start = int(rng.integers(0, max(1, len(words) - 6)))
        made.append(f"What did {' '.join(words[start : start + 6]) or passage.title} say?")
    return made


def cold_start(index_dir: Path, question: str, runs: int, reader_backend: str | None) -> float:
    """Median wall seconds of a fresh `qa ask` process (bundled reader in this backend; None: no
    --reader-backend, as a user types it), start to answer."""
    seconds = []
    command = [
        sys.executable,
        "-m",
        "qa.cli",
        "ask",
        question,
        "--store",
        str(index_dir),
        "--reader",
        "bundled",
        *(("--reader-backend", reader_backend) if reader_backend is not None else ()),
    ]
    subprocess.run(
        command, cwd=ROOT, env=ENV, capture_output=True, check=True
    )  # an ONNX export happens once, not timed
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, check=True)
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))


def _rss_gib(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process and its children (gradio starts none; be sure), GiB. `field`:
    VmRSS (all), RssAnon (the process's own memory) or RssFile (pages of mapped files: the index's
    memory maps, which the kernel can drop and read again)."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                total += int(line.split()[1])
    return total / 2**20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_memory(index_dir: Path, questions: Sequence[str], timeout: float = 900) -> dict[str, float]:
    """RSS of a real `qa chat` server on the index: once it listens, and after answering the questions.

    The corpus folder is moved aside meanwhile: with it in place the chat first checks the index
    against every article (a full read of the archive at each start, measured apart as
    `status_s`), which is not what serving costs.
    """
    corpus = index_dir.parent / "corpus"
    aside = corpus.with_name("corpus.aside")
    if corpus.is_dir():
        corpus.rename(aside)
    try:
        return _server_memory(index_dir, questions, timeout)
    finally:
        if aside.is_dir():
            aside.rename(corpus)


def status_seconds(index_dir: Path) -> float:
    """Wall seconds of `qa index --status` on the corpus: what a chat start spends checking the index."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            "--status",
            "--articles",
            str(index_dir.parent / "corpus"),
            "--store",
            str(index_dir),
            "--embedder",
            "static",
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
    )
    return time.perf_counter() - started


def _server_memory(index_dir: Path, questions: Sequence[str], timeout: float) -> dict[str, float]:
    import gradio_client

    port = _free_port()
    log = open(index_dir.parent / f"chat-{index_dir.name}.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "chat",
            "--store",
            str(index_dir),
            "--reader",
            "bundled",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, started = time.monotonic() + timeout, time.perf_counter()
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read(1)
                break
            except OSError as err:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the chat server did not start: see {log.name}") from err
                time.sleep(0.5)
        ready_s = time.perf_counter() - started
        loaded = _rss_gib(server.pid)
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        for question in questions:
            client.predict(question, api_name="/ask")
        return {
            "server_ready_s": round(ready_s, 1),
            "server_rss_gib_loaded": round(loaded, 3),
            "server_rss_gib": round(_rss_gib(server.pid), 3),
            "server_rss_anon_gib": round(_rss_gib(server.pid, "RssAnon"), 3),
            "server_rss_file_gib": round(_rss_gib(server.pid, "RssFile"), 3),
        }
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
        for name, run in (
            ("hybrid", lambda q=question: retriever.search(q, 5)),
            ("hybrid+date", lambda q=question: retriever.search(q, 5, search_filter=dated)),
            ("answer", lambda q=question: pipeline.ask(q, k=5)),
        ):
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


def vector_layouts(index_dir: Path, questions: Sequence[str]) -> None:
    """The vectors two ways at this size: float16 .npy + IVF,SQ8 (the index as built) against one exact
    float32 Flat index read back for rescoring: disk, resident memory after the questions, search p50."""
    import faiss

    from qa.embed import load_embedder
    from qa.store.local import VectorRows, current_generation, dense, read_manifest, read_vectors

    generation = current_generation(index_dir)
    manifest = read_manifest(index_dir)
    embedder = load_embedder(manifest.embedder)
    queries = embedder.encode(list(questions))
    vectors = read_vectors(generation)
    rows: list[list[Any]] = []

    def measure(name: str, search, disk: int) -> None:
        before = _rss_gib(os.getpid(), "VmRSS")
        timings = []
        for query in queries:
            started = time.perf_counter()
            search(query)
            timings.append((time.perf_counter() - started) * 1000)
        rows.append([name, disk / 2**30, _rss_gib(os.getpid(), "VmRSS") - before, float(np.median(timings))])

    ivf = dense.read_dense_index(generation / "dense.faiss", manifest.dense_index, mmap=True)
    stored = VectorRows(generation / "vectors.npy")

    def ivf_then_exact(
        query: np.ndarray,
    ) -> None:  # what LocalStore + Retriever do: FAISS, then exact cosines
        _scores, ids = dense.search(ivf, query[None, :], 40)
        stored.rows(np.sort(ids[0][ids[0] >= 0]).tolist()) @ query

    measure(
        "float16 vectors.npy (pread) + IVF,SQ8 (mapped)",
        ivf_then_exact,
        (generation / "vectors.npy").stat().st_size + (generation / "dense.faiss").stat().st_size,
    )
    flat = faiss.IndexFlatIP(vectors.shape[1])
    for start in range(0, len(vectors), 65536):
        flat.add(np.ascontiguousarray(vectors[start : start + 65536], dtype=np.float32))
    flat_file = index_dir.parent / "flat.faiss"
    faiss.write_index(flat, str(flat_file))
    del flat
    flat = faiss.read_index(str(flat_file), faiss.IO_FLAG_MMAP_IFC)

    def flat_exact(query: np.ndarray) -> None:  # exact search; vectors read back from its codes
        _scores, ids = flat.search(query[None, :], 40)
        flat.reconstruct_batch(ids[0][ids[0] >= 0])

    measure("float32 Flat only (mmap, exact)", flat_exact, flat_file.stat().st_size)
    flat_file.unlink()
    print(
        f"\nVectors two ways, {len(vectors):,} passages, {len(queries)} questions (RSS grown by the searches)"
    )
    print(table(["layout", "disk GiB", "RSS grown GiB", "search p50 ms"], rows))


# ------------------------------------------------------------------------------------- the plot


def plot(results: dict[int, dict[str, Any]]) -> str:
    """Each cost against corpus size (log scale), four charts in one SVG (qa/eval/svg.py, no plotting
    library)."""
    from qa.eval.svg import COLORS, HEIGHT, WIDTH, line_chart, standalone

    sizes = sorted(results)
    x_range = (np.log10(sizes[0]) - 0.1, np.log10(sizes[-1]) + 0.1) if sizes else (4, 6)

    def series(label: str, color: str, key: str, scale: float = 1.0):
        return (
            label,
            COLORS[color],
            [(float(np.log10(n)), results[n][key] * scale) for n in sizes if results[n].get(key) is not None],
        )

    def target(value: float) -> tuple:  # issue 15's target at 1M, as a flat grey line
        return (f"target {value:g}", "#9ca3af", [(x_range[0], value), (x_range[1], value)])

    def chart(title: str, y_label: str, lines: list) -> str:
        top = max((y for _l, _c, points in lines for _x, y in points), default=1.0)
        return line_chart(
            title,
            lines,
            "passages, log10 (4: 10k, 5: 100k, 6: 1M)",
            y_label,
            x_range,
            (0.0, top * 1.15),
            markers=True,
        )

    charts = [
        chart(
            "Memory and disk",
            "GiB",
            [
                series("index on disk", "grey", "disk_mib", 1 / 1024),
                series("build peak", "orange", "peak_rss_gib"),
                series("chat server, 20 questions", "blue", "server_rss_gib"),
                target(1.5),
            ],
        ),
        chart(
            "Latency, warm (p50)",
            "ms",
            [
                series("hybrid search", "teal", "hybrid_search_p50_ms"),
                series("hybrid + date filter", "green", "hybrid_date_search_p50_ms"),
                series("answer, k=5", "purple", "answer_p50_ms"),
                target(50),
                target(200),
            ],
        ),
        chart(
            "qa ask from a cold start",
            "seconds",
            [
                series("reader in ONNX Runtime", "blue", "cold_start_s"),
                series("reader in torch", "red", "cold_start_s_torch_reader"),
                target(2),
            ],
        ),
        chart(
            "Build (qa index --embedder static)", "minutes", [series("build", "orange", "build_s", 1 / 60)]
        ),
    ]
    body = "".join(
        c.replace("<svg ", f"<svg x='{(i % 2) * WIDTH}' y='{(i // 2) * HEIGHT}' ", 1)
        for i, c in enumerate(charts)
    )
    return standalone(
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {2 * WIDTH} {2 * HEIGHT}' width='{2 * WIDTH}' "
        f"height='{2 * HEIGHT}' role='img' aria-label='newsqa costs against corpus size'>{body}</svg>"
    )


# ------------------------------------------------------------------------------------- the run


def measure_size(
    work: Path,
    size: int,
    embedder: str,
    *,
    build_missing: bool,
    cold_runs: int,
    build_only: bool = False,
    status: bool = True,
) -> dict[str, Any] | None:
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
    result["cold_start_s"] = round(cold_start(index_dir, questions[0], cold_runs, "onnx"), 2)
    result["cold_start_s_torch_reader"] = round(cold_start(index_dir, questions[0], cold_runs, "torch"), 2)
    result["cold_start_s_default"] = round(cold_start(index_dir, questions[0], cold_runs, None), 2)
    result.update(search_and_answer(index_dir, questions))
    result.update(server_memory(index_dir, questions))
    if status:  # reads the whole corpus: 34 s at 1M
        result["status_s"] = round(status_seconds(index_dir), 1)
    print(f"[{size:,}] {json.dumps(result)}", flush=True)
    return result


def run(
    quick: bool = False, sizes: Sequence[int] = SIZES, work: Path = DEFAULT_WORK, embedder: str = "static"
) -> dict[str, Any]:
    """Figures per size. With `quick`: the biggest size only if its index is already built in `work`
    (what the *_1m keys need), else the smallest, built now; no `status_s`."""
    if not REUTERS.is_file():
        print(f"bench.scale: {REUTERS} not found; skipped")
        return {}
    work.mkdir(parents=True, exist_ok=True)
    if quick:
        biggest = max(sizes)
        built = (work / f"{biggest}-{embedder}" / "build.json").is_file()
        chosen = [biggest] if built else [min(sizes)]
        for size in sorted(set(sizes) - set(chosen)):
            print(
                f"[{size:,}] skipped by --quick "
                f"(python -m bench.scale --sizes {size} --work {work} measures it"
                f"{'' if (work / f'{size}-{embedder}' / 'build.json').is_file() else ', building it first'})",
                flush=True,
            )
        sizes = chosen
    results: dict[int, dict[str, Any]] = {}
    for size in sizes:
        measured = measure_size(
            work, size, embedder, build_missing=True, cold_runs=1 if quick else 3, status=not quick
        )
        if measured is not None:
            results[size] = measured
    if results:
        keys = (
            "passages",
            "build_s",
            "passages_per_s",
            "peak_rss_gib",
            "disk_mib",
            "cold_start_s",
            "server_rss_gib_loaded",
            "server_rss_gib",
            "hybrid_search_p50_ms",
            "hybrid_date_search_p50_ms",
            "answer_p50_ms",
        )
        print(table(["size", *keys], [[f"{s:,}", *(r.get(k) for k in keys)] for s, r in results.items()]))
    if results:  # every size measured so far, this run's and earlier ones', for the plot
        saved = work / "results.json"
        known = {int(k): v for k, v in json.loads(saved.read_text()).items()} if saved.is_file() else {}
        known |= results
        saved.write_text(json.dumps({str(k): v for k, v in sorted(known.items())}, indent=1))
    out: dict[str, Any] = {"scale": {str(s): r for s, r in results.items()}}
    biggest = results.get(1_000_000, {})
    if not biggest:
        print(
            f"The 1M keys are null: no 1M index in {work} "
            f"(python -m bench.scale --sizes 1000000 --work {work} builds it: 5-10 minutes here)"
        )
    out |= {
        "cold_start_s_1m": biggest.get("cold_start_s"),
        "cold_start_s_1m_default": biggest.get("cold_start_s_default"),
        "server_rss_gib_1m": biggest.get("server_rss_gib"),
        "hybrid_search_p50_ms_1m": biggest.get("hybrid_date_search_p50_ms"),
        "answer_p50_ms_1m": biggest.get("answer_p50_ms"),
    }
    # Issue 26: additions as segments, and search over 20 segments, on the biggest index measured.
    from bench import segments

    out |= {"add_one_article_s_1m": None, "add_1000_articles_s_1m": None}
    if results:
        out |= segments.run(max(results), work, embedder)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])  # the first paragraph
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(SIZES),
        help="corpus sizes in passages (default: %(default)s)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=DEFAULT_WORK,
        help="where corpora and indexes go (default: $QA_SCALE_WORK or %(default)s)",
    )
    parser.add_argument("--embedder", default="static", help="--embedder for qa index (default: %(default)s)")
    parser.add_argument(
        "--quick", action="store_true", help="measure only indexes already built, or the smallest size"
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build the missing indexes, measure nothing else"
    )
    parser.add_argument(
        "--layouts",
        action="store_true",
        help="compare the vector layouts on the biggest built size, and stop",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="OUT.svg",
        help="write the chart of WORK/results.json (every size measured so far) and stop",
    )
    args = parser.parse_args(argv)
    if args.plot is not None:
        measured = {int(k): v for k, v in json.loads((args.work / "results.json").read_text()).items()}
        args.plot.write_text(plot(measured), encoding="utf-8")
        print(f"wrote {args.plot} ({', '.join(f'{n:,}' for n in sorted(measured))} passages)")
        return 0
    if args.layouts:
        size = max(args.sizes)
        index_dir = args.work / f"{size}-{args.embedder}" / "index"
        vector_layouts(index_dir, questions_from(index_dir, QUESTION_COUNT))
        return 0
    if args.build_only:
        for size in args.sizes:
            measure_size(args.work, size, args.embedder, build_missing=True, cold_runs=0, build_only=True)
        return 0
    print(json.dumps(run(args.quick, args.sizes, args.work, args.embedder)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
