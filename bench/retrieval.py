"""Retrieval figures on SQuAD 2.0 contexts: answer recall@k and latency per ranking mode.

    python bench/retrieval.py [--quick] [--tune] [--duplicates] [--embed-backend NAME] [--squad PATH]

Builds an index of the subset's context paragraphs with the real pipeline (a JSONL corpus, one
article per paragraph, through qa.store.local.build.build_index and the default embedder), asks every
answerable question in every mode, and prints recall@1/3/5/10 (share of questions whose answer
text, SQuAD-normalised, occurs in one of the top k passages) and search latency p50/p95 measured
in the same run, the modes interleaved question by question so that machine noise hits all alike.
--quick asks every third question. --tune also runs the grid the hybrid constants were chosen
from, choosing on two articles and reporting on the third (leave one article out). --duplicates
also measures the near-duplicate tests on copies of passages made the way outlets make them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa import config  # noqa: E402
from qa.answer.compose import normalize_answer  # noqa: E402
from qa.embed import Embedder, load_embedder  # noqa: E402
from qa.ingest.articles import load_articles  # noqa: E402
from qa.ingest.split import sentence_spans, split_articles  # noqa: E402
from qa.retrieve.dedup import shingle_overlap, shingles  # noqa: E402
from qa.retrieve.retriever import Retriever  # noqa: E402
from qa.store.local import LoadedIndex, open_index  # noqa: E402
from qa.store.local.build import build_index  # noqa: E402
from qa.store.local.store import LocalStore  # noqa: E402

DEFAULT_SQUAD = ROOT.parent / "shared" / "benchmarks" / "squad2-dev-subset.json"
SHARED_ARTICLES = ROOT.parent / "shared" / "articles"
SAMPLE_ARTICLES = ROOT / "qa" / "sample_articles"
KS = (1, 3, 5, 10)
WARMUP_QUESTIONS = 5


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[str, ...]  # SQuAD-normalised gold answers
    article: int  # index of the SQuAD article (title) the question belongs to


def load_squad(path: Path) -> tuple[list[str], list[list[str]], list[Question]]:
    """(article titles, contexts per article, answerable questions)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    titles = [article["title"] for article in data]
    contexts = [[paragraph["context"] for paragraph in article["paragraphs"]] for article in data]
    questions = [
        Question(
            qa["question"], tuple(sorted({normalize_answer(a["text"]) for a in qa["answers"]} - {""})), number
        )
        for number, article in enumerate(data)
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
        if not qa.get("is_impossible") and qa["answers"]
    ]
    return titles, contexts, questions


def build_squad_index(
    titles: Sequence[str],
    contexts: Sequence[Sequence[str]],
    folder: Path,
    embedder: Embedder,
    *,
    syndicated: bool = False,
) -> LoadedIndex:
    """Index the contexts as a JSONL corpus (one article per paragraph) with the real build code.

    With `syndicated`, two more outlets run every paragraph: one with a credit line appended, one
    with a dateline put in front (the copies the near-duplicate tests must fold).
    """
    build_index(
        write_squad_corpus(titles, contexts, folder / "corpus", syndicated=syndicated),
        folder / "index",
        embedder,
    )
    return open_index(folder / "index")


def write_squad_corpus(
    titles: Sequence[str], contexts: Sequence[Sequence[str]], corpus: Path, *, syndicated: bool = False
) -> Path:
    """The contexts as a JSONL corpus folder, one article per paragraph (see build_squad_index)."""
    corpus.mkdir()
    outlets = {"en.wikipedia.org/wiki": "{}"}
    if syndicated:
        outlets |= {
            "wire.example/credited": "{} (With inputs from PTI)",
            "daily.example/datelined": "LONDON (Reuters) - {}",
        }
    with open(corpus / "squad.jsonl", "w", encoding="utf-8") as handle:
        for site, template in outlets.items():
            for title, paragraphs in zip(titles, contexts):
                for number, text in enumerate(paragraphs):
                    record = {
                        "title": title,
                        "url": f"https://{site}/{title}#p{number}",
                        "text": template.format(text),
                    }
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return corpus


def first_answer_rank(
    retriever: Retriever, mode: str, question: Question, depth: int, normalised: dict[str, str]
) -> int | None:
    """0-based rank of the first hit whose passage holds an answer, or None.

    `normalised` maps passage ids to their SQuAD-normalised text. Only the hit's own passage counts
    (the one the reader is given), not the near-duplicates folded into it.
    """
    for hit in retriever.search(question.text, depth, mode=mode):
        text = normalised[hit.passage.passage_id]
        if any(answer in text for answer in question.answers):
            return hit.rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    return float(np.mean([r is not None and r < k for r in ranks])) if ranks else 0.0


