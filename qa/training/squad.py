"""SQuAD 1.1 / 2.0 JSON -> training examples, plus no-answer pairs made from other paragraphs."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SquadExample:
    """One question over one context. `answer_start` is None when the context holds no answer."""

    qid: str
    title: str
    context: str
    question: str
    answer_text: str
    answer_start: int | None
    all_answers: tuple[str, ...]  # every gold answer text (for measuring); empty when unanswerable

    @property
    def answerable(self) -> bool:
        return self.answer_start is not None


def load_squad(path: Path | str) -> list[SquadExample]:
    """Every question of a SQuAD-format file; SQuAD 2.0's `is_impossible` ones as unanswerable.

    The first gold answer is the training target, as in transformers' run_qa.py.
    """
    path = Path(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise ValueError(f"{path} is not SQuAD JSON: expected an object with a 'data' list")
    examples: list[SquadExample] = []
    for article in document["data"]:
        title = article.get("title", "")
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = [a for a in qa.get("answers", []) if a.get("text")]
                impossible = bool(qa.get("is_impossible")) or not answers
                first = None if impossible else answers[0]
                if first is not None and context[first["answer_start"] :].startswith(first["text"]) is False:
                    # A misplaced offset would teach the wrong span: find the text instead.
                    found = context.find(first["text"])
                    if found < 0:
                        continue
                    first = {"text": first["text"], "answer_start": found}
                examples.append(
                    SquadExample(
                        qid=str(qa["id"]),
                        title=title,
                        context=context,
                        question=qa["question"].strip(),
                        answer_text="" if first is None else first["text"],
                        answer_start=None if first is None else int(first["answer_start"]),
                        all_answers=tuple(a["text"] for a in answers) if not impossible else (),
                    )
                )
    return examples


def other_paragraph_negatives(
    examples: Sequence[SquadExample], *, ratio: float, seed: int
) -> list[SquadExample]:
    """Answerable questions paired with another paragraph of the same article that lacks the answer.

    Retrieval hands the reader paragraphs on the right topic that do not answer the question; SQuAD
    1.1 never shows it one. About `ratio` of the answerable questions get such a pair.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    contexts_by_title: dict[str, list[str]] = {}
    for example in examples:
        bucket = contexts_by_title.setdefault(example.title, [])
        if not bucket or bucket[-1] != example.context:
            bucket.append(example.context)
    rng = random.Random(seed)
    negatives: list[SquadExample] = []
    for example in examples:
        if not example.answerable or rng.random() >= ratio:
            continue
        answer = example.answer_text.lower()
        others = [
            c for c in contexts_by_title[example.title] if c != example.context and answer not in c.lower()
        ]
        if not others:
            continue
        negatives.append(
            SquadExample(
                qid=f"{example.qid}#other",
                title=example.title,
                context=rng.choice(others),
                question=example.question,
                answer_text="",
                answer_start=None,
                all_answers=(),
            )
        )
    return negatives
