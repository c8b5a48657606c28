"""Reader-alone figures during training: each question read with its gold paragraph."""
from __future__ import annotations

import random
from typing import Any, Sequence

from qa.eval import metrics
from qa.read.training.squad import SquadExample
from qa.types import Passage, Query


def gold_passage(example: SquadExample) -> Passage:
    return Passage(
        passage_id=f"{example.qid}::0.0", article_id=example.title, title=example.title, date=None,
        place=None, source=example.title, path="", paragraph=0, text=example.context,
    )


def sample(examples: Sequence[SquadExample], n: int, seed: int) -> list[SquadExample]:
    """A fixed sample (the same questions at every checkpoint, so the curve compares like with like)."""
    if n <= 0 or n >= len(examples):
        return list(examples)
    return random.Random(seed).sample(list(examples), n)


def reader_alone(reader: Any, examples: Sequence[SquadExample]) -> dict[str, float]:
    """EM and F1 (percent) of the best span for each answerable question, as SQuAD 1.1 scores it."""
    em = f1 = 0.0
    answered = [e for e in examples if e.answerable]
    for example in answered:
        result = reader.read(Query(example.question), [gold_passage(example)])
        prediction = result.candidates[0].text if result.candidates else ""
        em += metrics.exact_match(prediction, example.all_answers)
        f1 += metrics.f1_score(prediction, example.all_answers)
    n = max(len(answered), 1)
    return {"em": round(100 * em / n, 2), "f1": round(100 * f1 / n, 2), "questions": len(answered)}
