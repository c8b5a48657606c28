"""The Milvus store beside the local one: answer recall on the SQuAD subset, build and query times,
Ray against one process.

    python bench/milvus.py [--quick] [--squad PATH] [--reuters N] [--no-ray]

Starts its own Milvus Lite server on 127.0.0.1 (stopped by its pid at the end) and indexes the same
corpus into a local index folder and into Milvus with the real build code:

- answer recall@1/3/5/10 (bench/retrieval.py's measure: the SQuAD-normalised answer in the hit's
  passage) and search latency p50/p95, the systems interleaved question by question: the local
  store's hybrid, the Retriever's hybrid on Milvus (our fusion over the server's dense and BM25
  searches), the server's own hybrid_search with its RRFRanker (k=60, one round trip), dense and
  BM25 alone, and BM25 on the server's own analyzer (keyword_tokens="server") against our tokens;
- build times: embedding (done once, shared), then the store's own work (writing, indexing) for the
  local folder and for Milvus, each from the same vectors;
- with Ray (unless --no-ray): a local index built with `qa index --ray auto`'s embedder against one
  built in this process, both embedding everything, in alternating order.

--reuters N also times builds and queries on the first N stories of Reuters-21578, Distribution 1.0
(../shared/corpora; research use only: read here, never copied), with their titles as queries.
--quick asks every third question.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.retrieval import (  # noqa: E402
    DEFAULT_SQUAD,
    KS,
    WARMUP_QUESTIONS,
    CachedEmbedder,
    load_squad,
    recall_at,
    write_squad_corpus,
)
from qa.answer.compose import normalize_answer  # noqa: E402
from qa.embed import Embedder, load_embedder  # noqa: E402
from qa.retrieve.retriever import Retriever  # noqa: E402
from qa.store.location import LocalLocation, StoreLocation, parse_location  # noqa: E402
from qa.store.milvus.lite import MilvusServer, milvus_lite_missing  # noqa: E402
from qa.types import Passage  # noqa: E402

REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578.jsonl"
Search = Callable[[str, int], list[Passage]]


def retriever_search(retriever: Retriever, mode: str) -> Search:
    return lambda question, depth: [hit.passage for hit in retriever.search(question, depth, mode=mode)]


def server_rrf_search(store, embedder: Embedder) -> Search:
    """Milvus's hybrid_search with RRFRanker(60): the server fuses, one round trip."""

    def search(question: str, depth: int) -> list[Passage]:
        ranking = store.hybrid_search(question, embedder.encode([question])[0], depth)
        return store.passages([row for row, _ in ranking])

    return search


def measure(systems: dict[str, Search], questions, normalised: dict[str, str]) -> tuple[dict, dict]:
    """Rank of the first passage holding an answer, and latency, per system; interleaved per question."""
    names = list(systems)
    ranks = {name: [] for name in names}
    latency = {name: [] for name in names}
    for question in questions[:WARMUP_QUESTIONS]:
        for search in systems.values():
            search(question.text, max(KS))
    for number, question in enumerate(questions):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            passages = systems[name](question.text, max(KS))
            latency[name].append((time.perf_counter() - started) * 1000)
            found = [
                i
                for i, p in enumerate(passages)
                if any(a in normalised[p.passage_id] for a in question.answers)
            ]
            ranks[name].append(found[0] if found else None)
    return ranks, latency


def timed_build(location: StoreLocation, corpus: Path, embedder: Embedder, **options) -> float:
    started = time.perf_counter()
    location.build(corpus, embedder, **options)
    return time.perf_counter() - started


