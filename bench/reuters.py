"""Reuters-21578 end to end: index the whole archive with `qa index`, then answer 20 questions about it.

    python -m bench.reuters [--store DIR] [--out DIR] [--skip-index] [--nice N]

Indexing runs `qa index` in a child process (niced: the machine is shared) and reports articles,
passages, seconds, articles/s and passages/s (wall time of the whole command: ingest, embedding
and writing), the child's peak resident memory and the index size on disk. Then `qa eval` answers
bench/reuters_questions.jsonl with the bundled reader and this reports EM/F1, the questions answered
with the gold span cited from a story that states it, the no-answer questions left unanswered, and
the answer latency p50. The last line is one JSON object.

The corpus is ../shared/corpora/reuters21578.jsonl (Reuters-21578, Distribution 1.0; research use
only): measured here, never copied into the repository. Keep the index outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import ROOT, table

CORPUS = ROOT.parent / "shared" / "corpora" / "reuters21578.jsonl"
QUESTIONS = ROOT / "bench" / "reuters_questions.jsonl"
DEFAULT_DIR = ROOT / "runs" / "reuters"  # runs/ is ignored by git


class BenchInputError(ValueError):
    """A corpus, question file or store the benchmark cannot use; the message says which and why."""


def _qa(args: Sequence[str], niceness: int) -> subprocess.CompletedProcess[str]:
    """`python -m qa.cli ARGS` from this checkout, niced, its output passed through as it comes."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HF_HUB_OFFLINE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=ROOT,
        env=env,
        text=True,
        preexec_fn=(lambda: os.nice(niceness)) if niceness else None,
    )


def size_on_disk(folder: Path) -> int:
    """Bytes of every file under `folder` (the live generation and anything a build left beside it)."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def index_corpus(corpus: Path, store: str, niceness: int) -> dict[str, Any]:
    """Build the store from scratch with `qa index` in a child process; the figures of that build."""
    from qa.store.location import LocalLocation, parse_location

    location = parse_location(store)
    rebuild = location.info() is not None  # an index there already: embed everything again anyway
    started = time.perf_counter()
    done = _qa(
        ["index", "--articles", str(corpus), "--store", store, *(["--rebuild"] if rebuild else [])], niceness
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchInputError(f"qa index exited with status {done.returncode}; its message is above")
    # ru_maxrss of RUSAGE_CHILDREN is the largest waited-for child (KiB on Linux): the indexer,
    # unless an earlier child of this process was bigger (run() measures in a fresh process for that).
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    info = location.info()
    if info is None:
        raise BenchInputError(f"{store}: qa index finished but the store reports no index")
    return {
        "articles": info.article_count,
        "passages": info.passage_count,
        "seconds": round(seconds, 2),  # 0.1 s would be 5% of a test corpus's 2 s build
        "articles_per_s": round(info.article_count / seconds, 1),
        "passages_per_s": round(info.passage_count / seconds, 1),
        "peak_rss_gib": round(peak_kib / 2**20, 3),
        "size_mib": round(size_on_disk(location.path) / 2**20, 3)
        if isinstance(location, LocalLocation)
        else None,
        "rebuilt": rebuild,
    }


def answer_questions(
    questions: Path, store: str, out: Path, niceness: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`qa eval` of the question file on the store with the bundled reader: (metrics, predictions)."""
    done = _qa(
        ["eval", str(questions), "--store", store, "--reader", "bundled", "--out", str(out), "--overwrite"],
        niceness,
    )
    if done.returncode != 0:
        raise BenchInputError(f"qa eval exited with status {done.returncode}; its message is above")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    predictions = [
        json.loads(line)
        for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
        if line
    ]
    return metrics, predictions


def outcome(record: dict[str, Any]) -> str:
    """One word for a question's result, for the table."""
    if not record["has_answer"]:
        return "right (no answer)" if record["exact_match"] == 1.0 else "WRONG: answered"
    if record["exact_match"] == 1.0:
        return "right" if record.get("cites_source") else "right words, WRONG story"
    return {
        "retrieval_miss": "WRONG: not retrieved",
        "reader_miss": "WRONG: other span",
        "false_no_answer": "WRONG: no answer",
    }.get(record["error_class"], "WRONG")


def figures(index: dict[str, Any] | None, metrics: dict[str, Any]) -> dict[str, Any]:
    citations = metrics["citations"]
    result: dict[str, Any] = {}
    if index is not None:
        result.update({f"reuters_index_{key}": value for key, value in index.items()})
    result.update(
        {
            "reuters_questions": metrics["n"],
            "reuters_exact_match": metrics["exact_match"],
            "reuters_f1": metrics["f1"],
            # Right end to end: the gold span cited from a story that states it, or, for the questions
            # the archive cannot answer, no answer.
            "reuters_citations_right": citations["right"] + citations["no_answer_right"],
            "reuters_questions_right": metrics["errors"][
                "correct"
            ],  # exact match, wherever it was cited from
            "reuters_answered_from_source": citations["right"],
            "reuters_answerable": citations["of"],
            "reuters_no_answers_right": citations["no_answer_right"],
            "reuters_no_answer_questions": citations["no_answer_of"],
            "reuters_source_recall_at_5": metrics["source_recall_at_k"]["5"],
            "reuters_answer_p50_ms": metrics["latency_ms"]["total"]["p50"],
            "reuters_reader": metrics["config"]["reader"],
            "reuters_embedder": metrics["config"]["embedder"],
        }
    )
    return result


