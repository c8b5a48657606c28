"""Near-duplicate folding: copies of one story take one slot in the ranking and keep every source."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from qa import config
from qa.retrieve.facts import Facts, facts_of
from qa.types import Passage

_WORD = re.compile(r"\w+")

# (row, score, rows of the copies folded into it)
Group = tuple[int, float, list[int]]


def shingles(text: str, size: int = config.SHINGLE_WORDS) -> frozenset[int]:
    """The `size`-word runs of `text` (lower-cased words; the whole text if shorter), hashed.

    Hashes, not strings: a fifth of the memory in the cache, and quicker to intersect. They are
    only compared within one process, where str hashes are stable.
    """
    words = _WORD.findall(text.lower())
    if len(words) <= size:
        return frozenset({hash(tuple(words))}) if words else frozenset()
    return frozenset(map(hash, zip(*(words[i:] for i in range(size)))))


def shingle_overlap(a: frozenset[int], b: frozenset[int]) -> float:
    """Shared shingles as a share of the larger set: 1 - overlap bounds the new text on either side.

    Example:
        >>> story = shingles("The council approved the budget on Monday after a long debate.")
        >>> copy = shingles("The council approved the budget on Monday after a long debate. (AP)")
        >>> round(shingle_overlap(story, copy), 2)
        0.9
    """
    if not a or not b:
        return 0.0
    return len(a & b) / max(len(a), len(b))


class DuplicateFolder:
    """Folds each ranked passage into a copy of it ranked above, or keeps it; caches per store row.

    Two passages are copies when their text says the same thing (cosine of the stored vectors, or
    shared word runs: see config.NEAR_DUPLICATE_*) and they state the same facts: articles of the
    same date, and the same figures, dates and names (qa/retrieve/facts.py). Text alone is not
    enough: an update repeats its predecessor's sentence with a new figure, and folding it would
    hide that figure from the reader (issue 12).
    """

    def __init__(self, cache_size: int = config.SHINGLE_CACHE_PASSAGES):
        self.cache_size = cache_size
        self._shingles: dict[int, frozenset[int]] = {}
        self._facts: dict[int, Facts] = {}

    def fold(
        self,
        ranked: Sequence[tuple[int, float]],
        passages: Sequence[Passage],
        vectors: np.ndarray,
        limit: int,
    ) -> list[Group]:
        """Up to `limit` groups, best first; `passages` and `vectors` are those of `ranked`, in its order."""
        rows = [row for row, _ in ranked]
        vectors = np.asarray(vectors, dtype=np.float32)
        # Row j: cosines of the j-th kept passage with every candidate, one matrix-vector product per
        # kept passage (a full candidates x candidates product costs more, and stalls on a busy CPU).
        kept_cosines = np.empty((min(limit, len(rows)), len(rows)), dtype=np.float32)
        kept: list[Group] = []
        kept_at: list[int] = []  # position in `ranked` of each kept passage
        for position, (row, score) in enumerate(ranked):
            twin = None
            if kept:
                twin = self._copy_of(position, rows, passages, kept_at, kept_cosines[: len(kept), position])
            if twin is not None:
                kept[twin][2].append(row)
            elif len(kept) < limit:
                kept_cosines[len(kept)] = vectors @ vectors[position]
                kept.append((row, score, []))
                kept_at.append(position)
            # Past the limit, a passage only matters as a copy of one already kept.
        return kept

    def _copy_of(
        self,
        position: int,
        rows: list[int],
        passages: Sequence[Passage],
        kept_at: list[int],
        cosines: np.ndarray,
    ) -> int | None:
        """Index in the kept list of a passage that candidate `position` copies, or None."""
        best = int(np.argmax(cosines))
        if cosines[best] >= config.NEAR_DUPLICATE_COSINE and self._same_facts(
            position, kept_at[best], rows, passages
        ):
            return best
        # The word-overlap test only where the vectors allow it: copies that share most of their
        # word runs are never far apart in meaning (NEAR_DUPLICATE_SCREEN), and this keeps the set
        # work to a few pairs per question.
        for index in np.flatnonzero(cosines >= config.NEAR_DUPLICATE_SCREEN):
            other = kept_at[index]
            if index == best and cosines[best] >= config.NEAR_DUPLICATE_COSINE:
                continue  # tested above: its facts differ
            close = cosines[index] >= config.NEAR_DUPLICATE_COSINE or self._words_overlap(
                position, other, rows, passages
            )
            if close and self._same_facts(position, other, rows, passages):
                return int(index)
        return None

    def _words_overlap(self, a: int, b: int, rows: list[int], passages: Sequence[Passage]) -> bool:
        mine, theirs = self._shingles_of(rows[a], passages[a]), self._shingles_of(rows[b], passages[b])
        # The overlap can be no larger than the size ratio: a cheap test before the set work.
        if min(len(mine), len(theirs)) < config.NEAR_DUPLICATE_OVERLAP * max(len(mine), len(theirs)):
            return False
        return shingle_overlap(mine, theirs) >= config.NEAR_DUPLICATE_OVERLAP

    def _same_facts(self, a: int, b: int, rows: list[int], passages: Sequence[Passage]) -> bool:
        # Articles of different dates are an update and its predecessor, or two days' reports of a
        # story: each is news on its own date, and the answer stage compares dates.
        if passages[a].date != passages[b].date:
            return False
        return self._facts_of(rows[a], passages[a]) == self._facts_of(rows[b], passages[b])

    def _shingles_of(self, row: int, passage: Passage) -> frozenset[int]:
        found = self._shingles.get(row)
        if found is None:
            if len(self._shingles) >= self.cache_size:
                self._shingles.clear()  # crude but bounded; the hot passages come back at once
            found = self._shingles[row] = shingles(passage.text)
        return found

    def _facts_of(self, row: int, passage: Passage) -> Facts:
        found = self._facts.get(row)
        if found is None:
            if len(self._facts) >= self.cache_size:
                self._facts.clear()
            found = self._facts[row] = facts_of(passage.text)
        return found
