"""Does the no-answer decision gain from more signals than the span-vs-null margin? Fit, then measure.

    python -m bench.no_answer_signals --tune QUESTIONS=STORE ... --measure QUESTIONS=STORE ...
        [--reader bundled] [--passage-weight W] [--cache DIR] [--save FILE]

Every question is answered as `qa eval` answers it (`qa.pipeline.answer_from`, k=5, hybrid) but with
the best span always kept, and scored twice: the F1 of that span, and 1 or 0 for declining (1 when
the archive has no answer). Each answer gets the signals below. On the tuning sets (each weighing
the same, however many questions it has) two decisions are fitted: the margin alone (the best
threshold, as `qa eval` finds it) and a logistic regression over all the signals (weighted by what
the decision is worth: |F1 answered - F1 declined|; its cut-off the best on the tuning sets). Both
are then scored on the measuring sets, beside the reader's shipped threshold. Nothing is chosen on
a measuring set. `--cache DIR` keeps each set's answers (JSONL), so a refit reads them back;
`--save FILE` writes the fitted decision (a reader folder's no_answer_decision.json, which
qa/answer/decision.py reads).

STORE is an index folder (`qa index`); a SQuAD file's own paragraphs are indexed by
`qa eval FILE --corpus-from-dataset --out RUN`, whose RUN/index serves here. Prints a table and,
last, one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench import table
from qa.answer.decision import SignalDecision, save_decision
from qa.answer.signals import SIGNALS, signals_of

K, MODE = 5, "hybrid"


@dataclass(frozen=True)
class Outcome:
    """One question answered with its best span always kept: what answering and declining score."""

    question_id: str
    has_answer: bool
    f1_answered: float  # the best span's F1 (0 for a question without an answer)
    signals: tuple[float, ...] | None  # SIGNALS, in order; None: the reader found no span at all

    @property
    def f1_declined(self) -> float:
        return 0.0 if self.has_answer else 1.0


def answer_all(questions_path: Path, store: str, reader: str, passage_weight: float | None) -> list[Outcome]:
    """Each question answered by the pipeline with no threshold (the best span kept), as an Outcome."""
    from qa.eval.metrics import f1_score
    from qa.eval.questions import load_questions
    from qa.pipeline import QAPipeline, answer_from, clean_question
    from qa.types import Query

    pipeline = QAPipeline.load(store, reader=reader, passage_weight=passage_weight)
    outcomes = []
    for question in load_questions(questions_path).questions:
        text = clean_question(question.question)
        answer = answer_from(
            pipeline.retriever,
            pipeline.reader,
            Query(text),
            k=K,
            mode=MODE,
            no_answer_threshold=math.inf,  # never decline: the decision is made here
            search_filter=question.search_filter,
        )
        given = answer.answer
        outcomes.append(
            Outcome(
                question.id,
                question.has_answer,
                f1_score(given.answer, question.answers) if question.has_answer and given.answer else 0.0,
                signals_of(text, given, answer.hits) if given.answer is not None else None,
            )
        )
    return outcomes


def cached_outcomes(
    questions: Path, store: str, reader: str, passage_weight: float | None, cache: Path | None
) -> list[Outcome]:
    """answer_all, read back from `cache` when the same questions, store, reader and weight made it."""
    if cache is None:
        return answer_all(questions, store, reader, passage_weight)
    key = hashlib.sha256(
        json.dumps([str(questions.resolve()), store, reader, passage_weight, SIGNALS]).encode()
    ).hexdigest()[:16]
    path = cache / f"{questions.stem}-{key}.jsonl"
    if path.exists():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        return [
            Outcome(**{**row, "signals": tuple(row["signals"]) if row["signals"] else None}) for row in rows
        ]
    outcomes = answer_all(questions, store, reader, passage_weight)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(o)) + "\n" for o in outcomes), encoding="utf-8")
    return outcomes


# ---------------------------------------------------------------------------------------- decisions


def f1_of(outcomes: Sequence[Outcome], answered: Sequence[bool]) -> float:
    """F1 (0-100) of the set when the questions marked in `answered` are answered and the rest declined."""
    total = sum(o.f1_answered if a and o.signals else o.f1_declined for o, a in zip(outcomes, answered))
    return 100.0 * total / max(1, len(outcomes))


def by_margin(outcomes: Sequence[Outcome], threshold: float) -> list[bool]:
    """The pipeline's rule: answered when the margin is at most the threshold."""
    return [o.signals is not None and o.signals[0] <= threshold for o in outcomes]


def by_decision(decision: SignalDecision, outcomes: Sequence[Outcome]) -> list[bool]:
    """The signals model's rule: answered when it gives answering at least its cut-off's probability."""
    return [o.signals is not None and decision.answers(o.signals) for o in outcomes]


