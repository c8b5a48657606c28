"""The data that flows between stages: Article -> Passage -> Hit -> ReaderResult -> Answer."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One cleaned article, as ingestion hands it on."""

    article_id: str  # stable: path relative to the corpus folder ("a.md", "bulk.jsonl#12")
    title: str
    date: str | None  # ISO "YYYY-MM-DD" when the article gives one
    source: str  # URL when the article names one, else its file path
    path: str  # file the article came from
    place: str | None  # from a dateline ("Kolkata"), when there is one
    paragraphs: tuple[str, ...]  # cleaned paragraphs, in order
    content_hash: str  # sha256 of the raw bytes: drives incremental indexing


@dataclass(frozen=True)
class Passage:
    """A piece of an article small enough for the models; what is embedded and read."""

    passage_id: str  # "{article_id}::{paragraph}.{part}", stable across rebuilds
    article_id: str
    title: str
    date: str | None
    place: str | None
    source: str
    path: str
    paragraph: int  # index of the paragraph in the article
    text: str  # the text shown to users and given to the reader
    # Where `text` starts in the article's text (qa/ingest/split.py article_text): exact, so an
    # answer's offsets in the passage are offsets in the article too. None: not known (a passage
    # made by hand, or read from a store that does not keep it).
    article_offset: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(**data)


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its score; `duplicates` are near-identical passages folded into it."""

    passage: Passage
    score: float
    rank: int  # 0 = best
    duplicates: tuple[Passage, ...] = ()

    @property
    def passages(self) -> tuple[Passage, ...]:
        """The passage and every near-duplicate it stands for (each one a source to cite)."""
        return (self.passage, *self.duplicates)


@dataclass(frozen=True)
class Query:
    """What a reader is asked: the question as the user typed it and, for a follow-up, the words the
    conversation carries ("And in India?" carries "how many", "users", "targeted"). Kept apart so
    that each reader decides how to use them; retrieval searches `search_text`."""

    question: str
    context: tuple[str, ...] = ()

    @property
    def search_text(self) -> str:
        return f"{self.question} ({' '.join(self.context)})" if self.context else self.question


@dataclass(frozen=True)
class SpanCandidate:
    """One answer span a reader found. Offsets are characters into the text of passage `passage_id`."""

    passage_id: str
    start: int
    end: int
    text: str
    score: float  # in [0, 1], comparable across passages and with ReaderResult.no_answer_score


@dataclass(frozen=True)
class ReaderResult:
    """What a reader says about a question and a list of passages."""

    reader: str  # "bundled:<name>" or "transformers:<hub id or folder>"
    candidates: tuple[SpanCandidate, ...]  # best first
    no_answer_score: float  # in [0, 1]; the pipeline answers null when it beats the best span


@dataclass(frozen=True)
class Citation:
    """Where an answer came from. text[start:end] is the answer, exactly."""

    passage_id: str
    article_id: str
    title: str
    date: str | None
    source: str
    paragraph: int
    start: int | None  # text[start:end] is the answer; None for a close passage shown without one
    end: int | None
    text: str
    score: float  # retrieval score of the passage


@dataclass(frozen=True)
class Answer:
    """A reply to one question. `answer` is None when the articles do not hold one."""

    question: str
    answer: str | None
    # In [0, 1]: the noisy-OR of the answer's span scores over the articles that give it (agreeing
    # articles raise it); None when there is no answer.
    confidence: float | None
    # In [0, 1]: the reader's score for "the passages read do not hold the answer".
    no_answer_score: float
    reader: str
    citations: tuple[Citation, ...]
    search_query: str = ""  # what was searched (differs from question for follow-ups)
    alternatives: tuple[Answer, ...] = ()  # other distinct answers, best first
    timings_ms: dict[str, float] = field(default_factory=dict)
    # What the reader of the answer should know, e.g. that a newer article says otherwise (qa/recency.py).
    note: str = ""

    @property
    def too_weak_to_give(self) -> bool:
        """No answer, although the reader scored a span above "no answer": the span fell short of
        the no-answer threshold's margin. The user should hear "not clear enough", not "not in the
        articles"."""
        return self.answer is None and any(
            a.answer and a.confidence is not None and a.confidence > self.no_answer_score
            for a in self.alternatives
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["citations"] = [asdict(c) for c in self.citations]
        data["alternatives"] = [a.to_dict() for a in self.alternatives]
        return data

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


@dataclass(frozen=True)
class AnswerResult:
    """An answer with the evidence behind it (qa/pipeline.py `answer_from`): `ask` keeps the
    answer, `qa eval` also scores the passages read and the reader's own null score."""

    answer: Answer  # timed per stage (answer.timings_ms)
    hits: tuple[Hit, ...]  # the passages read, best first
    reader_result: ReaderResult  # the reader's spans before merging and the no-answer decision
