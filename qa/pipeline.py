"""Wires the stages (retrieve -> read -> answer); `ask` is the Python query function."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from qa import config
from qa.answer.calibration import resolve_threshold
from qa.answer.compose import assemble_answers, declined
from qa.answer.decision import SignalDecision
from qa.answer.recency import apply_recency, reader_query
from qa.answer.signals import signals_of
from qa.checks import QuestionError, check_filter, check_k, check_mode, clean_question  # noqa: F401 (re-exported)
from qa.embed import Embedder, load_embedder
from qa.read.choose import load_reader
from qa.read.protocol import Reader
from qa.retrieve.conversation import Turn, follow_up_query
from qa.retrieve.retriever import Retriever
from qa.store.location import LocalLocation, StoreLocation, parse_location
from qa.store.protocol import Store, StoreError
from qa.types import Answer, AnswerResult, Hit, Query, ReaderResult, SearchFilter

logger = logging.getLogger(__name__)


class QAPipeline:
    """Load once, ask many. Thread-safe: questions from several threads are served one at a time.

    Example:
        >>> pipeline = QAPipeline.load("index/")  # doctest: +SKIP
        >>> answer = pipeline.ask("How much did the tram line cost?", k=5)  # doctest: +SKIP
        >>> answer.answer, answer.citations[0].title  # doctest: +SKIP
    """

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        reader: Reader,
        *,
        location: StoreLocation | None = None,
        no_answer_threshold: float | None = None,
        verify: bool = True,
        passage_weight: float | None = None,
    ):
        """`location`: where `store` was opened from; with it, the pipeline picks up newer builds
        between questions and uses the thresholds `qa eval --save-threshold` tuned for it.
        `passage_weight`: see Retriever (None: config.PASSAGE_WEIGHT)."""
        self.store = store
        self.location = location
        self.verify = verify
        self.embedder = embedder
        self.reader = reader
        self.retriever = Retriever(store, embedder, passage_weight=passage_weight)
        # None: per question, the one `qa eval --save-threshold` tuned for this store, reader, k and
        # mode, else the reader's own, else the default (threshold()).
        self.given_threshold = no_answer_threshold
        # Fast tokenizers and torch modules are not safe to share between concurrent calls.
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        store: str | Path | StoreLocation | None = None,
        *,
        reader: str | Reader = "auto",
        embedder: str | Embedder | None = None,
        no_answer_threshold: float | None = None,
        verify: bool = True,
        embed_backend: str | None = None,
        reader_backend: str | None = None,
        passage_weight: float | None = None,
    ) -> QAPipeline:
        """`store`: an index folder (default config.DEFAULT_INDEX_DIR) or milvus://HOST:PORT/NAME
        (qa/store/location.py). ``embed_backend``: see qa.embed.load_embedder; ``reader_backend``:
        "torch", "onnx" or "onnx-int8" for a transformers reader (None: config.DEFAULT_READER_BACKEND).
        ``no_answer_threshold`` None: the one `qa eval --save-threshold` tuned for this reader on
        this store (qa/answer/calibration.py), else the reader's, else config.NO_ANSWER_THRESHOLD."""
        location = parse_location(store)
        if embedder is None or isinstance(embedder, str):
            # A store is searched with the model that built it (any backend: docs/benchmarks.md).
            info = location.info() if embedder is None else None
            if embedder is None and info is None:
                location.open()  # raises the "no index here, build one with ..." message
            embedder = load_embedder(embedder if embedder is not None else info.embedder, embed_backend)
        opened = location.open(embedder=embedder.name, verify=verify)
        if isinstance(reader, str):
            options = {"backend": reader_backend} if reader_backend is not None else {}
            reader = load_reader(reader, **options)
        return cls(
            opened,
            embedder,
            reader,
            location=location,
            no_answer_threshold=no_answer_threshold,
            verify=verify,
            passage_weight=passage_weight,
        )

    def threshold(
        self, k: int = config.DEFAULT_TOP_K, mode: str = config.DEFAULT_RETRIEVAL_MODE
    ) -> tuple[float, str]:
        """The no-answer threshold for questions read at this k and mode, and where it comes from:
        "given", "tuned by qa eval (...)", "shipped with the reader" or "default"."""
        state_dir = self.location.state_dir if self.location is not None else None
        return resolve_threshold(
            state_dir, self.reader.name, self.given_threshold, self.reader.no_answer_threshold, k=k, mode=mode
        )

    def decision(
        self,
        k: int = config.DEFAULT_TOP_K,
        mode: str = config.DEFAULT_RETRIEVAL_MODE,
        *,
        threshold_source: str | None = None,
    ) -> SignalDecision | None:
        """The reader's own no-answer decision over several signals (qa/answer/decision.py), where it
        ships one fitted at this k and mode and no threshold was given or tuned for this index: a
        threshold someone chose or tuned for their own questions wins. `threshold_source`: what
        threshold() said, where the caller has it already (None: asked again)."""
        decision = getattr(self.reader, "no_answer_decision", None)  # readers without one: None
        if decision is None or not decision.applies_to(k, mode):
            return None
        source = threshold_source if threshold_source is not None else self.threshold(k, mode)[1]
        return decision if source in ("shipped with the reader", "default") else None

    def ask(
        self,
        question: str,
        *,
        k: int = config.DEFAULT_TOP_K,
        mode: str = config.DEFAULT_RETRIEVAL_MODE,
        date_from: str | None = None,
        date_to: str | None = None,
        source: str | None = None,
        history: Sequence[Turn] = (),
    ) -> Answer:
        """Answer one question from the indexed articles; `history` holds earlier turns for follow-ups."""
        question = clean_question(question)
        k, mode = check_k(k), check_mode(mode)
        search_filter = check_filter(date_from, date_to, source)
        query = follow_up_query(question, history)
        with self._lock:
            self._serve_newest_generation()
            threshold, source = self.threshold(k, mode)
            answer = answer_from(
                self.retriever,
                self.reader,
                query,
                k=k,
                mode=mode,
                search_filter=search_filter,
                no_answer_threshold=threshold,
                decision=self.decision(k, mode, threshold_source=source),
            ).answer
        return answer

    def _serve_newest_generation(self) -> None:
        """Between questions, switch to a generation a rebuild committed since (a cheap check):
        every app process on one store serves the new articles without a restart."""
        if self.location is None or not self.store.has_newer_generation():
            return
        try:
            store = self.location.open(embedder=self.embedder.name, verify=self.verify)
        except StoreError as error:  # keep answering from the generation we have
            logger.warning(
                "A newer index generation could not be opened; still serving %s: %s",
                self.store.generation,
                error,
            )
            return
        logger.info("Serving index generation %s (was %s)", store.generation, self.store.generation)
        self.store = store
        self.retriever = Retriever(store, self.embedder, passage_weight=self.retriever.passage_weight)