QUICK_STORIES = 2_000  # `python -m bench --quick` indexes this many stories; the full run all of them


def run(*, quick: bool) -> dict[str, Any]:
    """The Reuters indexing keys of `python -m bench`: --quick indexes the first 2,000 stories, the full
    run the whole file; in a fresh process, so that its peak memory is the indexer's alone."""
    import tempfile

    keys = {
        "reuters_index_passages_per_s": None,
        "reuters_index_peak_rss_gib": None,
        "reuters_index_stories": None,
    }
    if not CORPUS.is_file():
        print(f"Reuters part skipped: {CORPUS} is not here (../shared/corpora/)")
        return keys
    with tempfile.TemporaryDirectory(prefix="bench-reuters-") as folder:
        corpus = CORPUS
        if quick:  # a slice written at run time, never kept
            corpus = Path(folder) / "reuters-slice.jsonl"
            with open(CORPUS, encoding="utf-8") as source, open(corpus, "w", encoding="utf-8") as target:
                for _, line in zip(range(QUICK_STORIES), source):
                    target.write(line)
        code = (
            "import json, sys; from bench.reuters import index_corpus; "
            "print(json.dumps(index_corpus(__import__('pathlib').Path(sys.argv[1]), sys.argv[2], 0)))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(corpus), str(Path(folder) / "index")],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BenchInputError(f"indexing Reuters failed: {done.stderr.strip().splitlines()[-1:]}")
        index = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        table(
            ["stories", "passages", "seconds", "passages/s", "peak RSS GiB", "on disk MiB"],
            [
                [
                    index["articles"],
                    index["passages"],
                    index["seconds"],
                    index["passages_per_s"],
                    index["peak_rss_gib"],
                    index["size_mib"],
                ]
            ],
        ),
        flush=True,
    )
    return {
        "reuters_index_passages_per_s": index["passages_per_s"],
        "reuters_index_peak_rss_gib": index["peak_rss_gib"],
        "reuters_index_stories": index["articles"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store", default=str(DEFAULT_DIR / "index"), help="where the index is built (default: %(default)s)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_DIR / "eval", help="the qa eval run folder (default: %(default)s)"
    )
    parser.add_argument(
        "--corpus", type=Path, default=CORPUS, help="the Reuters-21578 JSONL file (default: %(default)s)"
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="default: %(default)s")
    parser.add_argument(
        "--skip-index",
        action="store_true",
        help="answer from the index already in --store; no indexing figures",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=5,
        help="niceness of the qa child processes (default: %(default)s; 0: none)",
    )
    args = parser.parse_args(argv)
    try:
        if not args.skip_index and not args.corpus.is_file():
            raise BenchInputError(
                f"{args.corpus}: no such file; the Reuters-21578 JSONL lives in ../shared/corpora/"
            )
        if not args.questions.is_file():
            raise BenchInputError(f"{args.questions}: no such file")
        if args.nice < 0:
            raise BenchInputError(f"--nice must be 0 or more, got {args.nice}")
        index = None if args.skip_index else index_corpus(args.corpus, args.store, args.nice)
        if index is not None:
            print(f"\nIndexing {args.corpus.name} with `qa index` (child process, nice {args.nice})")
            print(
                table(
                    [
                        "articles",
                        "passages",
                        "seconds",
                        "articles/s",
                        "passages/s",
                        "peak RSS GiB",
                        "on disk MiB",
                    ],
                    [
                        [
                            index["articles"],
                            index["passages"],
                            index["seconds"],
                            index["articles_per_s"],
                            index["passages_per_s"],
                            index["peak_rss_gib"],
                            index["size_mib"],
                        ]
                    ],
                ),
                flush=True,
            )
        metrics, predictions = answer_questions(args.questions, args.store, args.out, args.nice)
    except (BenchInputError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"\n{metrics['n']} questions, reader {metrics['config']['reader']}, k={metrics['config']['k']}")
    print(
        table(
            ["question", "result", "answer", "gold (first of)", "cites"],
            [
                [
                    r["id"],
                    outcome(r),
                    r["answer"],
                    r["gold"][0] if r["gold"] else "(none)",
                    " ".join(
                        dict.fromkeys(
                            c["article_id"].rpartition("#")[2]
                            for c in r["citations"]
                            if c["start"] is not None
                        )
                    )
                    or "-",
                ]
                for r in predictions
            ],
        )
    )
    print(json.dumps(figures(index, metrics)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
