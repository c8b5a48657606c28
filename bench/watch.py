"""`python -m bench.watch`: seconds from an article written into a watched folder to a running chat
server's answer from it (`first_answer_after_add_s`), over the bundled samples.

A real `python app.py --watch` on 127.0.0.1 (bench/appserver.py), a new article written by the
bench, and /ask polled every 0.2 s until it answers citing that article first; each round writes a
new article (rounds > 1 measure the steady state, the first includes the watch's first poll).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa import config

ARTICLE = """---
title: Harbour {n} gets a tide clock
date: 2024-11-{day:02d}
source: https://example.org/bench/tide-clock-{n}
---

A tide clock was unveiled on the wall of harbour number {n} on Monday. It was designed by Ines
Varga, a clockmaker, and shows the height of the water in brass figures.
"""


def run(quick: bool = False, rounds: int | None = None) -> dict[str, Any]:
    from gradio_client import Client

    from bench.appserver import running_app

    rounds = rounds if rounds is not None else (2 if quick else 5)
    work = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    try:
        articles = work / "articles"
        shutil.copytree(config.SAMPLE_ARTICLES_DIR, articles)
        seconds = []
        with running_app(articles, work / "index", work / "app.log", options=["--watch"]) as server:
            client = Client(server.url, verbose=False)
            for n in range(1, rounds + 1):
                path = articles / f"tide-clock-{n}.md"
                path.write_text(ARTICLE.format(n=n, day=n), encoding="utf-8")
                written = time.monotonic()
                question = f"Who designed the tide clock of harbour number {n}?"
                while time.monotonic() - written < 120:
                    answer = client.predict(question, api_name="/ask")
                    cited = [c["source"] for c in answer["citations"]] if answer["answer"] else []
                    if f"https://example.org/bench/tide-clock-{n}" in cited[:1]:
                        break
                    time.sleep(0.2)
                else:
                    raise RuntimeError(f"round {n}: no answer from the new article in 120 s:\n{server.log()}")
                seconds.append(time.monotonic() - written)
                print(f"round {n}: answered from the new article {seconds[-1]:.2f} s after it was written")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "first_answer_after_add_s": round(statistics.median(seconds), 2),
        "first_answer_after_add_s_max": round(max(seconds), 2),
        "first_answer_after_add_rounds": len(seconds),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(run(rounds=args.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
