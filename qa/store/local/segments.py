"""Segments: the immutable parts a generation is made of, and the live rows across them.

A generation lists its segments in its manifest, oldest first (SegmentInfo). The first is the
generation folder itself (name ""); each later one a `seg-NNNNNN/` folder holding the same files
(passages, dates, sources, vectors, FAISS, keyword) for the articles one build added. Removed or
changed articles are tombstones: per segment, the rows no longer served (`tombstones/<name>.npy`).

The Store numbers the live passages 0..count-1 across segments in order (RowMap): a segment's
live rows follow the previous segment's. Rows are stable for one opened generation, as the
protocol asks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import qa.store.local.table as table
from qa.store.local.files import (
    DATES_FILE,
    DENSE_FILE,
    KEYWORD_DIR,
    PASSAGES_FILE,
    SOURCES_FILE,
    TOMBSTONE_DIR,
    VECTORS_FILE,
    Manifest,
)
from qa.store.local.npy import load_npy
from qa.store.local.vectors import VectorRows
from qa.types import Passage

if TYPE_CHECKING:
    import faiss

SEGMENT_PREFIX = "seg-"


@dataclass(frozen=True)
class SegmentInfo:
    """One segment as a manifest lists it."""

    name: str  # "" for the generation folder itself, else "seg-000009"
    passages: int  # rows written, tombstoned ones included
    dense_index: str  # its FAISS description: small segments are exact (Flat), whatever the first is
    deleted: int = 0  # rows tombstoned
    deleted_articles: tuple[str, ...] = ()  # articles of this segment no longer served

    def folder(self, generation: Path) -> Path:
        return generation / self.name if self.name else generation

    @property
    def tombstones(self) -> str:
        """The tombstone file, relative to the generation folder."""
        return f"{TOMBSTONE_DIR}/{self.name or 'root'}.npy"

    @property
    def live(self) -> int:
        return self.passages - self.deleted

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "passages": self.passages,
            "dense_index": self.dense_index,
            "deleted": self.deleted,
            "deleted_articles": sorted(self.deleted_articles),
        }

    @classmethod
    def from_json(cls, data: dict) -> SegmentInfo:
        return cls(
            str(data["name"]),
            int(data["passages"]),
            str(data["dense_index"]),
            int(data.get("deleted", 0)),
            tuple(data.get("deleted_articles", ())),
        )


def segment_infos(manifest: Manifest) -> tuple[SegmentInfo, ...]:
    """The manifest's segments; a format-2 index is one segment, the generation folder."""
    if not manifest.segments:
        return (SegmentInfo("", manifest.passage_count, manifest.dense_index),)
    return tuple(SegmentInfo.from_json(entry) for entry in manifest.segments)


@dataclass(frozen=True)
class Segment:
    """One segment opened for search: its files memory-mapped or read on demand."""

    info: SegmentInfo
    folder: Path
    passages: table.PassageTable  # by physical row, tombstoned rows included
    vector_rows: VectorRows
    dense: faiss.Index
    keyword: object  # KeywordIndex (term frequencies), or Bm25sIndex for a format-2 index
    dates: np.ndarray
    sources: np.ndarray
    deleted: np.ndarray | None = None  # bool per row, True where tombstoned; None: none are
    live_rows: np.ndarray | None = None  # sorted int64 rows not tombstoned; None: all are
    _cache: dict = field(default_factory=dict, repr=False)  # made on first use: vectors map, selector

    @property
    def count(self) -> int:
        return self.info.passages if self.live_rows is None else len(self.live_rows)

    @property
    def vectors(self) -> np.ndarray:
        """The float16 vectors memory-mapped, every row (builds reuse them)."""
        if "vectors" not in self._cache:
            self._cache["vectors"] = load_npy(self.folder / VECTORS_FILE, mmap_mode="r")
        return self._cache["vectors"]

    def live_selector(self):
        """The FAISS selector of the live rows (None: all are live), made once: a bitmap of a
        million rows costs milliseconds, a question's whole dense search."""
        if self.live_rows is None:
            return None
        if "selector" not in self._cache:
            from qa.store.local.dense import make_selector

            self._cache["selector"] = make_selector(self.live_rows, self.info.passages)
        return self._cache["selector"]

    def physical(self, live: np.ndarray) -> np.ndarray:
        """Physical rows of these live positions."""
        return live if self.live_rows is None else self.live_rows[live]

    def positions(self, physical: np.ndarray) -> np.ndarray:
        """Live positions of these (live) physical rows."""
        return physical if self.live_rows is None else np.searchsorted(self.live_rows, physical)


def open_segment(generation: Path, info: SegmentInfo) -> Segment:
    """Open a segment's files; OSError, ValueError, RuntimeError or sqlite3.Error when they cannot be read."""
    from qa.store.local.dense import read_dense_index
    from qa.store.local.keyword import KeywordIndex, is_postings_index

    folder = info.folder(generation)
    if is_postings_index(folder / KEYWORD_DIR):
        keyword = KeywordIndex(folder / KEYWORD_DIR, mmap=True)
    else:
        from qa.store.local.bm25s_index import Bm25sIndex

        keyword = Bm25sIndex(folder / KEYWORD_DIR, mmap=True)
    deleted = live = None
    if info.deleted:
        rows = load_npy(generation / info.tombstones)
        deleted = np.zeros(info.passages, dtype=bool)
        deleted[rows] = True
        live = np.flatnonzero(~deleted).astype(np.int64)
    return Segment(
        info,
        folder,
        table.PassageTable(folder / PASSAGES_FILE),
        VectorRows(folder / VECTORS_FILE),
        read_dense_index(folder / DENSE_FILE, info.dense_index, mmap=True),
        keyword,
        table.read_column(folder / DATES_FILE),
        table.read_column(folder / SOURCES_FILE),
        deleted,
        live,
    )


