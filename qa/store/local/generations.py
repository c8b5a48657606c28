"""Writing a generation: one build at a time (build_lock), a new generation written beside the live
one, fsynced, then made live by replacing CURRENT; and the tidying of what interrupted builds left."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import qa.store.local.table as table
from qa.ingest.listing import FolderListing
from qa.store.local.durable import fsync_dir, fsync_file, sha256_file, write_durably
from qa.store.local.files import (
    CURRENT_FILE,
    DENSE_FILE,
    FORMAT_VERSION,
    KEYWORD_DIR,
    LISTING_FILE,
    LOCK_FILE,
    MANIFEST_FILE,
    VECTOR_DTYPE,
    VECTORS_FILE,
    IndexStoreError,
    Manifest,
    current_generation,
)
from qa.store.local.npy import load_npy
from qa.store.local.vectors import VectorRows
from qa.store.lock import exclusive_build
from qa.store.pause import pause_for_tests
from qa.store.report import corpus_fingerprint
from qa.types import Passage

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def build_lock(index_dir: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """One build per index directory at a time; a second one waits up to wait_seconds, then refuses."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexStoreError(f"{index_dir} is not a folder; pass a folder for the index with --index DIR")
    with exclusive_build(
        index_dir / LOCK_FILE, str(index_dir), wait_seconds=wait_seconds, error=IndexStoreError
    ):
        _remove_leftovers(index_dir)
        yield


def _remove_leftovers(index_dir: Path) -> None:
    """Tidy what a build killed before it finished left behind; only the lock holder may do this.

    An unfinished `.building-*` folder or vectors file, a generation written but never made live,
    or the previous generation when the kill came between the switch of CURRENT and its removal.
    Nothing is removed while CURRENT names no generation: those folders may be all that is left of
    the index.
    """
    _remove_unfinished_builds(index_dir)
    for partial in index_dir.glob(".vectors-*.npy.tmp"):  # qa/store/local/build.py streams them there
        partial.unlink(missing_ok=True)
    live = current_generation(index_dir)
    if live is not None:
        _remove_old_generations(index_dir, live=live.name)
        (index_dir / f".{CURRENT_FILE}.tmp").unlink(missing_ok=True)


@dataclass(frozen=True)
class IndexContents:
    """What a build hands to the writer."""

    passages: Sequence[Passage]
    vectors: np.ndarray  # float16 or float32; stored as float16
    embedder: str
    articles: dict[str, str]
    articles_dir: str = ""
    dense_index: str = "auto"
    # A float16 .npy already holding `vectors` (the build streams them to disk): moved into the
    # generation instead of written again; `vectors` is then its read-only memory map.
    vectors_file: Path | None = None
    show_progress: bool = False  # name each step on stderr, with its seconds
    listing: FolderListing | None = None  # the articles folder as read: written beside the manifest