def answer_from(
    retriever: Retriever,
    reader: Reader,
    query: Query,
    *,
    k: int,
    mode: str,
    no_answer_threshold: float,
    search_filter: SearchFilter | None = None,
    decision: SignalDecision | None = None,
) -> AnswerResult:
    """Search, read, compose: the answer (timed per stage) and the evidence behind it.
    `decision`: decides "no answer" instead of the threshold (QAPipeline.decision says when).

    `QAPipeline.ask` answers through it, and `qa eval` too, which also scores the evidence.
    """
    started = time.perf_counter()
    hits = retriever.search(query.search_text, k, mode=mode, search_filter=search_filter)
    retrieved = time.perf_counter()
    # The reader gets the question and the conversation's carried words apart: a follow-up's
    # own words still set the answer type, the carried ones name what it points at. A "now"
    # question over articles of several dates is read without its "now": the dates decide.
    result = reader.read(reader_query(query, hits), [hit.passage for hit in hits])
    read = time.perf_counter()
    if query.context:
        # Fitted on questions that stand alone: a follow-up's search carries the conversation's
        # words, and its passages' scores fall lower than any it was fitted on; the margin decides.
        decision = None
    answer = compose_answer(
        query.question,
        hits,
        result,
        no_answer_threshold=no_answer_threshold,
        search_query=query.search_text,
        decision=decision,
    )
    timings = {
        "retrieve_ms": round((retrieved - started) * 1000, 2),
        "read_ms": round((read - retrieved) * 1000, 2),
        "total_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    return AnswerResult(dataclasses.replace(answer, timings_ms=timings), tuple(hits), result)


def compose_answer(
    question: str,
    hits: Sequence[Hit],
    result: ReaderResult,
    *,
    no_answer_threshold: float,
    search_query: str,
    decision: SignalDecision | None = None,
) -> Answer:
    """The reader's spans -> the answer the user gets: equal spans merged with their sources, the
    no-answer decision, then the note on newer articles. `ask` and `qa eval` both answer through it.

    With a `decision`, the best answer is composed first (newer articles weighed too) and then
    given or declined on its signals, as bench/no_answer_signals.py fitted it; without one, the
    margin and `no_answer_threshold` decide."""
    if decision is None:
        answer = assemble_answers(
            question, hits, result, no_answer_threshold=no_answer_threshold, search_query=search_query
        )
        return apply_recency(answer)
    answer = apply_recency(
        assemble_answers(question, hits, result, no_answer_threshold=math.inf, search_query=search_query)
    )
    if answer.answer is None or decision.answers(signals_of(question, answer, hits)):
        return answer
    return declined(answer, hits)


_PIPELINES: dict[tuple[str, str], QAPipeline] = {}
_PIPELINES_LOCK = threading.Lock()


def get_pipeline(store: Path | str | None = None, reader: str = "auto") -> QAPipeline:
    """The shared pipeline for a store (folder or milvus:// address): loaded on first use, then reused."""
    location = parse_location(store)
    key = (str(location.path.resolve()) if isinstance(location, LocalLocation) else str(location), reader)
    with _PIPELINES_LOCK:
        if key not in _PIPELINES:
            _PIPELINES[key] = QAPipeline.load(location, reader=reader)
        return _PIPELINES[key]


def ask(
    question: str,
    *,
    store: Path | str | None = None,
    reader: str = "auto",
    index_dir: Path | str | None = None,
    **options,
) -> Answer:
    """Answer a question from the index in `store` (a folder, default config.DEFAULT_INDEX_DIR, or
    milvus://HOST:PORT/NAME; `index_dir` is the older name for a folder), loading the pipeline once per store.

    Example:
        >>> from qa import ask
        >>> ask("Who opened the new tram line?").answer  # doctest: +SKIP
    """
    return get_pipeline(store if store is not None else index_dir, reader).ask(question, **options)