def squad_part(server: MilvusServer, embedder: Embedder, squad: Path, folder: Path, quick: bool) -> dict:
    titles, contexts, questions = load_squad(squad)
    corpus = write_squad_corpus(titles, contexts, folder / "squad-corpus")
    cached = CachedEmbedder(embedder)
    local, milvus = LocalLocation(folder / "squad-index"), parse_location(server.address("bench_squad"))
    milvus_server_tokens = parse_location(server.address("bench_squad_server_analyzer"))
    started = time.perf_counter()
    timed_build(
        LocalLocation(folder / "squad-warmup"), corpus, cached
    )  # embeds every passage once, into the cache
    embedding = time.perf_counter() - started
    build = {"local": timed_build(local, corpus, cached), "milvus": timed_build(milvus, corpus, cached)}
    timed_build(milvus_server_tokens, corpus, cached, keyword_tokens="server")

    local_store, milvus_store, analyzer_store = local.open(), milvus.open(), milvus_server_tokens.open()
    ours_local, ours_milvus = Retriever(local_store, embedder), Retriever(milvus_store, embedder)
    systems = {
        "local: hybrid (ours)": retriever_search(ours_local, "hybrid"),
        "milvus: hybrid, our fusion": retriever_search(ours_milvus, "hybrid"),
        "milvus: server hybrid_search, RRF k=60": server_rrf_search(milvus_store, embedder),
        "local: dense (FAISS exact)": retriever_search(ours_local, "dense"),
        "milvus: dense (HNSW)": retriever_search(ours_milvus, "dense"),
        "local: BM25 (bm25s)": retriever_search(ours_local, "keyword"),
        "milvus: BM25, our tokens": retriever_search(ours_milvus, "keyword"),
        "milvus: BM25, server analyzer": retriever_search(Retriever(analyzer_store, embedder), "keyword"),
        "milvus: hybrid, server analyzer": retriever_search(Retriever(analyzer_store, embedder), "hybrid"),
    }
    normalised = {
        p.passage_id: normalize_answer(p.text) for p in local_store.passages(range(local_store.count()))
    }
    asked = questions[::3] if quick else questions
    ranks, latency = measure(systems, asked, normalised)

    print(
        f"SQuAD 2.0 dev subset: {local_store.count()} passages, {len(asked)} answerable questions"
        f"{' (--quick: every third)' if quick else ''}; "
        f"embedder {embedder.name} ({getattr(embedder, 'backend', '?')})\n"
    )
    print("| system | " + " | ".join(f"R@{k}" for k in KS) + " | p50 ms | p95 ms |")
    print("|" + "---|" * (len(KS) + 3))
    for name in systems:
        p50, p95 = np.percentile(latency[name], [50, 95])
        print(
            f"| {name} | "
            + " | ".join(f"{recall_at(ranks[name], k):.3f}" for k in KS)
            + f" | {p50:.1f} | {p95:.1f} |"
        )
    gap = 100 * (
        recall_at(ranks["milvus: hybrid, our fusion"], 5) - recall_at(ranks["local: hybrid (ours)"], 5)
    )
    print(f"\nAnswer recall@5, Milvus (our fusion) minus local: {gap:+.1f} points")
    print(
        f"Build: embedding {embedding:.1f} s (once), then the store's own work: "
        f"local {build['local']:.2f} s, "
        f"Milvus Lite {build['milvus']:.2f} s ({build['milvus'] / build['local']:.1f}x)\n"
    )
    return {
        "squad_recall_at_5": {name: round(recall_at(ranks[name], 5), 3) for name in systems},
        "squad_recall_at_1": {name: round(recall_at(ranks[name], 1), 3) for name in systems},
        "squad_p50_ms": {name: round(float(np.percentile(latency[name], 50)), 1) for name in systems},
        "squad_build_s": {"embedding": round(embedding, 2), **{k: round(v, 2) for k, v in build.items()}},
        "squad_corpus": str(corpus),
    }


