"""Unanswerable questions made from answerable ones by swapping one name or number (entity swap).

SQuAD 2.0's unanswerable questions were written against their paragraph: most change one name,
number or date of a question the paragraph does answer ("...in 1918?" -> "...in 1923?"), so a
plausible span is still there. We have only 4,650 such questions; the same change made to SQuAD
1.1's questions gives as many as asked. The swapped-in word comes from the same article (so it is
on topic) and never occurs in the paragraph, so the paragraph cannot answer the new question.
"""
from __future__ import annotations

import random
import re
from typing import Sequence

from qa.read.training.squad import SquadExample

# A run of capitalised words (a name, a place: swapped whole) or a number of two digits or more.
_NAME = re.compile(r"\b[A-Z][a-z]{2,}(?: [A-Z][a-z]+)*\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\d\b")
_YEAR = re.compile(r"1\d{3}|20\d{2}")
# Capitalised words that are not names: a swap of one of these makes a question, not a new fact.
_NOT_NAMES = frozenset(
    "What Which Who Whom Whose When Where Why How The This That These Those There Their They "
    "His Her Its And But For Was Were Did Does Are Has Have Had Can Could Would Should Will "
    "January February March April May June July August September October November December "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
)


def _kind(word: str) -> str:
    """Swap like for like: a year for a year, a count for a count, a name for a name."""
    if _YEAR.fullmatch(word):
        return "year"
    return "number" if word[0].isdigit() else "name"


def _words(text: str) -> list[str]:
    names = []
    for name in _NAME.findall(text):
        # "The Beatles" -> "Beatles": a leading question or function word is not part of the name.
        first, _, rest = name.partition(" ")
        name = rest if first in _NOT_NAMES else name
        if name and name not in _NOT_NAMES:
            names.append(name)
    return names + _NUMBER.findall(text)


def entity_swap_negatives(
    examples: Sequence[SquadExample], *, ratio: float, seed: int
) -> list[SquadExample]:
    """About `ratio` of the answerable questions, one name or number swapped, as unanswerable.

    The word swapped is one the question shares with its paragraph (what ties the question to it);
    its replacement is a word of the same kind (name or number) from another paragraph of the same
    article that appears nowhere in this paragraph. A question with no such pair is skipped.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    pool: dict[tuple[str, str], list[str]] = {}  # (title, kind) -> words seen in the article
    seen_contexts: set[tuple[str, str]] = set()
    for example in examples:
        if (example.title, example.context) in seen_contexts:
            continue
        seen_contexts.add((example.title, example.context))
        for word in _words(example.context):
            bucket = pool.setdefault((example.title, _kind(word)), [])
            if word not in bucket:
                bucket.append(word)

    rng = random.Random(seed)
    negatives: list[SquadExample] = []
    for example in examples:
        if not example.answerable or rng.random() >= ratio:
            continue
        context_lower = example.context.lower()
        shared = [w for w in _words(example.question) if w in example.context]
        rng.shuffle(shared)
        for word in shared:
            choices = [
                w for w in pool.get((example.title, _kind(word)), [])
                if w.lower() not in context_lower and w not in example.question
            ]
            if not choices:
                continue
            question = re.sub(rf"\b{re.escape(word)}\b", rng.choice(choices), example.question, count=1)
            negatives.append(
                SquadExample(
                    qid=f"{example.qid}#swap",
                    title=example.title,
                    context=example.context,
                    question=question,
                    answer_text="",
                    answer_start=None,
                    all_answers=(),
                )
            )
            break
    return negatives