def fit_logistic(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1.0
) -> tuple[np.ndarray, float]:
    """Weighted L2-regularised logistic regression by Newton's method: (weights, bias).

    >>> w, b = fit_logistic(np.array([[-2.0], [-1.0], [1.0], [2.0]]), np.array([0, 0, 1, 1]), np.ones(4))
    >>> bool(w[0] > 0) and abs(b) < 1e-6
    True
    """
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        gradient = design.T @ (weight * (p - y)) + penalty * theta
        hessian = (
            (design * (weight * p * (1 - p))[:, None]).T @ design
            + np.diag(penalty)
            + 1e-9 * np.eye(len(theta))
        )
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def fit_model(tune_sets: Sequence[Sequence[Outcome]], tuned_on: str = "") -> SignalDecision:
    """The signals model fitted on the tuning sets, each set weighing the same, cut-off tuned on them."""
    rows, labels, weights = [], [], []
    for outcomes in tune_sets:
        for o in outcomes:
            worth = o.f1_answered - o.f1_declined
            if o.signals is None or worth == 0:
                continue
            rows.append(o.signals)
            labels.append(1.0 if worth > 0 else 0.0)
            weights.append(abs(worth) / len(outcomes))
    x, weight = np.asarray(rows, dtype=np.float64), np.asarray(weights)
    mean, spread = x.mean(axis=0), x.std(axis=0)
    scale = np.where(spread > 1e-6, spread, 1.0)  # a signal that never varies says nothing
    coefficients, bias = fit_logistic((x - mean) / scale, np.asarray(labels), weight / weight.mean())

    def decision(cut: float) -> SignalDecision:
        return SignalDecision(
            signals=SIGNALS,
            weights=tuple(round(float(w), 6) for w in coefficients),
            bias=round(bias, 6),
            mean=tuple(round(float(m), 6) for m in mean),
            scale=tuple(round(float(v), 6) for v in scale),
            cut=cut,
            k=K,
            mode=MODE,
            tuned_on=tuned_on,
        )

    cuts = [round(0.05 + 0.01 * i, 2) for i in range(91)]
    best = max(
        cuts, key=lambda cut: _mean_f1(tune_sets, lambda outcomes: by_decision(decision(cut), outcomes))
    )
    return decision(best)


def best_margin(tune_sets: Sequence[Sequence[Outcome]]) -> float:
    """The margin threshold with the best mean F1 over the tuning sets (a 0.01 grid; ties: the lowest)."""
    grid = [round(-1.0 + 0.01 * i, 2) for i in range(201)]
    return max(grid, key=lambda t: _mean_f1(tune_sets, lambda outcomes: by_margin(outcomes, t)))


def _mean_f1(sets: Sequence[Sequence[Outcome]], decide) -> float:
    return sum(f1_of(outcomes, decide(outcomes)) for outcomes in sets) / len(sets)


# ---------------------------------------------------------------------------------------------- run


def _pair(text: str) -> tuple[Path, str]:
    questions, sep, store = text.partition("=")
    if not sep or not questions or not store:
        raise argparse.ArgumentTypeError(f"expected QUESTIONS=STORE, got {text!r}")
    return Path(questions), store


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tune", type=_pair, nargs="+", required=True, metavar="QUESTIONS=STORE")
    parser.add_argument("--measure", type=_pair, nargs="*", default=[], metavar="QUESTIONS=STORE")
    parser.add_argument("--reader", default="bundled")
    parser.add_argument("--passage-weight", type=float, default=None)
    parser.add_argument("--cache", type=Path, default=None, help="keep each set's answers here (JSONL)")
    parser.add_argument(
        "--save",
        type=Path,
        default=None,
        help="write the fitted decision here (a reader's no_answer_decision.json)",
    )
    args = parser.parse_args(argv)
    from bench.threshold_curves import shipped_threshold

    def load(pairs):
        return {
            q.stem: cached_outcomes(q, store, args.reader, args.passage_weight, args.cache)
            for q, store in pairs
        }

    tune, measure = load(args.tune), load(args.measure)
    tuned_on = ", ".join(f"{q.name} ({len(tune[q.stem])} questions)" for q, _ in args.tune)
    model, margin = fit_model(list(tune.values()), tuned_on), best_margin(list(tune.values()))
    shipped = shipped_threshold()
    rows, figures = [], {}
    for role, sets in (("tune", tune), ("measure", measure)):
        for name, outcomes in sets.items():
            scores = {
                "shipped_threshold": f1_of(outcomes, by_margin(outcomes, shipped)),
                "margin_tuned": f1_of(outcomes, by_margin(outcomes, margin)),
                "signals": f1_of(outcomes, by_decision(model, outcomes)),
            }
            figures[name] = {
                "role": role,
                "questions": len(outcomes),
                **{k: round(v, 1) for k, v in scores.items()},
            }
            rows.append([name, role, len(outcomes), *scores.values()])
    print(
        table(
            [
                "set",
                "role",
                "questions",
                f"margin <= {shipped:+.3f} (shipped)",
                f"margin <= {margin:+.2f}",
                "signals",
            ],
            rows,
        )
    )
    weights = {name: round(float(w), 3) for name, w in zip(SIGNALS, model.weights)}
    print(f"signals model (standardised weights), cut {model.cut}: {weights}")
    print(
        json.dumps(
            {"margin_threshold": margin, "signals_cut": model.cut, "weights": weights, "sets": figures}
        )
    )
    if args.save is not None:
        save_decision(args.save, model)
        print(f"Saved the decision in {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
