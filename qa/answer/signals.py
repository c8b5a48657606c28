"""What an answer looks like besides its margin: the signals the no-answer decision can weigh.

Measured, and fitted per reader, by bench/no_answer_signals.py; applied by qa/answer/decision.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.types import Answer, Hit

SIGNALS = (
    "margin",  # no-answer score minus the answer's confidence: the pipeline's one signal before
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


def signals_of(question: str, answer: Answer, hits: Sequence[Hit]) -> tuple[float, ...]:
    """SIGNALS, in order, of `answer` (one with a span, and its alternatives) among the `hits` read."""
    spans = [c for c in answer.citations if c.start is not None]
    given_by = {c.passage_id for c in spans}
    giving = [hit for hit in hits if hit.passage.passage_id in given_by]
    # An answer's first citation is always a passage read; without one (an Answer made by hand) it
    # counts as ranked below every hit, with no retrieval score.
    best_hit = min(giving, key=lambda hit: hit.rank) if giving else None
    answer_words = _words(answer.answer or "")
    question_words = set(_words(question))
    dateline = (
        best_hit is not None
        and any(c.passage_id == best_hit.passage.passage_id and c.start == 0 for c in spans)
        and best_hit.passage.place is not None
        and answer_words == _words(best_hit.passage.place)
    )
    confidence = answer.confidence or 0.0
    next_confidence = (answer.alternatives[0].confidence or 0.0) if answer.alternatives else 0.0
    return (
        answer.no_answer_score - confidence,
        confidence,
        answer.no_answer_score,
        confidence - next_confidence,
        float(min(len({c.article_id for c in spans}), 3)),
        float(best_hit.rank if best_hit is not None else len(hits)),
        float(best_hit.score if best_hit is not None else 0.0),
        sum(word in question_words for word in answer_words) / max(1, len(answer_words)),
        float(type_mismatch(question, answer.answer or "")),
        float(dateline),
    )
