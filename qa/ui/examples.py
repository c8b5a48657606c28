"""Example questions for the chat's start screen, drawn from the user's own indexed articles.

A few sentence patterns turn passages into candidate questions ("2,600 customer accounts were broken
into" -> "How many customer accounts were broken into?"); a candidate is kept only when the
pipeline answers it with the span it was made from, citing the article it was made from. They are
made once per index generation and reader and cached in the store's state folder, so a restart
reuses them and a rebuilt index gets new ones.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.answer.compose import normalize_answer
from qa.types import Passage

logger = logging.getLogger(__name__)

EXAMPLES_FILE = "chat-examples.json"
CACHE_VERSION = 2  # bumped when the patterns change: the examples are made again
MAX_EXAMPLES = 6
# Passages read for candidates, spread evenly over the index: cheap at a million passages.
PASSAGES_SAMPLED = 400
# Questions asked of the pipeline at most, and the time that may take, per index build.
MAX_CANDIDATES_ASKED = 30
MAX_SECONDS = 90.0
MAX_QUESTION_CHARS = 110

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+")
# Words a noun phrase stops at ("seats in the assembly" -> "seats").
_STOP = {"in", "of", "on", "at", "for", "to", "from", "by", "with", "the", "a", "an", "and", "or", "during"}
# Any character up to a full stop, comma or semicolon; "4.25" is not a full stop.
_UPTO_STOP = r"(?:[^.,;]|[.,](?=\d))"
_NAME = r"[A-Z][\w'-]+(?: [A-Z][\w'-]+)*"
_ROLES = (
    "Prime Minister|Minister|Mayor|Governor|President|Chancellor|Director|Chairman|Chairwoman|"
    "Secretary|Commissioner|Chief Executive|Premier|Senator|Coach|Captain|Spokesperson"
)
_BASE = {
    "raised": "raise",
    "cut": "cut",
    "lowered": "lower",
    "increased": "increase",
    "reduced": "reduce",
    "set": "set",
    "won": "win",
    "sold": "sell",
    "bought": "buy",
    "hired": "hire",
    "lost": "lose",
    "recorded": "record",
}
# "2,600 customer accounts were broken into during the attack"
_COUNT_PASSIVE = re.compile(
    r"(?<![\w.,])(?P<value>\d[\d,.]*) (?P<noun>[a-z][a-z-]*(?: [a-z][a-z-]*){0,3}) "
    r"(?P<verb>were|are|have been|had been) (?P<rest>[^.,;:!?\"\u201c\u201d]{3,80}?)(?=[.,;:!?]|$)"
)
# "Valmora's Mayor Ana Ribeiro", "Transport Minister Halvard Brune"
_ROLE = re.compile(
    rf"(?:(?P<owner>{_NAME})'s )?(?P<role>(?:[A-Z][a-z]+ ){{0,2}}(?:{_ROLES}))"
    rf"(?: of (?P<of>(?:the )?{_NAME}))? (?P<value>[A-Z][a-z]+(?: [A-Z][a-z]+){{1,2}})\b"
)
# "The Green Line cost 412 million euros"
_COST = re.compile(rf"\b(?P<subject>[Tt]he {_NAME}) costs? (?P<value>{_UPTO_STOP}{{2,40}})")
# "The Central Bank of Ardenia raised its main interest rate by 0.25 points to 4.25 percent"
_CHANGE = re.compile(
    rf"\b(?P<subject>[Tt]he {_NAME}(?: of {_NAME})?) (?P<verb>raised|cut|lowered|increased|reduced|set) "
    rf"(?P<whose>its|their) (?P<thing>[a-z][a-z ]{{2,40}}?) (?:by {_UPTO_STOP}{{1,40}}? )?"
    rf"to (?P<value>{_UPTO_STOP}{{1,30}})"
)
# "The Coastal Alliance won 31 of the 57 seats", "The club sold 7,300 copies"
_COUNT_ACTIVE = re.compile(
    rf"\b(?P<subject>(?:[Tt]he )?{_NAME}) (?P<verb>won|sold|bought|hired|lost|recorded) "
    r"(?P<value>\d[\d,.]*)(?: of the \d[\d,.]*)? (?P<noun>[a-z][a-z-]*(?: [a-z][a-z-]*){0,3})"
)


@dataclass(frozen=True)
class Candidate:
    """A question made from a passage, the span it was made from and the article it should cite."""

    question: str
    expected: str
    article_id: str


def _noun(words: str) -> str:
    kept = []
    for word in words.split():
        if word in _STOP:
            break
        kept.append(word)
    return " ".join(kept)


def _the(subject: str) -> str:
    return "the" + subject[3:] if subject.startswith("The ") else subject


def sentence_questions(sentence: str) -> Iterator[tuple[str, str]]:
    """(question, expected answer) pairs the patterns make from one sentence.

    >>> list(sentence_questions("According to the company, 2,600 customer accounts were broken into."))
    [('How many customer accounts were broken into?', '2,600')]
    """
    for m in _COUNT_PASSIVE.finditer(sentence):
        noun = _noun(m["noun"])
        if noun.endswith("s") and noun == m["noun"]:
            yield f"How many {noun} {m['verb']} {m['rest'].strip()}?", m["value"]
    for m in _ROLE.finditer(sentence):
        if m["owner"]:
            yield f"Who is {m['owner']}'s {m['role']}?", m["value"]
        elif m["of"]:
            yield f"Who is the {m['role']} of {m['of']}?", m["value"]
        elif " " in m["role"]:  # "the Transport Minister"; a bare "the Mayor" says too little
            yield f"Who is the {m['role']}?", m["value"]
    for m in _COST.finditer(sentence):
        yield f"How much did {_the(m['subject'])} cost?", m["value"]
    for m in _CHANGE.finditer(sentence):
        verb = _BASE[m["verb"]]
        yield f"What did {_the(m['subject'])} {verb} {m['whose']} {m['thing']} to?", m["value"]
    for m in _COUNT_ACTIVE.finditer(sentence):
        noun = _noun(m["noun"])
        if noun.endswith("s"):
            yield f"How many {noun} did {_the(m['subject'])} {_BASE[m['verb']]}?", m["value"]


def candidates(passage: Passage) -> list[Candidate]:
    """The candidate questions of one passage, each at most MAX_QUESTION_CHARS long and not giving
    its own answer away."""
    found: dict[str, Candidate] = {}
    for sentence in _SENTENCE_END.split(passage.text):
        for question, expected in sentence_questions(" ".join(sentence.split())):
            if len(question) <= MAX_QUESTION_CHARS and expected.lower() not in question.lower():
                found.setdefault(question, Candidate(question, expected.strip(), passage.article_id))
    return list(found.values())


def _sample(store: Any, n: int) -> list[Passage]:
    count = store.count()
    if count <= 0:
        return []
    rows = sorted({i * count // min(n, count) for i in range(min(n, count))})
    return store.passages(rows)


def _answers_it(answer: Any, candidate: Candidate) -> bool:
    """The pipeline's answer is the span the question was made from (their words overlap), cited from
    the article it was made from."""
    if answer.answer is None:
        return False
    expected, got = (
        set(normalize_answer(candidate.expected).split()),
        set(normalize_answer(answer.answer).split()),
    )
    if not expected & got:
        return False
    return any(c.article_id == candidate.article_id and c.start is not None for c in answer.citations)


def make_examples(pipeline: Any, limit: int = MAX_EXAMPLES) -> list[str]:
    """Questions the pipeline answers from the article they were made from, at most one an article."""
    by_article: dict[str, list[Candidate]] = {}
    for passage in _sample(pipeline.store, PASSAGES_SAMPLED):
        by_article.setdefault(passage.article_id, []).extend(candidates(passage))
    # One candidate an article a round, so that a long article does not crowd out the others.
    rounds = [
        [c[i] for c in by_article.values() if i < len(c)]
        for i in range(max(map(len, by_article.values()), default=0))
    ]
    kept: list[str] = []
    done: set[str] = set()
    asked, started = 0, time.monotonic()
    for candidate in (c for r in rounds for c in r):
        if len(kept) >= limit or asked >= MAX_CANDIDATES_ASKED or time.monotonic() - started > MAX_SECONDS:
            break
        if candidate.article_id in done:
            continue
        asked += 1
        try:
            answer = pipeline.ask(candidate.question)
        except Exception as error:  # noqa: BLE001 - a candidate the pipeline refuses is just left out
            logger.info("Example candidate %r left out: %s", candidate.question, error)
            continue
        if _answers_it(answer, candidate):
            kept.append(candidate.question)
            done.add(candidate.article_id)
    logger.info("Example questions: %d kept of %d asked", len(kept), asked)
    return kept


def examples_for(pipeline: Any, state_dir: Path | None = None, *, limit: int = MAX_EXAMPLES) -> list[str]:
    """The chat's example questions for this pipeline's index and reader: read from the cache in
    `state_dir` (default: the pipeline's store's state folder) when it was made for this index
    generation and reader, else made (`make_examples`, a few seconds) and cached there.

        >>> examples_for(QAPipeline.load("index/"))  # doctest: +SKIP
        ['How many customer accounts were broken into?', 'Who is the Transport Minister?']
    """
    if state_dir is None and getattr(pipeline, "location", None) is not None:
        state_dir = pipeline.location.state_dir
    key = {
        "version": CACHE_VERSION,
        "generation": pipeline.store.generation,
        "reader": getattr(pipeline.reader, "name", type(pipeline.reader).__name__),
        "limit": limit,
    }
    path = Path(state_dir) / EXAMPLES_FILE if state_dir is not None else None
    if path is not None:
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if cached.get("key") == key and isinstance(cached.get("questions"), list):
                return [q for q in cached["questions"] if isinstance(q, str)]
        except (OSError, ValueError, AttributeError):
            pass  # none yet, or unreadable: made again
    questions = make_examples(pipeline, limit)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps({"key": key, "questions": questions}, ensure_ascii=False), "utf-8")
            os.replace(partial, path)
        except OSError as error:
            logger.warning("Example questions not cached in %s: %s", path, error)
    return questions
