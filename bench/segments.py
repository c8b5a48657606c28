"""Additions to a segmented local index, and search over many segments (issue 26).

    python -m bench.segments [--size 1000000] [--work DIR] [--embedder static]

Runs on the Reuters index bench/scale.py built for --size in WORK/<size>-<embedder>/ (build it
first: `python -m bench.scale --sizes SIZE --build-only`), on a copy made by hard links (segments
are immutable: a build adds files and replaces CURRENT, it never writes into a file it did not
make). Measured side by side in one run:

- first_update_after_build_s: `qa index` with nothing new, once (see below); then
  add_one_article_s: one new Markdown article (about 5 passages) in the folder, then `qa index`
  in a fresh process, start to exit (the generation committed); add_1000_articles_s: the same with a
  new JSONL file of 1,000 stories. full_build_s: the first build's seconds at this size (build.json).
- 20 segments against one: 19 additions of 100 stories each (the merge policy held off), and a
  copy merged into one segment (merge_s); hybrid search p50 over 20 questions made from random
  passages, the two indexes searched in turn for each question: search_20_segments_p50_ratio
  (20 / 1); recall@5 of each question's source passage in both; top5_identical_share: questions
  whose top 5 passages are the same in both (the merged segment's IVF is trained anew, so ANN may
  move a hit; exact segments never do).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT
from bench.scale import DEFAULT_WORK, ENV, REUTERS, _rotate_digits

QUESTIONS = 20
SEGMENTS = 20
STORIES_PER_SEGMENT = 100


def _stories(count: int, shift: int, start: int = 0) -> list[dict]:
    """Reuters stories with every digit moved by `shift` and a source of their own: new articles."""
    out = []
    with open(REUTERS, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number < start or not line.strip():
                continue
            record = json.loads(line)
            if not str(record.get("text", "")).strip():
                continue
            for key in ("text", "title"):
                if isinstance(record.get(key), str):
                    record[key] = _rotate_digits(record[key], shift)
            record["url"] = f"https://late{shift:02d}.example/{number}"
            out.append(record)
            if len(out) == count:
                break
    return out


def _write_jsonl(path: Path, records: Sequence[dict]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _qa_index(corpus: Path, index_dir: Path, embedder: str) -> tuple[float, str]:
    command = [sys.executable, "-m", "qa.cli", "index", "--articles", str(corpus), "--store", str(index_dir)]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--embedder", embedder], cwd=ROOT, env=ENV, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"qa index failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _search_side_by_side(
    index_dirs: Sequence[Path], embedder, questions: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """For each index: hybrid p50 (ms), recall@5 of the source passages, each question's top 5.
    The indexes are searched in turn for each question, in one process, so that the shared
    machine's load falls on both alike."""
    from qa.retrieve.retriever import Retriever
    from qa.store.local.store import open_store

    retrievers = [Retriever(open_store(index_dir), embedder) for index_dir in index_dirs]
    for retriever in retrievers:
        for question, _ in questions[:3]:  # warm-up: page in lists and postings
            retriever.search(question, 5)
    timings = [[] for _ in retrievers]
    tops = [[] for _ in retrievers]
    for question, _ in questions:
        for i, retriever in enumerate(retrievers):
            started = time.perf_counter()
            hits = retriever.search(question, 5)
            timings[i].append((time.perf_counter() - started) * 1000)
            tops[i].append([h.passage.passage_id for h in hits])
    return [
        {
            "p50_ms": float(np.median(times)),
            "recall_at_5": sum(source in top for (_, source), top in zip(questions, found)) / len(questions),
            "tops": found,
        }
        for times, found in zip(timings, tops)
    ]