def counts_in_step(segment: Segment) -> bool:
    """Whether every file of the segment holds one entry per row."""
    sizes = {
        len(segment.passages),
        len(segment.vector_rows),
        int(segment.dense.ntotal),
        segment.keyword.size,
        len(segment.dates),
        len(segment.sources),
        segment.info.passages,
    }
    return len(sizes) == 1 and (segment.deleted is None or int(segment.deleted.sum()) == segment.info.deleted)


ROW_BITS = 40  # order.npy codes: segment index << ROW_BITS | physical row
ROW_MASK = (1 << ROW_BITS) - 1


class RowMap:
    """Store rows (0..count-1) <-> (segment, physical row).

    With an order (order.npy, several segments) store rows follow it: the order of a fresh build.
    Without (one segment), store row r is the segment's r-th live row.
    """

    def __init__(self, segments: Sequence[Segment], order: np.ndarray | None = None):
        self.segments = tuple(segments)
        self.order = order
        if order is None:
            self.starts = [0]
            for segment in self.segments:
                self.starts.append(self.starts[-1] + segment.count)
            return
        self._segment_of = (order >> ROW_BITS).astype(np.int64)
        self._physical = order & ROW_MASK
        self._ranks, self._mine = [], []  # per segment: store row of each row; (store rows, rows)
        for i, segment in enumerate(self.segments):
            ranks = np.full(segment.info.passages, -1, dtype=np.int64)
            mine = np.flatnonzero(self._segment_of == i).astype(np.int64)
            ranks[self._physical[mine]] = mine
            self._ranks.append(ranks)
            self._mine.append((mine, self._physical[mine]))

    @property
    def count(self) -> int:
        return self.starts[-1] if self.order is None else len(self.order)

    def split(self, rows: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(segment index, positions in `rows`, physical rows) for each segment `rows` touch."""
        if self.order is None:
            which = np.searchsorted(np.asarray(self.starts[1:]), rows, side="right")
        else:
            which = self._segment_of[rows]
        for i in np.unique(which).tolist():
            at = np.flatnonzero(which == i)
            if self.order is None:
                yield i, at, self.segments[i].physical(rows[at] - self.starts[i])
            else:
                yield i, at, self._physical[rows[at]]

    def to_store_rows(self, i: int, physical: np.ndarray) -> np.ndarray:
        """Store rows of live physical rows of segment i."""
        physical = np.asarray(physical, dtype=np.int64)
        if self.order is None:
            return self.segments[i].positions(physical) + self.starts[i]
        return self._ranks[i][physical]

    def gather(self, per_segment: Sequence[np.ndarray]) -> np.ndarray:
        """One value per store row from one value per physical row of each segment."""
        if self.order is None:
            return np.concatenate(
                [v if s.live_rows is None else v[s.live_rows] for v, s in zip(per_segment, self.segments)]
            )
        out = np.empty(self.count, dtype=per_segment[0].dtype if per_segment else np.float32)
        for values, (store_rows, rows) in zip(per_segment, self._mine):
            out[store_rows] = values[rows]
        return out


class LivePassages(Sequence[Passage]):
    """The live passages of all segments in store-row order: len(), [row], [a:b], iteration, get()."""

    def __init__(self, rows: RowMap):
        self._rows = rows

    def __len__(self) -> int:
        return self._rows.count

    def get(self, rows: Sequence[int]) -> list[Passage]:
        wanted = np.asarray(rows, dtype=np.int64).reshape(-1)
        out: list[Passage | None] = [None] * len(wanted)
        for i, at, physical in self._rows.split(wanted):
            for position, passage in zip(at.tolist(), self._rows.segments[i].passages.get(physical.tolist())):
                out[position] = passage
        return out  # type: ignore[return-value]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.get(range(*index.indices(len(self))))
        row = index + len(self) if index < 0 else index
        if not 0 <= row < len(self):
            raise IndexError(f"row {index} is not in this index of {len(self)} passages")
        return self.get([row])[0]

    def __iter__(self) -> Iterator[Passage]:
        if self._rows.order is None:
            for segment in self._rows.segments:
                if segment.deleted is None:
                    yield from segment.passages
                else:
                    yield from (p for row, p in enumerate(segment.passages) if not segment.deleted[row])
            return
        for start in range(0, len(self), 10_000):
            yield from self.get(range(start, min(start + 10_000, len(self))))

    def article_hashes(self) -> dict[str, str]:
        """article_id -> content_hash of the articles served (tombstoned ones left out)."""
        hashes: dict[str, str] = {}
        for segment in self._rows.segments:
            gone = set(segment.info.deleted_articles)
            hashes.update((a, h) for a, h in segment.passages.article_hashes().items() if a not in gone)
        return hashes

    def titles(self, limit: int) -> list[str]:
        titles: list[str] = []
        for segment in self._rows.segments:
            titles += [t for t in segment.passages.titles(limit) if t not in titles]
            if len(titles) >= limit:
                break
        return titles[:limit]

    def close(self) -> None:
        for segment in self._rows.segments:
            segment.passages.close()