class _Stages:
    """Names each step of writing a generation on stderr and how long it took: at a million
    passages the keyword index alone takes minutes, and a silent terminal looks hung."""

    def __init__(self, show: bool):
        self.show, self.name, self.started = show, "", 0.0

    def start(self, name: str) -> None:
        self.done()
        self.name, self.started = name, time.perf_counter()
        if self.show:
            print(f"{name}...", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.name and self.show:
            print(f" {time.perf_counter() - self.started:.1f} s", file=sys.stderr, flush=True)
        self.name = ""


def write_generation(index_dir: Path, contents: IndexContents) -> Path:
    """Write a complete new generation, then switch CURRENT to it. Call under build_lock."""
    # heavy imports only where an index is written
    from qa.store.local.dense import write_dense_index
    from qa.store.local.keyword import write_keyword_index

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    _remove_unfinished_builds(index_dir)
    number = 1 + max(
        (int(p.name[4:]) for p in index_dir.glob("gen-[0-9]*") if p.name[4:].isdigit()), default=0
    )
    staging = index_dir / f".building-{number:06d}-{os.getpid()}"
    staging.mkdir()
    if contents.vectors_file is not None:
        os.replace(contents.vectors_file, staging / VECTORS_FILE)
        vectors = load_npy(staging / VECTORS_FILE, mmap_mode="r")
        if vectors.dtype != VECTOR_DTYPE:
            raise ValueError(f"the streamed vectors file holds {vectors.dtype}, not {np.dtype(VECTOR_DTYPE)}")
    else:
        vectors = np.asarray(contents.vectors)
        if vectors.dtype not in (np.float16, np.float32):
            raise ValueError(
                f"vectors must be a float16 or float32 matrix, got {vectors.dtype} {vectors.shape}"
            )
        vectors = np.ascontiguousarray(vectors, dtype=VECTOR_DTYPE)
    if len(vectors) and vectors.ndim != 2:
        raise ValueError(f"vectors must be a matrix, got shape {vectors.shape}")
    if len(contents.passages) != len(vectors):
        raise ValueError(f"{len(contents.passages)} passages but {len(vectors)} vectors")

    progress = _Stages(contents.show_progress)
    progress.start("writing passages")
    written = table.write_passages(staging, contents.passages, contents.articles)
    if contents.vectors_file is None:
        with open(staging / VECTORS_FILE, "wb") as handle:
            np.save(handle, vectors)
    pause_for_tests("writing")
    progress.start("building the vector index")
    # Read back with pread, not the map: FAISS's training sample touches nearly every page, and
    # mapped pages count as the build's resident memory (0.5 GB of the peak at 1M passages).
    rows = VectorRows(staging / VECTORS_FILE)
    try:
        dense_description = write_dense_index(staging / DENSE_FILE, rows, contents.dense_index)
    finally:
        rows.close()
    progress.start("building the keyword index")
    write_keyword_index(staging / KEYWORD_DIR, [p.text for p in contents.passages])
    progress.start("checksums")

    files = {
        str(path.relative_to(staging)): sha256_file(path)
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    }
    # Every file on disk before the manifest names it and CURRENT points at it: after a power cut
    # the live generation is whole, not a set of names with empty files behind them.
    for relative in files:
        fsync_file(staging / relative)
    for folder in {(staging / relative).parent for relative in files}:
        fsync_dir(folder)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        embedder=contents.embedder,
        dimension=int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        passage_count=len(contents.passages),
        article_count=len(contents.articles),
        corpus_fingerprint=corpus_fingerprint(contents.articles),
        dense_index=dense_description,
        files=files,
        sizes={relative: (staging / relative).stat().st_size for relative in files},
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        articles_dir=contents.articles_dir,
        first_date=written.first_date,
        last_date=written.last_date,
    )
    progress.done()
    if contents.listing is not None:  # after the checksums: a later build may replace it (replace_listing)
        write_durably(staging / LISTING_FILE, contents.listing.to_json().encode())
    write_durably(staging / MANIFEST_FILE, manifest.to_json().encode())
    fsync_dir(staging)

    generation = index_dir / f"gen-{number:06d}"
    os.rename(staging, generation)
    pointer_tmp = index_dir / f".{CURRENT_FILE}.tmp"
    write_durably(pointer_tmp, generation.name.encode())
    pause_for_tests("before-commit")
    os.replace(pointer_tmp, index_dir / CURRENT_FILE)  # the commit point
    fsync_dir(index_dir)
    pause_for_tests("after-commit")
    _remove_old_generations(index_dir, live=generation.name)
    return generation


def _remove_unfinished_builds(index_dir: Path) -> None:
    for leftover in index_dir.glob(".building-*"):
        logger.info("Removing %s, left by an interrupted build", leftover)
        shutil.rmtree(leftover, ignore_errors=True)


def _remove_old_generations(index_dir: Path, live: str) -> None:
    """Remove generations older than the one before `live`.

    The previous one stays until the next build commits: a reader that read CURRENT just before
    this commit still finds its files, and a damaged live generation has one to fall back to.
    """
    older = sorted((p for p in index_dir.glob("gen-*") if p.name < live), key=lambda p: p.name)
    for old in [*older[:-1], *(p for p in index_dir.glob("gen-*") if p.name > live)]:
        shutil.rmtree(old, ignore_errors=True)