def run(size: int = 1_000_000, work: Path = DEFAULT_WORK, embedder_name: str = "static") -> dict[str, Any]:
    from qa.embed import load_embedder
    from qa.store.local import merge
    from qa.store.local.build import build_index
    from qa.store.local.segments import segment_infos
    from qa.store.local.store import open_store

    label = "1m" if size == 1_000_000 else f"{size // 1000}k"
    folder = work / f"{size}-{embedder_name}"
    if not (folder / "index" / "CURRENT").is_file() or not REUTERS.is_file():
        print(f"bench.segments: no index in {folder} (python -m bench.scale --sizes {size} --build-only)")
        return {f"add_one_article_s_{label}": None, f"add_1000_articles_s_{label}": None}
    scratch = folder / "segments-bench"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    corpus, index_dir = scratch / "corpus", scratch / "index"
    subprocess.run(["cp", "-al", str(folder / "corpus"), str(corpus)], check=True)
    subprocess.run(["cp", "-al", str(folder / "index"), str(index_dir)], check=True)
    (index_dir / ".lock").unlink(missing_ok=True)  # a link would share the original's build lock
    result: dict[str, Any] = {"segments_bench_passages": open_store(index_dir).count()}
    result["full_build_s"] = json.loads((folder / "build.json").read_text()).get("build_s")

    # The first run after the build reads again the files written within 2 s before the build
    # began (their listing entries are "racy", qa/store/local/changes.py): timed apart, as
    # first_update_after_build_s; from then on an addition reads its own files only.
    result[f"first_update_after_build_s_{label}"], _ = _qa_index(corpus, index_dir, embedder_name)
    story = _stories(1, shift=3)[0]
    (corpus / "late-story.md").write_text(
        f"---\ntitle: {story['title']}\ndate: 1999-05-04\n---\n\n{story['text']}\n", encoding="utf-8"
    )
    result[f"add_one_article_s_{label}"], line = _qa_index(corpus, index_dir, embedder_name)
    print(f"[{size:,}] one article: {result[f'add_one_article_s_{label}']:.1f} s: {line}", flush=True)
    _write_jsonl(corpus / "late-1000.jsonl", _stories(1000, shift=4, start=5000))
    result[f"add_1000_articles_s_{label}"], line = _qa_index(corpus, index_dir, embedder_name)
    print(f"[{size:,}] 1,000 articles: {result[f'add_1000_articles_s_{label}']:.1f} s: {line}", flush=True)

    embedder = load_embedder(embedder_name)
    # 20 segments, as a busy day could leave: the policy held off (it would merge past 10, or all
    # once the added passages outweigh the first segment, as at 10k).
    held, merge.merge_by_policy = merge.merge_by_policy, lambda index_dir: None
    try:
        segment = len(segment_infos(merge.read_manifest(index_dir)))
        while segment < SEGMENTS:
            records = _stories(STORIES_PER_SEGMENT, shift=5 + segment % 5, start=8000 + 100 * segment)
            _write_jsonl(corpus / f"late-batch-{segment:02d}.jsonl", records)
            build_index(corpus, index_dir, embedder)
            segment = len(segment_infos(merge.read_manifest(index_dir)))
    finally:
        merge.merge_by_policy = held
    result["segment_count"] = segment
    store = open_store(index_dir)
    rng = np.random.default_rng(26)
    questions = []
    for passage in store.passages(rng.choice(store.count(), size=QUESTIONS, replace=False).tolist()):
        words = re.findall(r"[A-Za-z][A-Za-z'-]+", passage.text)
        start = int(rng.integers(0, max(1, len(words) - 6)))
        questions.append(
            (f"What did {' '.join(words[start : start + 6]) or passage.title} say?", passage.passage_id)
        )
    merged_dir = scratch / "merged"  # a copy by links, merged: the same passages in one segment
    subprocess.run(["cp", "-al", str(index_dir), str(merged_dir)], check=True)
    (merged_dir / ".lock").unlink(missing_ok=True)
    started = time.perf_counter()
    merge.merge_segments(merged_dir)
    result["merge_s"] = round(time.perf_counter() - started, 1)
    many, one = _search_side_by_side([index_dir, merged_dir], embedder, questions)
    result |= {
        "hybrid_p50_ms_20_segments": round(many["p50_ms"], 1),
        "hybrid_p50_ms_merged": round(one["p50_ms"], 1),
        "search_20_segments_p50_ratio": round(many["p50_ms"] / one["p50_ms"], 2),
        "recall_at_5_20_segments": many["recall_at_5"],
        "recall_at_5_merged": one["recall_at_5"],
        "top5_identical_share": sum(a == b for a, b in zip(many["tops"], one["tops"])) / QUESTIONS,
    }
    # Every key names its size: `python -m bench` prints them beside bench/scale.py's.
    result = {k if k.endswith(f"_{label}") else f"{k}_{label}": v for k, v in result.items()}
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"[{size:,}] {json.dumps(result)}", flush=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="passages (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="bench/scale.py's work folder")
    parser.add_argument("--embedder", default="static", help="the index's embedder (default: %(default)s)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.size, args.work, args.embedder)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