class CachedEmbedder:
    """Tuning only: each question is embedded once, however many configurations rank it."""

    def __init__(self, inner: Embedder):
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        missing = [t for t in texts if t not in self._cache]
        if missing:
            for text, vector in zip(missing, self.inner.encode(missing)):
                self._cache[text] = vector
        return np.stack([self._cache[t] for t in texts]) if texts else self.inner.encode([])


def systems(index: LoadedIndex, embedder: Embedder) -> dict[str, tuple[Retriever, str]]:
    store = LocalStore(index)
    ours = Retriever(store, embedder)
    plain = Retriever(store, embedder, drop_question_words=False)
    naive = Retriever(store, embedder, fusion="rrf", rrf_k=60.0, dense_weight=0.5, drop_question_words=False)
    return {
        "dense": (ours, "dense"),
        "keyword: BM25, every word": (plain, "keyword"),
        "keyword: BM25, question words dropped": (ours, "keyword"),
        "naive RRF (k=60, equal weights)": (naive, "hybrid"),
        "hybrid (ours)": (ours, "hybrid"),
    }


def measure(
    named: dict[str, tuple[Retriever, str]], questions: Sequence[Question], normalised: dict[str, str]
):
    """Ranks and latencies per system; systems interleaved per question, in a rotating order."""
    names = list(named)
    ranks = {name: [] for name in names}
    latency = {name: [] for name in names}
    for question in questions[:WARMUP_QUESTIONS]:
        for retriever, mode in named.values():
            retriever.search(question.text, max(KS), mode=mode)
    for number, question in enumerate(questions):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            retriever, mode = named[name]
            started = time.perf_counter()
            rank = first_answer_rank(retriever, mode, question, max(KS), normalised)
            latency[name].append((time.perf_counter() - started) * 1000)
            ranks[name].append(rank)
    return ranks, latency


def tune(
    index: LoadedIndex,
    embedder: Embedder,
    questions: Sequence[Question],
    titles: Sequence[str],
    normalised: dict[str, str],
) -> None:
    """The grid behind the constants in qa/config.py, with leave-one-article-out selection."""
    cached = CachedEmbedder(embedder)
    store = LocalStore(index)
    grid: dict[str, Retriever] = {}
    for drop in (True, False):
        words = "question words dropped" if drop else "every word"
        for weight in np.round(np.arange(0.3, 0.85, 0.05), 2):
            grid[f"score w={weight:.2f}, {words}"] = Retriever(
                store, cached, dense_weight=float(weight), drop_question_words=drop
            )
        for k in (1, 5, 10, 20, 60, 100):
            for weight in (0.3, 0.4, 0.5, 0.6, 0.7):
                grid[f"rrf k={k} w={weight:.1f}, {words}"] = Retriever(
                    store, cached, fusion="rrf", rrf_k=float(k), dense_weight=weight, drop_question_words=drop
                )
    articles = np.array([q.article for q in questions])
    ranks = {
        name: [first_answer_rank(r, "hybrid", q, max(KS), normalised) for q in questions]
        for name, r in grid.items()
    }

    def scores(name: str, mask: np.ndarray) -> tuple[float, float]:
        chosen = [r for r, m in zip(ranks[name], mask) if m]
        return recall_at(chosen, 1), recall_at(chosen, 5)

    everyone = np.ones(len(questions), dtype=bool)
    print("\nGrid, all questions (recall@1 / recall@5), best 12 by their mean:")
    ranked = sorted(grid, key=lambda n: -sum(scores(n, everyone)))
    for name in ranked[:12]:
        print(f"  {name:44s} {scores(name, everyone)[0]:.3f} / {scores(name, everyone)[1]:.3f}")
    best_rrf = next(name for name in ranked if name.startswith("rrf"))
    best_at_1, best_at_5 = scores(best_rrf, everyone)
    print(f"  best RRF: {best_rrf:34s} {best_at_1:.3f} / {best_at_5:.3f}")
    print(
        "\nLeave one article out: chosen on two articles by mean of recall@1 and @5, reported on the third:"
    )
    for held in range(len(titles)):
        train, test = articles != held, articles == held
        best = max(grid, key=lambda n: sum(scores(n, train)))
        best_rrf = max((n for n in grid if n.startswith("rrf")), key=lambda n: sum(scores(n, train)))
        for label, name in (("best", best), ("best RRF", best_rrf)):
            print(
                f"  held out {titles[held]:32s} {label:8s} {name:44s} "
                f"train {scores(name, train)[0]:.3f}/{scores(name, train)[1]:.3f}  "
                f"held-out {scores(name, test)[0]:.3f}/{scores(name, test)[1]:.3f}"
            )


