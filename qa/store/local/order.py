"""The order of a segmented generation's rows: that of a fresh build, by article id (order.npy).

A fresh build writes passages sorted by article id, each article's in split order, and breaks
score ties by row. A generation of several segments records the same order for its live rows, so
that the Store's row numbers, and with them every tie, are what one fresh index would have: an
addition inserts its (sorted) articles into the previous order by binary search, reading about
log2(n) article ids per article, never the whole corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import qa.store.local.table as table
from qa.store.local.files import ORDER_FILE, PASSAGES_FILE
from qa.store.local.npy import load_npy
from qa.store.local.segments import ROW_BITS, ROW_MASK, SegmentInfo


def current_codes(generation: Path, infos: Sequence[SegmentInfo]) -> np.ndarray:
    """The live rows of a generation as codes (segment index << 40 | row), in store-row order."""
    if len(infos) > 1:
        return np.asarray(load_npy(generation / ORDER_FILE), dtype=np.int64)
    rows = np.arange(infos[0].passages, dtype=np.int64)
    if infos[0].deleted:
        rows = np.delete(rows, load_npy(generation / infos[0].tombstones))
    return rows  # segment 0


def drop_rows(codes: np.ndarray, deleted: dict[int, np.ndarray]) -> np.ndarray:
    """`codes` without the rows in `deleted` (segment index -> rows)."""
    keep = np.ones(len(codes), dtype=bool)
    segment, row = codes >> ROW_BITS, codes & ROW_MASK
    for index, rows in deleted.items():
        keep &= ~((segment == index) & np.isin(row, rows))
    return codes[keep]


def renumber(codes: np.ndarray, mapping: dict[int, tuple[int, np.ndarray | None]]) -> np.ndarray:
    """Codes with segment i's rows moved to (new index, new_rows[row]) for each i -> (new index,
    new_rows or None for the same rows) in `mapping`."""
    segment, row = codes >> ROW_BITS, codes & ROW_MASK
    out = codes.copy()
    for old, (new, new_rows) in mapping.items():
        mine = segment == old
        out[mine] = (new << ROW_BITS) | (row[mine] if new_rows is None else new_rows[row[mine]])
    return out


def insert_sorted(
    codes: np.ndarray, article_at: Callable[[int], str], article_ids: Sequence[str], new_index: int
) -> np.ndarray:
    """Insert a new segment's rows (`article_ids`: each row's article, sorted) into `codes` (sorted
    by article, none of these articles among them) where a fresh build would have them."""
    positions, low, last, at = [], 0, None, 0
    for article in article_ids:
        if article != last:
            high = len(codes)
            while low < high:
                middle = (low + high) // 2
                if article_at(int(codes[middle])) < article:
                    low = middle + 1
                else:
                    high = middle
            at, last = low, article
        positions.append(at)
    new = (new_index << ROW_BITS) | np.arange(len(article_ids), dtype=np.int64)
    return np.insert(codes, np.asarray(positions, dtype=np.int64), new)


class ArticleLookup:
    """article_at(code) over a generation's segments' passage tables, for insert_sorted."""

    def __init__(self, generation: Path, infos: Sequence[SegmentInfo]):
        self.tables = [table.PassageTable(info.folder(generation) / PASSAGES_FILE) for info in infos]

    def __call__(self, code: int) -> str:
        return self.tables[code >> ROW_BITS].get([code & ROW_MASK])[0].article_id

    def close(self) -> None:
        for passages in self.tables:
            passages.close()
