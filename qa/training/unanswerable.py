"""Unanswerable questions made from answerable ones by swapping one name or number (entity swap).

SQuAD 2.0's unanswerable questions were written against their paragraph: most change one name,
number or date of a question the paragraph does answer ("...in 1918?" -> "...in 1923?"), so a
plausible span is still there. We have only 4,650 such questions; the same change made to SQuAD
1.1's questions gives as many as asked. The swapped-in word comes from the same article (so it is
on topic) and never occurs in the paragraph, so the paragraph cannot answer the new question.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence

from qa.training.squad import SquadExample

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


def _asked_unanswerable(example: SquadExample, question: str, kind: str) -> SquadExample:
    """`example`'s paragraph with a changed question it cannot answer; the id says how it was made."""
    return dataclasses.replace(
        example,
        qid=f"{example.qid}#{kind}",
        question=question,
        answer_text="",
        answer_start=None,
        all_answers=(),
    )


def entity_swap_negatives(examples: Sequence[SquadExample], *, ratio: float, seed: int) -> list[SquadExample]:
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
                w
                for w in pool.get((example.title, _kind(word)), [])
                if w.lower() not in context_lower and w not in example.question
            ]
            if not choices:
                continue
            question = re.sub(rf"\b{re.escape(word)}\b", rng.choice(choices), example.question, count=1)
            negatives.append(_asked_unanswerable(example, question, "swap"))
            break
    return negatives


# Antonym pairs (both ways): "the largest ..." -> "the smallest ..." asks for something the
# paragraph does not state, unless the paragraph itself has the other word (then no edit).
_ANTONYM_PAIRS = (
    "first last",
    "largest smallest",
    "biggest smallest",
    "highest lowest",
    "most least",
    "earliest latest",
    "oldest youngest",
    "before after",
    "increase decrease",
    "increased decreased",
    "rise fall",
    "won lost",
    "win lose",
    "north south",
    "east west",
    "northern southern",
    "eastern western",
    "maximum minimum",
    "major minor",
    "longest shortest",
    "best worst",
    "above below",
    "upper lower",
    "inside outside",
    "began ended",
    "accepted rejected",
    "success failure",
    "successful unsuccessful",
    "positive negative",
    "public private",
    "internal external",
    "ancient modern",
    "top bottom",
    "strongest weakest",
    "greatest least",
    "richest poorest",
    "legal illegal",
    "supported opposed",
    "allowed banned",
    "male female",
    "men women",
    "more fewer",
    "higher lower",
    "larger smaller",
    "older newer",
    "longer shorter",
    "strong weak",
    "early late",
)
_ANTONYM = {a: b for pair in _ANTONYM_PAIRS for a, b in [pair.split(), pair.split()[::-1]]}
# An auxiliary right after the question word takes "n't": "What did X develop?" -> "What didn't X develop?"
_NEGATED = {
    "is": "isn't",
    "was": "wasn't",
    "are": "aren't",
    "were": "weren't",
    "did": "didn't",
    "does": "doesn't",
    "do": "don't",
    "has": "hasn't",
    "have": "haven't",
    "had": "hadn't",
    "can": "can't",
    "could": "couldn't",
    "would": "wouldn't",
    "will": "won't",
    "should": "shouldn't",
}
_WH_AUXILIARY = re.compile(
    r"\b(what|which|who|whom|whose|when|where|why|how(?: many| much)?)((?: [a-z]+){0,2}?) ("
    + "|".join(_NEGATED)
    + r")\b",
    re.IGNORECASE,
)


def _same_case(word: str, like: str) -> str:
    return word.capitalize() if like[:1].isupper() else word


def _antonym_edit(question: str, context_lower: str) -> str | None:
    for match in re.finditer(r"\b[A-Za-z]+\b", question):
        other = _ANTONYM.get(match.group().lower())
        if other is not None and not re.search(rf"\b{other}\b", context_lower):
            return question[: match.start()] + _same_case(other, match.group()) + question[match.end() :]
    return None


def _negation_edit(question: str) -> str | None:
    match = _WH_AUXILIARY.search(question)
    if match is None:
        return None
    start, end = match.span(3)
    return question[:start] + _NEGATED[match.group(3).lower()] + question[end:]


def question_edit_negatives(
    examples: Sequence[SquadExample], *, ratio: float, seed: int
) -> list[SquadExample]:
    """About `ratio` of the answerable questions turned unanswerable by an antonym or a negation.

    SQuAD 2.0's writers made a fifth of its unanswerable questions with an antonym ("largest" ->
    "smallest") and a tenth with a negation; the entity swaps above make none of these. An antonym
    is used when the question has one and the paragraph never uses it; else the auxiliary after the
    question word is negated ("What did Baran develop?" -> "What didn't Baran develop?"). A question
    with neither is skipped.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    rng = random.Random(seed + 1)  # not the swaps' draws: another share of the questions
    negatives: list[SquadExample] = []
    for example in examples:
        if not example.answerable or rng.random() >= ratio:
            continue
        question = _antonym_edit(example.question, example.context.lower()) or _negation_edit(
            example.question
        )
        if question is None:
            continue
        negatives.append(_asked_unanswerable(example, question, "edit"))
    return negatives