# Light rewording an outlet's sub-editor might do to a wire story.
_REWORDING = {
    " said ": " stated ",
    "government": "govt",
    " percent": "%",
    " and ": " & ",
    " million": "m",
    " on Friday": "",
    " the ": " ",
    "However, ": "But ",
}


def copies(text: str) -> dict[str, str]:
    """Copies of a passage as another outlet might run it; each should fold into the original."""
    spans = sentence_spans(text)
    reworded = text
    for old, new in _REWORDING.items():
        reworded = reworded.replace(old, new)
    made = {
        "credit appended: (With inputs from PTI)": text + " (With inputs from PTI)",
        "credit paragraph appended (16 words)": text
        + "\n\nThis article first appeared on Wire Service and is republished with permission.",
        "dateline put in front: NEW DELHI (Reuters) -": "NEW DELHI (Reuters) - " + text,
        "light rewording (said->stated, govt, %, &)": reworded,
    }
    if len(spans) >= 2:  # a first sentence can only change where there is a second one
        made["new first sentence (2+ sentences)"] = (
            "In a development that drew wide attention this week, officials weighed in. "
            + text[spans[1][0] :]
        )
        made["first sentence dropped (2+ sentences)"] = text[spans[1][0] :]
    return {name: copy for name, copy in made.items() if copy != text}


