"""Article text from web pages, scored as the article-extraction benchmark scores it.

    python bench/extraction.py [--corpus ../shared/corpora/article-extraction] [--cli] [--worst 10]

On the 120 pages of ../shared/corpora/article-extraction (ground-truth.json: the article body a
person marked), side by side in one run: trafilatura's extract() with its defaults (the baseline)
and what `qa inspect --json` gives (paragraphs joined by newlines). Body text is scored as the
benchmark that published the pages does (Zyte/Scrapinghub article-extraction-benchmark): 4-word
shingles of \\w+ tokens, per page TP, FP and FN counted over shingles, precision and recall per
page, averaged over pages, F1 from the two averages. Also: pages with a title and with a date,
and pages per second. `--cli` runs the real `qa inspect --json` command once over the folder
(timing included) instead of calling the same code in this process.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "article-extraction"
_TOKEN = re.compile(r"\w+")
SHINGLE = 4


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None
    date: str | None


def shingles(text: str) -> Counter:
    """4-word shingles of \\w+ tokens, with counts (a text under 4 words is one shorter shingle)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(
        " ".join(tokens[i : i + SHINGLE])
        for i in range(max(1, len(tokens) - SHINGLE + 1))
        if tokens[i : i + 1]
    )


def page_scores(true: str, predicted: str) -> tuple[float, float]:
    """(precision, recall) of one page, over shingle counts; both 1.0 when the two texts agree."""
    gold, pred = shingles(true), shingles(predicted)
    tp = sum((gold & pred).values())
    fp = sum((pred - gold).values())
    fn = sum((gold - pred).values())
    if fp == fn == 0:
        return 1.0, 1.0
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def score(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float, float, list]:
    """(precision, recall, F1, per-page [(key, p, r)]): averages over pages, F1 from the two averages."""
    per_page = [(key, *page_scores(truth[key], predicted.get(key, ""))) for key in sorted(truth)]
    precision = sum(p for _, p, _ in per_page) / len(per_page)
    recall = sum(r for _, _, r in per_page) / len(per_page)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, per_page


def baseline(pages: dict[str, bytes]) -> tuple[dict[str, Extracted], float]:
    """trafilatura's extract() with its default settings, timed; title and date from its
    extract_metadata() in a second, untimed pass (extract() returns text only; asking
    bare_extraction for metadata changes the text it keeps: precision 0.946 instead of 0.935)."""
    import trafilatura

    start = time.perf_counter()
    texts = {key: trafilatura.extract(page) or "" for key, page in pages.items()}
    seconds = time.perf_counter() - start
    out = {}
    for key, page in pages.items():
        meta = trafilatura.extract_metadata(page)
        out[key] = Extracted(texts[key], meta.title if meta else None, meta.date if meta else None)
    return out, seconds


def ours_in_process(folder: Path) -> tuple[dict[str, Extracted], float]:
    """What `qa inspect --json` prints, produced by the same functions in this process."""
    from qa.ingest.articles import load_articles
    from qa.ingest.inspect import article_json

    start = time.perf_counter()
    report = load_articles(folder)
    objects = [article_json(a) for a in report.articles]
    return _by_key(objects), time.perf_counter() - start


def ours_cli(folder: Path) -> tuple[dict[str, Extracted], float]:
    """The real command, run once over the folder (Python's start and imports included)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "qa.cli", "inspect", "--json", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"qa inspect failed ({done.returncode}): {done.stderr[-2000:]}")
    return _by_key([json.loads(line) for line in done.stdout.splitlines() if line.strip()]), seconds


def _by_key(objects: list[dict]) -> dict[str, Extracted]:
    out = {}
    for obj in objects:
        key = Path(obj["id"]).name.split(".")[0]
        out[key] = Extracted("\n".join(obj["paragraphs"]), obj["title"], obj["date"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--cli", action="store_true", help="run the qa inspect command, not its functions")
    parser.add_argument("--worst", type=int, default=0, help="list the N pages with the lowest F1 (ours)")
    args = parser.parse_args(argv)
    truth_file = args.corpus / "ground-truth.json"
    if not truth_file.is_file():
        print(f"no corpus at {args.corpus} (expected ground-truth.json and html/)", file=sys.stderr)
        return 2
    truth = {key: item["articleBody"] for key, item in json.loads(truth_file.read_text()).items()}
    folder = args.corpus / "html"
    pages = {key: gzip.decompress((folder / f"{key}.html.gz").read_bytes()) for key in truth}

    import trafilatura

    base, base_seconds = baseline(pages)
    ours, ours_seconds = ours_cli(folder) if args.cli else ours_in_process(folder)
    rows = []
    for name, extracted, seconds in (
        (f"trafilatura {trafilatura.__version__} extract() defaults", base, base_seconds),
        ("qa inspect --json" + ("" if args.cli else " (in process)"), ours, ours_seconds),
    ):
        precision, recall, f1, _ = score(truth, {k: e.text for k, e in extracted.items()})
        titles = sum(1 for k in truth if k in extracted and extracted[k].title)
        dates = sum(1 for k in truth if k in extracted and extracted[k].date)
        rows.append((name, precision, recall, f1, titles, dates, len(truth) / seconds))
    print(f"{len(truth)} pages from {args.corpus}")
    header = (
        f"{'':45}  {'precision':>9}  {'recall':>6}  {'F1':>6}  {'titles':>6}  {'dates':>5}  {'pages/s':>7}"
    )
    print(header)
    for name, p, r, f1, titles, dates, rate in rows:
        print(f"{name:45}  {p:9.4f}  {r:6.4f}  {f1:6.4f}  {titles:6d}  {dates:5d}  {rate:7.1f}")
    if args.worst:
        _, _, _, per_page = score(truth, {k: e.text for k, e in ours.items()})
        per_page.sort(key=lambda row: 2 * row[1] * row[2] / (row[1] + row[2] or 1))
        print("\nlowest F1 (ours): key, precision, recall")
        for key, p, r in per_page[: args.worst]:
            print(f"  {key[:16]}  {p:.3f}  {r:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
