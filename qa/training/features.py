"""Training examples -> token windows with start/end labels, and the batch order of an epoch."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.read.headline import with_headline
from qa.training.squad import SquadExample


@dataclass(frozen=True)
class TrainFeatures:
    """Tokenised windows, stored flat: window i is tokens[offsets[i]:offsets[i + 1]].

    A window whose context does not hold the whole answer (or whose question has none) is labelled
    with the [CLS] position 0 for start and end: "no answer in this window".
    """

    tokens: np.ndarray  # int32, all windows concatenated
    token_types: np.ndarray  # int8, same layout
    offsets: np.ndarray  # int64, len(windows) + 1
    start_positions: np.ndarray  # int32 per window
    end_positions: np.ndarray  # int32 per window

    def __len__(self) -> int:
        return len(self.start_positions)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            tokens=self.tokens,
            token_types=self.token_types,
            offsets=self.offsets,
            start_positions=self.start_positions,
            end_positions=self.end_positions,
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TrainFeatures:
        with np.load(path) as data:
            return cls(**{k: data[k] for k in data.files})

    def batch(self, indices: Sequence[int], pad_id: int, multiple: int = 32) -> dict[str, np.ndarray]:
        """Windows `indices` padded to the longest of them, rounded up to `multiple`.

        Few distinct widths let the CPU kernels reuse what they prepared for a shape (15% faster).
        """
        lengths = self.lengths[indices]
        width = int(-(-int(lengths.max()) // multiple) * multiple)
        input_ids = np.full((len(indices), width), pad_id, dtype=np.int64)
        token_type_ids = np.zeros((len(indices), width), dtype=np.int64)
        attention_mask = np.zeros((len(indices), width), dtype=np.int64)
        for row, (i, n) in enumerate(zip(indices, lengths)):
            a = self.offsets[i]
            input_ids[row, :n] = self.tokens[a : a + n]
            token_type_ids[row, :n] = self.token_types[a : a + n]
            attention_mask[row, :n] = 1
        return {
            "input_ids": input_ids,
            "token_type_ids": token_type_ids,
            "attention_mask": attention_mask,
            "start_positions": self.start_positions[indices].astype(np.int64),
            "end_positions": self.end_positions[indices].astype(np.int64),
        }


@dataclass(frozen=True)
class Window:
    """One tokenised window of one example, with what is needed to read its text again."""

    example: SquadExample  # as read: with ``headline`` its context is "Headline. paragraph"
    input_ids: list[int]
    token_type_ids: list[int]
    offsets: list[tuple[int, int]]  # character span of each token in its own text
    sequence_ids: list[int | None]  # 0: question, 1: context, None: special tokens
    start: int  # label: answer's first and last token, (0, 0) when the window does not hold it
    end: int


def windows(
    examples: Sequence[SquadExample],
    tokenizer: Any,
    *,
    max_seq_len: int,
    doc_stride: int,
    chunk: int = 2000,
    headline: bool = False,
) -> Iterator[Window]:
    """Windows of (question, context) with labels, in order, as transformers' run_qa.py prepares them.

    With ``headline`` the context is the article's title then the paragraph (qa/read/headline.py),
    as the reader is given it in use; the answer is always labelled in the paragraph.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("training needs a fast tokenizer (offset mappings)")
    for a in range(0, len(examples), chunk):
        part = examples[a : a + chunk]
        if headline:
            part = [_headlined(e) for e in part]
        enc = tokenizer(
            [e.question for e in part],
            [e.context for e in part],
            truncation="only_second",
            max_length=max_seq_len,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_token_type_ids=True,
        )
        for f, sample in enumerate(enc["overflow_to_sample_mapping"]):
            example = part[sample]
            sequence_ids = enc.sequence_ids(f)
            start, end = _label(example, enc["offset_mapping"][f], sequence_ids)
            yield Window(
                example,
                enc["input_ids"][f],
                enc["token_type_ids"][f],
                enc["offset_mapping"][f],
                sequence_ids,
                start,
                end,
            )


def featurize(
    examples: Sequence[SquadExample],
    tokenizer: Any,
    *,
    max_seq_len: int,
    doc_stride: int,
    chunk: int = 2000,
    headline: bool = False,
) -> TrainFeatures:
    """The `windows` of `examples`, stored flat (see `windows` for what a window reads)."""
    tokens: list[np.ndarray] = []
    types: list[np.ndarray] = []
    starts: list[int] = []
    ends: list[int] = []
    for window in windows(
        examples, tokenizer, max_seq_len=max_seq_len, doc_stride=doc_stride, chunk=chunk, headline=headline
    ):
        tokens.append(np.asarray(window.input_ids, dtype=np.int32))
        types.append(np.asarray(window.token_type_ids, dtype=np.int8))
        starts.append(window.start)
        ends.append(window.end)
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(t) for t in tokens])
    return TrainFeatures(
        tokens=np.concatenate(tokens),
        token_types=np.concatenate(types),
        offsets=offsets,
        start_positions=np.asarray(starts, dtype=np.int32),
        end_positions=np.asarray(ends, dtype=np.int32),
    )


def _headlined(example: SquadExample) -> SquadExample:
    text, shift = with_headline(example.title, example.context)
    start = None if example.answer_start is None else example.answer_start + shift
    return dataclasses.replace(example, context=text, answer_start=start)


def _label(
    example: SquadExample, offsets: Sequence[tuple[int, int]], sequence_ids: Sequence[int | None]
) -> tuple[int, int]:
    """Token start/end of the answer in this window, or (0, 0) when the window does not hold it."""
    if example.answer_start is None:
        return 0, 0
    start_char = example.answer_start
    end_char = start_char + len(example.answer_text)
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    first, last = context[0], context[-1]
    if not (offsets[first][0] <= start_char and offsets[last][1] >= end_char):
        return 0, 0
    start = first
    while start <= last and offsets[start][0] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1


def epoch_batches(
    lengths: np.ndarray, *, batch_size: int, seed: int, epoch: int, group: int = 50
) -> list[np.ndarray]:
    """The batches of one epoch: a seeded shuffle, windows of similar length batched together.

    Sorting by length inside pools of `group` batches cuts padding (most SQuAD windows are far
    shorter than the maximum) while keeping the order random; the same seed and epoch always give
    the same batches, which is what lets --resume skip exactly the finished ones.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    pool = batch_size * group
    batches: list[np.ndarray] = []
    for a in range(0, len(order), pool):
        chunk = order[a : a + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]
