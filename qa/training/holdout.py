"""Split a SQuAD file by article: the first N articles to train on, the rest held out for tuning.

    python -m qa.training.holdout ../shared/squad/dev-v2.0-train.json --train-articles 20 --out DIR

writes DIR/<name>-A20.json (articles 1-20) and DIR/<name>-B7.json (the rest, for a 27-article file).
By article, not by question: questions about one paragraph share its words, so a threshold tuned on
questions whose paragraphs were trained on would be tuned on what the reader has seen.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path


def split_by_article(path: Path, train_articles: int, out_dir: Path) -> tuple[Path, Path]:
    """(training part, held-out part) written beside each other in out_dir."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    articles = data["data"]
    if not 0 < train_articles < len(articles):
        raise ValueError(
            f"--train-articles must be between 1 and {len(articles) - 1}: {path} has {len(articles)} articles"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = Path(path).stem
    parts = []
    for suffix, chosen in (
        (f"A{train_articles}", articles[:train_articles]),
        (f"B{len(articles) - train_articles}", articles[train_articles:]),
    ):
        target = out_dir / f"{stem}-{suffix}.json"
        target.write_text(json.dumps({**data, "data": chosen}, ensure_ascii=False), encoding="utf-8")
        parts.append(target)
    return parts[0], parts[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.training.holdout", description=__doc__.splitlines()[0]
    )
    parser.add_argument("squad_file", type=Path)
    parser.add_argument(
        "--train-articles", type=int, required=True, help="how many articles, from the first, to train on"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the two parts")
    args = parser.parse_args(argv)
    try:
        train, held_out = split_by_article(args.squad_file, args.train_articles, args.out)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{train}\n{held_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
