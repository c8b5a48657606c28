"""The data that flows between stages: Article -> Passage -> Hit -> ReaderResult -> Answer; and the
contracts every stage shares: SearchFilter (what a store filters by) and the Embedder protocol."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from qa.dates import check_bounds

if TYPE_CHECKING:
    import numpy as np


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
    # What the reader of the answer should know, e.g. that a newer article says otherwise
    # (qa/answer/recency.py).
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


@dataclass(frozen=True)
class SearchFilter:
    """Metadata filters, checked on creation.

    `date_from` / `date_to` take YYYY, YYYY-MM or YYYY-MM-DD (or a datetime.date); a bound covers its
    whole period, so date_to="2019-11" keeps 30 November. Passages without a date are left out when
    either bound is set. `source` matches, case-insensitively, part of the source URL or the file
    path (a site such as "beebom.com" or a folder such as "wire/"). Empty strings mean no filter.
    A store resolves the filter (qa/store/protocol.py): frozen, so it can key a store's cache.

    Example:
        >>> SearchFilter(date_from="2019-11", date_to="2019-11-30").active
        True
        >>> SearchFilter(date_from="02/11/2019")
        Traceback (most recent call last):
        ...
        ValueError: date_from must be a date written YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2019-11-02), got '02/11/2019'
    """  # noqa: E501 - the doctest's message is one line

    date_from: str | None = None
    date_to: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        date_from, date_to = check_bounds(self.date_from, self.date_to)
        if self.source is not None and not isinstance(self.source, str):
            raise ValueError(f"source must be text (part of a URL or a folder), got {self.source!r}")
        source = self.source.strip() if self.source is not None else ""
        # Frozen, so the checked values are written past __setattr__, once, here.
        object.__setattr__(self, "date_from", date_from)
        object.__setattr__(self, "date_to", date_to)
        object.__setattr__(self, "source", source or None)

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.date_from, self.date_to, self.source))


class Embedder(Protocol):
    """Text -> vectors. The backends: qa/embed/ (torch, ONNX Runtime, static), qa/embed_ray.py (Ray)."""

    name: str  # recorded in the index manifest; an index only loads with the same name
    dimension: int

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Rows of float32, L2-normalised, one per text."""
        ...