def duplicates_report(
    embedder: Embedder,
    titles: Sequence[str],
    contexts: Sequence[Sequence[str]],
    questions: Sequence[Question],
) -> None:
    """How often each test folds a copy, how close two different passages come, and what folding buys."""
    articles = [
        a
        for folder in (SHARED_ARTICLES, SAMPLE_ARTICLES)
        if folder.is_dir()
        for a in load_articles(folder).articles
    ]
    texts = list(
        dict.fromkeys([p.text for p in split_articles(articles)] + [c for group in contexts for c in group])
    )
    pairs = [(text, name, copy) for text in texts for name, copy in copies(text).items()]
    originals = embedder.encode([p[0] for p in pairs])
    made = embedder.encode([p[2] for p in pairs])
    cosine = (originals * made).sum(axis=1)
    overlap = np.array([shingle_overlap(shingles(a), shingles(b)) for a, _, b in pairs])
    print(
        f"\nNear-duplicates: {len(texts)} passages (shared and sample articles, SQuAD paragraphs) "
        "and copies of each"
    )
    print(
        f"| copy | n | cosine >= {config.NEAR_DUPLICATE_COSINE} "
        f"| 3-gram overlap >= {config.NEAR_DUPLICATE_OVERLAP} | folded (either) | lowest cosine |"
    )
    print("|---|---|---|---|---|---|")
    for name in dict.fromkeys(p[1] for p in pairs):
        chosen = np.array([p[1] == name for p in pairs])
        by_vector = cosine[chosen] >= config.NEAR_DUPLICATE_COSINE
        by_words = (overlap[chosen] >= config.NEAR_DUPLICATE_OVERLAP) & (
            cosine[chosen] >= config.NEAR_DUPLICATE_SCREEN
        )
        print(
            f"| {name} | {chosen.sum()} | {by_vector.mean():.2f} | {by_words.mean():.2f} "
            f"| {(by_vector | by_words).mean():.2f} | {cosine[chosen].min():.3f} |"
        )
    lexical = overlap >= config.NEAR_DUPLICATE_OVERLAP
    print(
        f"Lowest cosine of a copy sharing >= {config.NEAR_DUPLICATE_OVERLAP} of its 3-grams: "
        f"{cosine[lexical].min():.3f} "
        f"(the word test runs from cosine {config.NEAR_DUPLICATE_SCREEN})"
    )
    vectors = embedder.encode(texts)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -1.0)
    sets = [shingles(t) for t in texts]
    closest = max(
        shingle_overlap(sets[i], sets[j]) for i in range(len(sets)) for j in range(i + 1, len(sets))
    )
    print(
        f"Two different passages: highest cosine {similarity.max():.3f}, highest 3-gram overlap {closest:.3f}"
    )

    with tempfile.TemporaryDirectory(prefix="qa-bench-syndicated-") as folder:
        index = build_squad_index(titles, contexts, Path(folder), embedder, syndicated=True)
        normalised = {p.passage_id: normalize_answer(p.text) for p in index.passages}
        retriever = Retriever(LocalStore(index), embedder)
        print(f"\nThe SQuAD corpus run by three outlets ({len(index.passages)} passages), hybrid, top 5:")
        print("| near-duplicates | R@1 | R@3 | R@5 | different paragraphs in the top 5 | sources per hit |")
        print("|---|---|---|---|---|---|")
        for collapse in (False, True):
            ranks, distinct, sources = [], [], []
            for question in questions:
                hits = retriever.search(question.text, 5, collapse_duplicates=collapse)
                found = [
                    h.rank
                    for h in hits
                    if any(a in normalised[h.passage.passage_id] for a in question.answers)
                ]
                ranks.append(found[0] if found else None)
                distinct.append(len({h.passage.source.rsplit("/", 1)[-1] for h in hits}))  # "Normans#p3"
                sources.append(np.mean([len(h.passages) for h in hits]))
            label = "folded (default)" if collapse else "kept apart"
            print(
                f"| {label} | {recall_at(ranks, 1):.3f} | {recall_at(ranks, 3):.3f} "
                f"| {recall_at(ranks, 5):.3f} "
                f"| {np.mean(distinct):.2f} | {np.mean(sources):.2f} |"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD 2.0 JSON (default: %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="ask every third question only")
    parser.add_argument("--tune", action="store_true", help="also run the tuning grid (a few minutes)")
    parser.add_argument("--duplicates", action="store_true", help="also measure the near-duplicate tests")
    parser.add_argument(
        "--embed-backend", default=None, help="embedder backend for qa.embed.load_embedder (default: its own)"
    )
    args = parser.parse_args(argv)

    titles, contexts, questions = load_squad(args.squad)
    embedder = load_embedder() if args.embed_backend is None else load_embedder(backend=args.embed_backend)
    with tempfile.TemporaryDirectory(prefix="qa-bench-retrieval-") as folder:
        started = time.perf_counter()
        index = build_squad_index(titles, contexts, Path(folder), embedder)
        built = time.perf_counter() - started
        normalised = {p.passage_id: normalize_answer(p.text) for p in index.passages}
        asked = questions[::3] if args.quick else questions
        print(
            f"SQuAD 2.0 dev subset: {sum(map(len, contexts))} paragraphs -> {len(index.passages)} passages "
            f"(indexed in {built:.1f} s); {len(asked)} of {len(questions)} answerable questions"
            f"{' (--quick: every third)' if args.quick else ''}; embedder {embedder.name} "
            f"({getattr(embedder, 'backend', 'backend not named')})\n"
        )
        named = systems(index, embedder)
        ranks, latency = measure(named, asked, normalised)

        header = "| mode | " + " | ".join(f"R@{k}" for k in KS) + " | p50 ms | p95 ms |"
        print(header)
        print("|" + "---|" * (len(KS) + 3))
        for name in named:
            recalls = " | ".join(f"{recall_at(ranks[name], k):.3f}" for k in KS)
            p50, p95 = np.percentile(latency[name], [50, 95])
            print(f"| {name} | {recalls} | {p50:.1f} | {p95:.1f} |")
        dense50, dense95 = np.percentile(latency["dense"], [50, 95])
        ours50, ours95 = np.percentile(latency["hybrid (ours)"], [50, 95])
        print(
            f"\nHybrid latency / dense-only latency: p50 {ours50 / dense50:.2f}x, p95 {ours95 / dense95:.2f}x"
        )

        print("\nPer article (recall@1 / recall@5):")
        for number, title in enumerate(titles):
            row = []
            for name in ("naive RRF (k=60, equal weights)", "hybrid (ours)"):
                chosen = [r for r, q in zip(ranks[name], asked) if q.article == number]
                row.append(f"{name}: {recall_at(chosen, 1):.3f} / {recall_at(chosen, 5):.3f}")
            print(f"  {title} ({sum(q.article == number for q in asked)} questions): " + "; ".join(row))
        print(
            f"\nConstants: fusion={config.DEFAULT_FUSION!r}, dense weight {config.DENSE_WEIGHT}, "
            f"candidates max({config.CANDIDATES_PER_K}k, {config.CANDIDATES_MIN}) per ranking"
        )
        if args.tune:
            tune(index, embedder, questions, titles, normalised)
    if args.duplicates:
        duplicates_report(embedder, titles, contexts, questions[::3] if args.quick else questions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
