"""Reader-alone figures during training: each question read with its gold paragraph (as --reader-only)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from qa.training.squad import SquadExample
from qa.types import Passage


def gold_passage(example: SquadExample) -> Passage:
    return Passage(
        passage_id=f"{example.qid}::0.0",
        article_id=example.title,
        title=example.title,
        date=None,
        place=None,
        source=example.title,
        path="",
        paragraph=0,
        text=example.context,
    )


def sample(examples: Sequence[SquadExample], n: int, seed: int) -> list[SquadExample]:
    """A fixed sample (the same questions at every checkpoint, so the curve compares like with like)."""
    if n <= 0 or n >= len(examples):
        return list(examples)
    return random.Random(seed).sample(list(examples), n)


def reader_alone(reader: Any, examples: Sequence[SquadExample]) -> dict[str, float]:
    """EM and F1 (percent) of the best span for each answerable question, as SQuAD 1.1 scores it."""
    from qa.eval.questions import Question
    from qa.eval.reader_alone import ReaderQuestion, evaluate_reader

    items = [
        ReaderQuestion(Question(e.qid, e.question, e.all_answers), gold_passage(e))
        for e in examples
        if e.answerable
    ]
    metrics = evaluate_reader(reader, items)
    return {"em": metrics["forced_exact_match"], "f1": metrics["forced_f1"], "questions": len(items)}
