"""The static embedder (`qa index --embedder static`) against MiniLM: embedding speed and answer recall.

    python -m bench.static [--quick]

Speed: passages/s over real newswire paragraphs (the first Reuters-21578 stories as the project
splits them; ../shared/corpora/reuters21578.jsonl, research use only) for MiniLM in ONNX Runtime
int8 (the default backend) and for the static model distilled from it, alternated round by round
in one process; the median round counts. Recall: answer recall@1/@5 on the SQuAD 2.0 subset
(bench/retrieval.py's definition and corpus) in dense, keyword and hybrid modes with each
embedder. The static model is distilled on first use (qa.embed.distill_static_model, ~2 min).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT, table
from bench.retrieval import (
    DEFAULT_SQUAD,
    KS,
    build_squad_index,
    first_answer_rank,
    load_squad,
    recall_at,
)
from qa import config
from qa.answer.compose import normalize_answer
from qa.embed import load_embedder
from qa.retrieve.retriever import Retriever
from qa.store.local.store import LocalStore

REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578.jsonl"
MODES = ("dense", "hybrid", "keyword")


def reuters_passages(count: int) -> list[str]:
    """The texts of the first `count` passages of Reuters-21578, read and split as `qa index` does."""
    from qa.ingest.articles import load_articles
    from qa.ingest.split import split_article

    texts: list[str] = []
    for article in load_articles(REUTERS).articles:
        texts.extend(p.text for p in split_article(article))
        if len(texts) >= count:
            break
    return texts[:count]


def speed(texts: Sequence[str], embedders: dict[str, Any], rounds: int) -> dict[str, float]:
    """Passages/s per embedder: the median of `rounds` passes, embedders alternated."""
    for embedder in embedders.values():
        embedder.encode(list(texts[:64]))  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in embedders}
    for number in range(rounds):
        names = list(embedders)
        for name in names[number % 2 :] + names[: number % 2]:
            started = time.perf_counter()
            embedders[name].encode(list(texts))
            seconds[name].append(time.perf_counter() - started)
    return {name: len(texts) / float(np.median(s)) for name, s in seconds.items()}


def recall(embedders: dict[str, Any], squad: Path, quick: bool) -> dict[tuple[str, str], dict[int, float]]:
    titles, contexts, questions = load_squad(squad)
    asked = questions[::3] if quick else questions
    out: dict[tuple[str, str], dict[int, float]] = {}
    for name, embedder in embedders.items():
        with tempfile.TemporaryDirectory(prefix="qa-bench-static-") as folder:
            index = build_squad_index(titles, contexts, Path(folder), embedder)
            normalised = {p.passage_id: normalize_answer(p.text) for p in index.passages}
            retriever = Retriever(LocalStore(index), embedder)
            for mode in MODES:
                ranks = [first_answer_rank(retriever, mode, q, max(KS), normalised) for q in asked]
                out[(name, mode)] = {k: recall_at(ranks, k) for k in KS}
    return out


def run(quick: bool = False) -> dict[str, Any]:
    embedders = {
        "MiniLM onnx-int8": load_embedder(config.DEFAULT_EMBEDDER, "onnx-int8"),
        "static": load_embedder(config.STATIC_EMBEDDER),
    }
    results: dict[str, Any] = {}
    if REUTERS.is_file():
        texts = reuters_passages(500 if quick else 2000)
        rates = speed(texts, {"MiniLM onnx-int8": embedders["MiniLM onnx-int8"]}, 1 if quick else 3)
        big = texts * (10 if quick else 20)  # the static model needs more text to time
        rates |= speed(big, {"static": embedders["static"]}, 3)
        print(
            f"\nEmbedding speed, Reuters-21578 passages "
            f"({len(texts)} distinct, mean {np.mean([len(t) for t in texts]):.0f} characters)"
        )
        print(
            table(
                ["embedder", "passages/s", "x MiniLM"],
                [[n, r, r / rates["MiniLM onnx-int8"]] for n, r in rates.items()],
            )
        )
        results |= {
            "static_embed_passages_per_s": round(rates["static"], 1),
            "minilm_embed_passages_per_s": round(rates["MiniLM onnx-int8"], 1),
        }
    else:
        print(f"{REUTERS} not found: speed skipped")
    if DEFAULT_SQUAD.is_file():
        found = recall(embedders, DEFAULT_SQUAD, quick)
        print(f"\nAnswer recall on the SQuAD 2.0 subset{' (every third question)' if quick else ''}")
        print(
            table(
                ["embedder", "mode", *(f"R@{k}" for k in KS)],
                [[n, m, *(r[k] for k in KS)] for (n, m), r in found.items()],
            )
        )
        for (name, mode), r in found.items():
            if mode != "keyword":
                results[f"recall5_{mode}_{'static' if name == 'static' else 'minilm'}"] = round(r[5], 3)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer passages and rounds, every third question"
    )
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
