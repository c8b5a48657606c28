"""Opening the live generation for search: every file of one consistent generation, checked, as a
LoadedIndex (qa/store/local/store.py serves it through the Store protocol)."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import qa.store.local.table as table
from qa.store.local.checks import check_compatible, verify_files
from qa.store.local.files import (
    DATES_FILE,
    DENSE_FILE,
    KEYWORD_DIR,
    PASSAGES_FILE,
    SOURCES_FILE,
    VECTORS_FILE,
    IndexStoreError,
    Manifest,
    current_generation,
    read_manifest,
)
from qa.store.local.vectors import VectorRows, read_vectors

if TYPE_CHECKING:
    import faiss

    from qa.store.local.keyword import KeywordIndex

logger = logging.getLogger(__name__)


def read_passages(generation: Path) -> table.PassageTable:
    """The generation's passages, read by row on demand."""
    return table.PassageTable(generation / PASSAGES_FILE)


def read_article_hashes(generation: Path) -> dict[str, str]:
    """article_id -> content_hash of every article in the generation: what a build compares a folder with."""
    passages = table.PassageTable(generation / PASSAGES_FILE)
    try:
        return passages.article_hashes()
    finally:
        passages.close()


@dataclass(frozen=True)
class LoadedIndex:
    """An index opened for search: everything in one consistent generation."""

    index_dir: Path
    manifest: Manifest
    passages: table.PassageTable  # read on demand; row i is vectors[i]
    vectors: np.ndarray  # float16, memory-mapped (for builds and tests; questions read vector_rows)
    dense: faiss.Index
    keyword: KeywordIndex
    generation: str = ""  # the generation folder's name, "gen-000007": which version is served
    dates: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # YYYYMMDD per row, 0 undated
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # source text row per row
    vector_rows: VectorRows | None = None  # the same vectors, read by row without a memory map


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
    from qa.store.local.dense import read_dense_index
    from qa.store.local.keyword import KeywordIndex

    manifest = read_manifest(index_dir, generation)  # raises when generation is None
    check_compatible(manifest, index_dir, embedder)
    generation = generation if generation is not None else index_dir
    if verify:
        verify_files(generation, manifest, index_dir)
    try:
        passages = read_passages(generation)
        vectors = read_vectors(generation)
        vector_rows = VectorRows(generation / VECTORS_FILE)
        dates = table.read_column(generation / DATES_FILE)
        sources = table.read_column(generation / SOURCES_FILE)
        dense_index = read_dense_index(generation / DENSE_FILE, manifest.dense_index, mmap=True)
        keyword_index = KeywordIndex(generation / KEYWORD_DIR, mmap=True)
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as error:
        raise IndexStoreError(
            f"The index in {index_dir} could not be read ({error}). "
            f"Rebuild it with: qa index --rebuild --index {index_dir}"
        ) from error
    counts = {
        len(passages),
        len(vectors),
        int(dense_index.ntotal),
        manifest.passage_count,
        len(dates),
        len(sources),
    }
    if len(counts) != 1:
        raise IndexStoreError(
            f"The index in {index_dir} is out of step: passages, vectors and FAISS hold "
            f"{len(passages)}, {len(vectors)} and {dense_index.ntotal} entries. "
            f"Rebuild it with: qa index --rebuild --index {index_dir}"
        )
    return LoadedIndex(
        index_dir,
        manifest,
        passages,
        vectors,
        dense_index,
        keyword_index,
        generation.name,
        dates,
        sources,
        vector_rows,
    )
