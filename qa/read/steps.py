"""The transformers reader's steps, each testable alone: prepare windows -> run -> decode -> aggregate.

`prepare_windows` tokenizes the question and the passages into overlapping windows, `TransformersReader.run`
gives each window's start and end logits, `decode_windows` turns them into scored character spans
of each passage, and `aggregate` keeps each span's best score and the null answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.read.decode import decode_spans
from qa.read.headline import HeadlinedText, with_headline
from qa.read.protocol import strip_span
from qa.types import Passage, Query, ReaderResult, SpanCandidate

# The tokenizer outputs a model may take, in the order they are fed.
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class WindowSettings:
    """How passages are cut into windows (validated by the reader that owns them)."""

    max_seq_len: int
    doc_stride: int
    # Questions longer than this (in tokens) are cut, so that a window always has room for context.
    max_question_tokens: int = 64
    reads_headline: bool = False  # "Headline. paragraph", as a reader trained with --headline reads
    # As in utils_qa: a tokenizer that pads on the left expects (context, question).
    question_first: bool = True


@dataclass(frozen=True)
class Windows:
    """Every window of every passage, padded to one length, with what decoding needs of each.

    Offsets are characters into the passage's own text: a headline's tokens are neither context
    nor scored (offsets (0, 0), sequence id None, mask 0).
    """

    question: str  # as the model reads it (clipped); "" with no windows
    model_inputs: Mapping[str, Sequence[Sequence[int]]]  # input_ids, attention_mask[, token_type_ids]
    passage_indices: tuple[int, ...]  # window -> index into the passages given
    offsets: tuple[Sequence[Sequence[int]], ...]
    sequence_ids: tuple[Sequence[int | None], ...]
    scored: tuple[Sequence[int], ...]  # the attention mask less the headline tokens
    cls_indices: tuple[int, ...]
    context_id: int  # the sequence id of passage tokens (1 when the question comes first)

    def __len__(self) -> int:
        return len(self.passage_indices)


@dataclass(frozen=True, eq=False)
class WindowLogits:
    """Start and end logits, shape (windows, padded length); padding positions are masked in decoding."""

    start: np.ndarray
    end: np.ndarray


@dataclass(frozen=True)
class WindowSpans:
    """One window's answer spans as character offsets into its passage's text, best first."""

    passage_index: int
    spans: tuple[tuple[int, int, float], ...]  # (start, end, score), whitespace stripped
    null_score: float


def clip_question(tokenizer: Any, question: str, max_tokens: int) -> str:
    """The question stripped, cut after its first `max_tokens` tokens (at a token's end)."""
    question = question.strip()
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    if len(offsets) > max_tokens:
        question = question[: offsets[max_tokens - 1][1]]
    return question


def no_windows() -> Windows:
    return Windows("", {}, (), (), (), (), (), 1)


def prepare_windows(
    tokenizer: Any, query: Query, passages: Sequence[Passage], settings: WindowSettings
) -> Windows:
    """The windows the model reads for `query` over `passages` (none for an empty question or texts).

    A follow-up's carried words follow its own question ("And in India? how many users
    targeted"): the model reads them as more question words, its own first.
    """
    question = " ".join((query.question, *query.context))
    question = clip_question(tokenizer, question, settings.max_question_tokens) if question.strip() else ""
    indices = [i for i, p in enumerate(passages) if p.text and p.text.strip()]
    if not question or not indices:
        return no_windows()
    # What the model reads of each passage, and where the passage's own text starts in it.
    headlined = [
        with_headline(passages[i].title or "", passages[i].text)
        if settings.reads_headline
        else HeadlinedText(passages[i].text, 0)
        for i in indices
    ]
    contexts = [h.text for h in headlined]
    questions = [question] * len(contexts)
    n_question = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    room = settings.max_seq_len - n_question - tokenizer.num_special_tokens_to_add(pair=True)
    if room < 2:
        raise ValueError(f"max_seq_len={settings.max_seq_len} leaves no room for context after the question")
    # The tokenizer refuses a stride that is not smaller than the context room.
    stride = min(settings.doc_stride, room // 2)
    first, second = (questions, contexts) if settings.question_first else (contexts, questions)
    enc = tokenizer(
        first,
        second,
        truncation="only_second" if settings.question_first else "only_first",
        max_length=settings.max_seq_len,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
    )
    context_id = 1 if settings.question_first else 0
    cls_id = tokenizer.cls_token_id
    samples = list(enc["overflow_to_sample_mapping"])
    offsets, sequence_ids, scored, cls_indices = [], [], [], []
    for f, sample in enumerate(samples):
        input_ids = enc["input_ids"][f]
        cls_indices.append(input_ids.index(cls_id) if cls_id is not None and cls_id in input_ids else 0)
        window = _paragraph_only(
            enc["offset_mapping"][f],
            enc.sequence_ids(f),
            enc["attention_mask"][f],
            context_id,
            headlined[sample].paragraph_start,
        )
        offsets.append(window[0])
        sequence_ids.append(window[1])
        scored.append(window[2])
    return Windows(
        question=question,
        model_inputs={k: enc[k] for k in MODEL_INPUTS if k in enc},
        passage_indices=tuple(indices[sample] for sample in samples),
        offsets=tuple(offsets),
        sequence_ids=tuple(sequence_ids),
        scored=tuple(scored),
        cls_indices=tuple(cls_indices),
        context_id=context_id,
    )


def _paragraph_only(
    offsets: Sequence[Sequence[int]],
    sequence_ids: Sequence[int | None],
    attention_mask: Sequence[int],
    context_id: int,
    paragraph_start: int,
) -> tuple[Sequence[Sequence[int]], Sequence[int | None], Sequence[int]]:
    """One window's offsets moved into the passage's own text, with its headline tokens neither
    context nor scored.

    No answer is taken from the headline, and none of the probability is left on it: a news
    headline often holds the answer too ("Regulator fines Nimbly 38 million euros"), and the mass
    the model puts there would otherwise be lost to the paragraph's span against the null answer.
    """
    if paragraph_start == 0:  # no headline: the window as the tokenizer gave it
        return offsets, sequence_ids, attention_mask
    moved_offsets: list[tuple[int, int]] = []
    moved_ids: list[int | None] = []
    mask: list[int] = []
    for (a, b), seq, attended in zip(offsets, sequence_ids, attention_mask):
        if seq == context_id:
            if a < paragraph_start:
                seq, a, b, attended = None, 0, 0, 0
            else:
                a, b = a - paragraph_start, b - paragraph_start
        moved_offsets.append((a, b))
        moved_ids.append(seq)
        mask.append(attended)
    return moved_offsets, moved_ids, mask


def decode_windows(
    windows: Windows,
    logits: WindowLogits,
    passages: Sequence[Passage],
    *,
    max_answer_tokens: int,
    n_best: int,
) -> tuple[WindowSpans, ...]:
    """Each window's best spans (qa/read/decode.py) in its passage's text, surrounding whitespace
    stripped; a span that is only whitespace is dropped."""
    if logits.start.shape[0] != len(windows) or logits.end.shape[0] != len(windows):
        raise ValueError(
            f"got logits for {logits.start.shape[0]} and {logits.end.shape[0]} windows, "
            f"expected {len(windows)}"
        )
    decoded = []
    for f, passage_index in enumerate(windows.passage_indices):
        spans, null = decode_spans(
            logits.start[f],
            logits.end[f],
            windows.offsets[f],
            windows.sequence_ids[f],
            context_id=windows.context_id,
            cls_index=windows.cls_indices[f],
            attention_mask=windows.scored[f],
            max_answer_tokens=max_answer_tokens,
            n_best=n_best,
        )
        text = passages[passage_index].text
        stripped = []
        for a, b, score in spans:
            a, b = strip_span(text, a, b)
            if a < b:
                stripped.append((a, b, score))
        decoded.append(WindowSpans(passage_index, tuple(stripped), null))
    return tuple(decoded)


def aggregate(
    decoded: Sequence[WindowSpans], passages: Sequence[Passage], *, reader: str, n_best: int
) -> ReaderResult:
    """The `n_best` spans over all windows, best first, each at its best window's score.

    Ties go to the earlier passage, then the earlier span. As in utils_qa, the null answer is the
    least confident window's (1.0, "no answer", with no windows at all).
    """
    best: dict[tuple[int, int, int], float] = {}
    for window in decoded:
        for a, b, score in window.spans:
            key = (window.passage_index, a, b)
            if score > best.get(key, -1.0):
                best[key] = score
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:n_best]
    candidates = tuple(
        SpanCandidate(
            passage_id=passages[pi].passage_id, start=a, end=b, text=passages[pi].text[a:b], score=score
        )
        for (pi, a, b), score in ranked
    )
    null = float(min(w.null_score for w in decoded)) if decoded else 1.0
    return ReaderResult(reader=reader, candidates=candidates, no_answer_score=null)