def reuters_part(server: MilvusServer, embedder: Embedder, count: int, folder: Path) -> dict:
    corpus = folder / "reuters-corpus"
    corpus.mkdir()
    titles = []
    with (
        open(REUTERS, encoding="utf-8") as source,
        open(corpus / "reuters.jsonl", "w", encoding="utf-8") as target,
    ):
        for line in source:
            record = json.loads(line)
            if record.get("title") and record.get("text"):
                target.write(line)
                titles.append(record["title"].strip())
                if len(titles) == count:
                    break
    cached = CachedEmbedder(embedder)
    started = time.perf_counter()
    timed_build(LocalLocation(folder / "reuters-warmup"), corpus, cached)
    embedding = time.perf_counter() - started
    local, milvus = LocalLocation(folder / "reuters-index"), parse_location(server.address("bench_reuters"))
    build = {"local": timed_build(local, corpus, cached), "milvus": timed_build(milvus, corpus, cached)}
    retrievers = {"local": Retriever(local.open(), embedder), "milvus": Retriever(milvus.open(), embedder)}
    queries = [t.title() for t in titles[: min(200, len(titles))]]
    for question in queries[:WARMUP_QUESTIONS]:
        for retriever in retrievers.values():
            retriever.search(question, 10)
    latency = {name: [] for name in retrievers}
    same_top = 0
    for number, question in enumerate(queries):
        tops = {}
        for name in list(retrievers)[number % 2 :] + list(retrievers)[: number % 2]:
            started = time.perf_counter()
            tops[name] = retrievers[name].search(question, 5)[0].passage.passage_id
            latency[name].append((time.perf_counter() - started) * 1000)
        same_top += tops["local"] == tops["milvus"]
    passages = retrievers["local"].store.count()
    print(
        f"Reuters-21578, Distribution 1.0: first {count} stories with a title and text, {passages} passages"
    )
    print(
        f"Build: embedding {embedding:.1f} s, then the store's own work: local {build['local']:.1f} s, "
        f"Milvus Lite {build['milvus']:.1f} s ({build['milvus'] / build['local']:.1f}x)"
    )
    for name, values in latency.items():
        p50, p95 = np.percentile(values, [50, 95])
        print(f"Hybrid search ({len(queries)} titles as queries), {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"Same top passage in both stores: {same_top} of {len(queries)}\n")
    return {
        "reuters_passages": passages,
        "reuters_build_s": {"embedding": round(embedding, 1), **{k: round(v, 1) for k, v in build.items()}},
        "reuters_p50_ms": {k: round(float(np.percentile(v, 50)), 1) for k, v in latency.items()},
        "reuters_same_top": same_top,
        "reuters_queries": len(queries),
        "reuters_corpus": str(corpus),
    }


def ray_part(corpus: Path, embedder_backend: str | None, folder: Path, rounds: int = 2) -> dict:
    """Full builds (everything embedded) of a local index: Ray's local cluster against this process."""
    from qa import config
    from qa.embed_ray import RayEmbedder

    single = load_embedder(config.DEFAULT_EMBEDDER, embedder_backend)
    started = time.perf_counter()
    ray = RayEmbedder(config.DEFAULT_EMBEDDER, embedder_backend, address="auto")
    startup = time.perf_counter() - started
    times: dict[str, list[float]] = {"one process": [], "ray": []}
    try:
        for number in range(rounds):
            order = [("one process", single), ("ray", ray)]
            for name, embedder in order if number % 2 == 0 else order[::-1]:
                times[name].append(
                    timed_build(
                        LocalLocation(folder / f"ray-{name}-{number}"), corpus, embedder, rebuild=True
                    )
                )
        actors = len(ray.actors)
    finally:
        ray.close()
    best = {name: min(values) for name, values in times.items()}
    print(
        f"Ray: a local cluster ({actors} actors, one CPU each; started in {startup:.1f} s) "
        f"against one process ({single.backend}), full builds of {corpus.name}, best of {rounds}: "
        f"one process {best['one process']:.1f} s, "
        f"Ray {best['ray']:.1f} s ({best['one process'] / best['ray']:.2f}x)\n"
    )
    return {
        "ray_build_s": {k: round(v, 1) for k, v in best.items()},
        "ray_startup_s": round(startup, 1),
        "ray_actors": actors,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])  # the first paragraph
    parser.add_argument(
        "--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD 2.0 JSON (default: %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="ask every third question only")
    parser.add_argument(
        "--reuters",
        type=int,
        default=0,
        metavar="N",
        help="also time builds and queries on N Reuters-21578 stories",
    )
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray build")
    parser.add_argument(
        "--embed-backend", default=None, help="embedder backend for qa.embed.load_embedder (default: its own)"
    )
    args = parser.parse_args(argv)
    if reason := milvus_lite_missing():
        parser.error(reason)
    embedder = load_embedder(backend=args.embed_backend)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="qa-bench-milvus-") as folder:
        folder = Path(folder)
        server = MilvusServer(folder / "milvus-data")
        try:
            results.update(squad_part(server, embedder, args.squad, folder, args.quick))
            ray_corpus = Path(results["squad_corpus"])
            if args.reuters:
                results.update(reuters_part(server, embedder, args.reuters, folder))
                ray_corpus = Path(results["reuters_corpus"])
        finally:
            server.stop()
        if not args.no_ray:
            results.update(ray_part(ray_corpus, args.embed_backend, folder))
    results = {k: v for k, v in results.items() if not k.endswith("_corpus")}
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
