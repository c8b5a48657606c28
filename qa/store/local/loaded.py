"""Opening the live generation for search: every segment of one consistent generation, checked, as a
LoadedIndex (qa/store/local/store.py serves it through the Store protocol)."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import qa.store.local.table as table
from qa.store.local.checks import check_compatible, verify_files
from qa.store.local.files import (
    ORDER_FILE,
    PASSAGES_FILE,
    IndexStoreError,
    Manifest,
    current_generation,
    read_manifest,
)
from qa.store.local.npy import load_npy
from qa.store.local.segments import LivePassages, RowMap, Segment, counts_in_step, open_segment, segment_infos

logger = logging.getLogger(__name__)


def read_passages(generation: Path) -> table.PassageTable:
    """The first segment's passages, read by row on demand (all of a one-segment generation's)."""
    return table.PassageTable(generation / PASSAGES_FILE)


def read_article_hashes(generation: Path) -> dict[str, str]:
    """article_id -> content_hash of every article the generation serves: what a build compares a
    folder with."""
    manifest = read_manifest(generation.parent, generation)
    hashes: dict[str, str] = {}
    for info in segment_infos(manifest):
        passages = table.PassageTable(info.folder(generation) / PASSAGES_FILE)
        try:
            gone = set(info.deleted_articles)
            hashes.update((a, h) for a, h in passages.article_hashes().items() if a not in gone)
        finally:
            passages.close()
    return hashes


@dataclass(frozen=True)
class LoadedIndex:
    """An index opened for search: the segments of one consistent generation.

    `passages`, `vectors`, `dates` and `sources` are the live rows of all segments in store-row
    order; `dense` and `keyword` the first segment's (the whole index when it has one segment).
    """

    index_dir: Path
    manifest: Manifest
    segments: tuple[Segment, ...]
    generation: str = ""  # the generation folder's name, "gen-000007": which version is served
    order: np.ndarray | None = None  # order.npy: store rows in fresh-build order (several segments)
    rows: RowMap = field(init=False, repr=False)
    passages: LivePassages = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", RowMap(self.segments, self.order))
        object.__setattr__(self, "passages", LivePassages(self.rows))

    @property
    def vectors(self) -> np.ndarray:
        """float16 (count, dim): memory-mapped for one segment without tombstones, else gathered."""
        if len(self.segments) == 1 and self.segments[0].live_rows is None:
            return self.segments[0].vectors
        out = np.empty((self.rows.count, self.manifest.dimension), dtype=self.segments[0].vectors.dtype)
        for i, at, physical in self.rows.split(np.arange(self.rows.count)):
            out[at] = self.segments[i].vectors[physical]
        return out

    @property
    def dense(self):
        return self.segments[0].dense

    @property
    def keyword(self):
        return self.segments[0].keyword

    @property
    def vector_rows(self):
        return self.segments[0].vector_rows if len(self.segments) == 1 else None


def open_index(index_dir: Path | str, *, embedder: str | None = None, verify: bool = True) -> LoadedIndex:
    """Open the live generation, refusing a damaged or incompatible one with a message that says what to
    do."""
    index_dir = Path(index_dir)
    retries = 5  # each retry needs another build to have committed meanwhile
    while True:
        generation = current_generation(index_dir)
        try:
            return _open_generation(index_dir, generation, embedder, verify)
        except IndexStoreError:
            # A build that commits while we read removes the generation we were reading: that is
            # not damage. Read the new one; a real problem stays put and is raised.
            if retries == 0 or current_generation(index_dir) in (None, generation):
                raise
            retries -= 1
            logger.info("The index in %s changed while it was being opened; opening the new one", index_dir)


def _open_generation(
    index_dir: Path, generation: Path | None, embedder: str | None, verify: bool
) -> LoadedIndex:
    manifest = read_manifest(index_dir, generation)  # raises when generation is None
    check_compatible(manifest, index_dir, embedder)
    generation = generation if generation is not None else index_dir
    if verify:
        verify_files(generation, manifest, index_dir)
    try:
        infos = segment_infos(manifest)
        segments = tuple(open_segment(generation, info) for info in infos)
        order = load_npy(generation / ORDER_FILE) if len(infos) > 1 else None
    except (OSError, ValueError, RuntimeError, KeyError, sqlite3.Error) as error:
        raise IndexStoreError(
            f"The index in {index_dir} could not be read ({error}). "
            f"Rebuild it with: qa index --rebuild --index {index_dir}"
        ) from error
    live = sum(segment.count for segment in segments)
    in_step = order is None or len(order) == live
    if (
        not all(counts_in_step(segment) for segment in segments)
        or live != manifest.passage_count
        or not in_step
    ):
        first = segments[0]
        raise IndexStoreError(
            f"The index in {index_dir} is out of step: passages, vectors and FAISS hold "
            f"{len(first.passages)}, {len(first.vector_rows)} and {first.dense.ntotal} entries. "
            f"Rebuild it with: qa index --rebuild --index {index_dir}"
        )
    return LoadedIndex(index_dir, manifest, segments, generation.name, order)
