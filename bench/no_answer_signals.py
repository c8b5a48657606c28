"""Does the no-answer decision gain from more signals than the span-vs-null margin? Fit, then measure.

    python -m bench.no_answer_signals --tune QUESTIONS=STORE ... --measure QUESTIONS=STORE ...
        [--reader bundled] [--passage-weight W] [--cache DIR]

Every question is answered as `qa eval` answers it (`qa.pipeline.answer_from`, k=5, hybrid) but with
the best span always kept, and scored twice: the F1 of that span, and 1 or 0 for declining (1 when
the archive has no answer). Each answer gets the signals below. On the tuning sets (each weighing
the same, however many questions it has) two decisions are fitted: the margin alone (the best
threshold, as `qa eval` finds it) and a logistic regression over all the signals (weighted by what
the decision is worth: |F1 answered - F1 declined|; its cut-off the best on the tuning sets). Both
are then scored on the measuring sets, beside the reader's shipped threshold. Nothing is chosen on
a measuring set. `--cache DIR` keeps each set's answers (JSONL), so a refit reads them back.

STORE is an index folder (`qa index`); a SQuAD file's own paragraphs are indexed by
`qa eval FILE --corpus-from-dataset --out RUN`, whose RUN/index serves here. Prints a table and,
last, one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import table

K, MODE = 5, "hybrid"
SIGNALS = (
    "margin",  # no-answer score minus the answer's confidence: the pipeline's one signal today
    "confidence",  # the answer's confidence (noisy-OR over the articles that give it)
    "no_answer_score",
    "lead",  # confidence over the next distinct answer's: a clear winner or a toss-up
    "articles",  # articles that give this answer (capped at 3): agreement of passages
    "rank",  # retrieval rank of the best passage giving it
    "passage_score",  # that passage's retrieval score
    "question_overlap",  # share of the answer's words found in the question (echoes are suspect)
    "type_mismatch",  # "how many" / "when" / "who" asked, and the answer has no number / date / name
    "dateline",  # the answer is the story's dateline place (a Reuters story's first words)
)

_WORD = re.compile(r"\w+")
_ASKS_NUMBER = re.compile(r"\bhow (many|much)\b|^what (percentage|percent|share|proportion)\b", re.I)
_ASKS_DATE = re.compile(r"^(when|what (year|month|day|date))\b|\bwhen\b", re.I)
_ASKS_PERSON = re.compile(r"^(who|whom|whose)\b", re.I)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty"
    r"|hundred|thousand|million|billion|dozen|half|quarter|third)\b",
    re.I,
)
_DATE = re.compile(
    r"\d|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday|today|yesterday|tomorrow|week|month|year|spring|summer|autumn|fall|winter"
    r"|century|decade|quarter|season|early|late|mid)\b",
    re.I,
)


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


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def type_mismatch(question: str, answer: str) -> bool:
    """The question asks for a number, a date or a person and the answer cannot be one.

    >>> type_mismatch("How many engines did Swissair order?", "fifth"), type_mismatch("Who won?", "Ana Lima")
    (True, False)
    """
    if _ASKS_NUMBER.search(question):
        return not _NUMBER.search(answer)
    if _ASKS_DATE.search(question):
        return not _DATE.search(answer)
    if _ASKS_PERSON.search(question):
        return not any(word[:1].isupper() for word in answer.split())
    return False


def signals_of(question: str, answer: Any, hits: Sequence[Any]) -> tuple[float, ...]:
    """SIGNALS of `answer` (a qa.types.Answer with a span) among the `hits` read for `question`."""
    spans = [c for c in answer.citations if c.start is not None]
    given_by = {c.passage_id for c in spans}
    best_hit = min((hit for hit in hits if hit.passage.passage_id in given_by), key=lambda hit: hit.rank)
    first = next(c for c in spans if c.passage_id == best_hit.passage.passage_id)
    answer_words = _words(answer.answer)
    question_words = set(_words(question))
    place = best_hit.passage.place
    dateline = first.start == 0 and place is not None and answer_words == _words(place)
    next_confidence = answer.alternatives[0].confidence if answer.alternatives else 0.0
    return (
        answer.no_answer_score - answer.confidence,
        answer.confidence,
        answer.no_answer_score,
        answer.confidence - next_confidence,
        float(min(len({c.article_id for c in spans}), 3)),
        float(best_hit.rank),
        float(best_hit.score),
        sum(word in question_words for word in answer_words) / max(1, len(answer_words)),
        float(type_mismatch(question, answer.answer)),
        float(dateline),
    )


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


@dataclass(frozen=True)
class SignalModel:
    """Logistic regression over standardised SIGNALS: answer when P(answering pays) >= cut."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    cut: float = 0.5

    def probability(self, signals: tuple[float, ...]) -> float:
        z = float((np.asarray(signals) - self.mean) / self.scale @ self.weights + self.bias)
        return 1.0 / (1.0 + math.exp(-z))

    def answers(self, outcomes: Sequence[Outcome]) -> list[bool]:
        return [o.signals is not None and self.probability(o.signals) >= self.cut for o in outcomes]


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


def fit_model(tune_sets: Sequence[Sequence[Outcome]]) -> SignalModel:
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
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    coefficients, bias = fit_logistic((x - mean) / scale, np.asarray(labels), weight / weight.mean())
    model = SignalModel(coefficients, bias, mean, scale)
    cuts = [round(0.05 + 0.01 * i, 2) for i in range(91)]
    best = max(
        cuts, key=lambda cut: _mean_f1(tune_sets, SignalModel(coefficients, bias, mean, scale, cut).answers)
    )
    return SignalModel(model.weights, model.bias, model.mean, model.scale, best)


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
    args = parser.parse_args(argv)
    from bench.threshold_curves import shipped_threshold

    def load(pairs):
        return {
            q.stem: cached_outcomes(q, store, args.reader, args.passage_weight, args.cache)
            for q, store in pairs
        }

    tune, measure = load(args.tune), load(args.measure)
    model, margin = fit_model(list(tune.values())), best_margin(list(tune.values()))
    shipped = shipped_threshold()
    rows, figures = [], {}
    for role, sets in (("tune", tune), ("measure", measure)):
        for name, outcomes in sets.items():
            scores = {
                "shipped_threshold": f1_of(outcomes, by_margin(outcomes, shipped)),
                "margin_tuned": f1_of(outcomes, by_margin(outcomes, margin)),
                "signals": f1_of(outcomes, model.answers(outcomes)),
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
