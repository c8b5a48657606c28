"""The status check of an unchanged folder (`qa index --status`, the chat's start): every article read
and hashed, as before, against a stat of each file (qa/ingest/listing.py).

    python -m bench.status [--files 3000] [--rounds 5] [--work DIR]

Writes --files one-story markdown files made from Reuters-21578 (../shared/corpora/reuters21578.jsonl,
research use only: generated into a temporary folder, removed afterwards, never committed), indexes
them with build_index (the static embedder where it has been distilled, else MiniLM: the vectors do
not matter here), then times in this process, rounds alternated, median of each:

- full: what `index_status` did before listings: load_articles, then the content hashes compared;
- listing: `index_status` now, on the same unchanged folder (a stat per file, no article read);
- touched: `index_status` after one file's mtime moved (same bytes): the stat, then the full check.

The files sit in the page cache in every round (a second start, as a user restarting the chat
sees); a cold cache only makes the full check slower.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import ROOT, table

REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578.jsonl"


def make_folder(folder: Path, files: int) -> int:
    """`files` markdown articles, one Reuters story each (repeated, numbered, when asked for more
    than the archive holds), their mtimes an hour back as an archive's are. Returns the bytes written."""
    stories = []
    with open(REUTERS, encoding="utf-8") as handle:
        for line in handle:
            story = json.loads(line)
            if story.get("text", "").strip():
                stories.append(story)
            if len(stories) >= files:
                break
    folder.mkdir(parents=True)
    written = 0
    for number in range(files):
        story = stories[number % len(stories)]
        title = json.dumps(f"{story.get('title') or 'Untitled'} ({number})")
        text = f"---\ntitle: {title}\ndate: {story.get('date', '')[:10]}\n---\n\n{story['text']}\n"
        path = folder / f"{number // 1000:03d}" / f"story-{number:06d}.md"  # a thousand a folder
        path.parent.mkdir(exist_ok=True)
        written += path.write_text(text, encoding="utf-8")
    an_hour_ago = time.time() - 3600
    for path in folder.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    return written


def _embedder():
    from qa.embed import EmbedderError, load_embedder

    try:
        return load_embedder("static")
    except EmbedderError:
        return load_embedder()


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run(
    quick: bool = False, files: int | None = None, rounds: int | None = None, work: Path | None = None
) -> dict[str, Any]:
    if not REUTERS.is_file():
        print(f"bench.status: {REUTERS} not found; skipped")
        return {}
    from qa.ingest.articles import load_articles
    from qa.store.local.build import _previous, build_index, compare_hashes, index_status

    files = files if files is not None else (1000 if quick else 3000)
    rounds = rounds if rounds is not None else (3 if quick else 5)
    root = Path(tempfile.mkdtemp(prefix="bench-status-", dir=work))
    try:
        folder, index_dir = root / "articles", root / "index"
        size = make_folder(folder, files)
        embedder = _embedder()
        print(f"{files:,} files ({size / 2**20:.1f} MiB); indexing with {embedder.name} ...", flush=True)
        built = build_index(folder, index_dir, embedder)
        print(f"{built.passages:,} passages in {built.seconds:.0f} s", flush=True)

        def full():  # index_status before listings
            report = load_articles(folder)
            previous = _previous(index_dir, embedder.name)
            return compare_hashes(
                report.articles, previous.articles if previous is not None else None, report.skipped
            )

        def listing():
            return index_status(folder, index_dir, embedder.name)

        if listing() != full():
            raise RuntimeError("bench.status: the listing and the full check disagree on an unchanged folder")
        touched = next(folder.rglob("*.md"))
        built_at = touched.stat().st_mtime_ns
        full_times, listing_times, touched_times = [], [], []
        for _ in range(rounds):  # alternated: the shared machine's load moves all three alike
            full_times.append(_timed(full)[0])
            listing_times.append(_timed(listing)[0])
            os.utime(touched, ns=(built_at, built_at + 1_000_000_000))  # a second on, same bytes
            seconds, touched_status = _timed(listing)
            touched_times.append(seconds)
            os.utime(touched, ns=(built_at, built_at))  # as built: quick again
        up_to_date = not touched_status.stale
    finally:
        shutil.rmtree(root, ignore_errors=True)
    full_s, listing_s, touched_s = (statistics.median(t) for t in (full_times, listing_times, touched_times))
    print(
        table(
            ["check of an unchanged folder", "median s", "rounds"],
            [
                ["full: every article read and hashed (before)", full_s, rounds],
                ["listing: a stat per file (now)", listing_s, rounds],
                ["one file touched: stat, then the full check", touched_s, rounds],
            ],
        )
    )
    print(
        f"listing vs full: {full_s / listing_s:.0f}x faster; "
        f"a touched file costs {touched_s / full_s:.2f}x the full check "
        f"and is still up to date: {up_to_date}"
    )
    return {
        "status_files": files,
        "status_full_s": round(full_s, 4),
        "status_listing_s": round(listing_s, 4),
        "status_speedup": round(full_s / listing_s, 1),
        "status_touched_s": round(touched_s, 4),
        "status_touched_vs_full": round(touched_s / full_s, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--files", type=int, default=None, help="article files to generate (default: 3000; --quick 1000)"
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds of each check (default: 5; --quick 3)"
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="where the temporary folder goes (default: the system's)"
    )
    parser.add_argument("--quick", action="store_true", help="1,000 files, 3 rounds")
    args = parser.parse_args(argv)
    for name in ("files", "rounds"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    print(json.dumps(run(args.quick, args.files, args.rounds, args.work)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
