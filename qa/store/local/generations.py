"""Writing a generation: one build at a time (build_lock), a new generation written beside the live
one, fsynced, then made live by replacing CURRENT; and the tidying of what interrupted builds left."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import qa.store.local.table as table
from qa.ingest.listing import FolderListing
from qa.store.local.durable import fsync_dir, fsync_file, sha256_file, write_durably
from qa.store.local.files import (
    CURRENT_FILE,
    DATES_FILE,
    DENSE_FILE,
    FORMAT_VERSION,
    KEYWORD_DIR,
    LISTING_FILE,
    LOCK_FILE,
    MANIFEST_FILE,
    ORDER_FILE,
    TOMBSTONE_DIR,
    VECTOR_DTYPE,
    VECTORS_FILE,
    IndexStoreError,
    Manifest,
    current_generation,
    read_manifest,
)
from qa.store.local.npy import load_npy
from qa.store.local.segments import SEGMENT_PREFIX, SegmentInfo
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
    # The hashes of the articles in this segment, when `articles` names every article served (an
    # addition): what the segment's table records.
    articles_written: Mapping[str, str] | None = None


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


def write_generation(
    index_dir: Path,
    contents: IndexContents,
    *,
    base: Path | None = None,
    kept: Sequence[SegmentInfo] = (),
    tombstones: Mapping[str, np.ndarray] | None = None,
    order: np.ndarray | None = None,
) -> Path:
    """Write a complete new generation, then switch CURRENT to it. Call under build_lock.

    Without `base`: one segment, `contents`, in the generation folder itself (a first build, a
    rebuild, a full merge). With `base` (the live generation): its segments named in `kept` are
    hard-linked in unchanged, with `tombstones` (segment name -> its deleted rows, all of them) for
    those that lost passages, and `contents`, when it holds passages, is a new small segment
    `seg-NNNNNN/` (an addition; the merge of small segments). `contents.articles` is then every
    article the generation serves, and `order` the live rows in fresh-build order (order.npy;
    qa/store/local/order.py), the new segment's index being len(kept).
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    _remove_unfinished_builds(index_dir)
    number = 1 + max(
        (int(p.name[4:]) for p in index_dir.glob("gen-[0-9]*") if p.name[4:].isdigit()), default=0
    )
    staging = index_dir / f".building-{number:06d}-{os.getpid()}"
    staging.mkdir()
    progress = _Stages(contents.show_progress)
    files: dict[str, str] = {}
    infos: list[SegmentInfo] = []
    if base is not None:
        base_manifest = read_manifest(index_dir, base)
        files, infos = _link_segments(base, base_manifest, staging, kept, tombstones or {})
    new_name = "" if base is None else f"{SEGMENT_PREFIX}{number:06d}"
    dimension = None
    if base is None or len(contents.passages):
        folder = staging / new_name if new_name else staging
        folder.mkdir(exist_ok=True)
        description, dimension = _write_segment(folder, contents, progress)
        infos.append(SegmentInfo(new_name, len(contents.passages), description))
        progress.start("checksums")
        for path in sorted(folder.rglob("*")):
            relative = str(path.relative_to(staging))
            if path.is_file() and (base is None or relative.startswith(new_name)):
                files[relative] = sha256_file(path)
    for info in infos:
        if info.deleted:
            files[info.tombstones] = sha256_file(staging / info.tombstones)
    if len(infos) > 1:
        if order is None or len(order) != sum(info.live for info in infos):
            raise ValueError(f"a generation of {len(infos)} segments needs the order of its live rows")
        with open(staging / ORDER_FILE, "wb") as handle:
            np.save(handle, np.asarray(order, dtype=np.int64))
        files[ORDER_FILE] = sha256_file(staging / ORDER_FILE)
    # Every file on disk before the manifest names it and CURRENT points at it: after a power cut
    # the live generation is whole, not a set of names with empty files behind them.
    for relative in files:
        fsync_file(staging / relative)
    for folder in {(staging / relative).parent for relative in files}:
        fsync_dir(folder)
    first, last = _date_range(staging, infos)
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        embedder=contents.embedder,
        dimension=dimension if dimension is not None else base_manifest.dimension,
        passage_count=sum(info.live for info in infos),
        article_count=len(contents.articles),
        corpus_fingerprint=corpus_fingerprint(contents.articles),
        dense_index=infos[0].dense_index,
        files=files,
        sizes={relative: (staging / relative).stat().st_size for relative in files},
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        articles_dir=contents.articles_dir,
        first_date=first,
        last_date=last,
        segments=[info.to_json() for info in infos],
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


def _write_segment(folder: Path, contents: IndexContents, progress: _Stages) -> tuple[str, int]:
    """Passages, filter columns, vectors, FAISS and keyword files of one segment: (FAISS description,
    dimension)."""
    # heavy imports only where an index is written
    from qa.store.local.dense import write_dense_index
    from qa.store.local.keyword import write_keyword_index

    if contents.vectors_file is not None:
        os.replace(contents.vectors_file, folder / VECTORS_FILE)
        vectors = load_npy(folder / VECTORS_FILE, mmap_mode="r")
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

    progress.start("writing passages")
    written = contents.articles_written if contents.articles_written is not None else contents.articles
    table.write_passages(folder, contents.passages, written)
    if contents.vectors_file is None:
        with open(folder / VECTORS_FILE, "wb") as handle:
            np.save(handle, vectors)
    pause_for_tests("writing")
    progress.start("building the vector index")
    # Read back with pread, not the map: FAISS's training sample touches nearly every page, and
    # mapped pages count as the build's resident memory (0.5 GB of the peak at 1M passages).
    rows = VectorRows(folder / VECTORS_FILE)
    try:
        description = write_dense_index(folder / DENSE_FILE, rows, contents.dense_index)
    finally:
        rows.close()
    progress.start("building the keyword index")
    write_keyword_index(folder / KEYWORD_DIR, [p.text for p in contents.passages])
    return description, int(vectors.shape[1]) if vectors.ndim == 2 else 0


def _link_segments(
    base: Path,
    manifest: Manifest,
    staging: Path,
    kept: Sequence[SegmentInfo],
    tombstones: Mapping[str, np.ndarray],
) -> tuple[dict[str, str], list[SegmentInfo]]:
    """Hard-link the kept segments' files from `base` into `staging` (a copy where the file system
    cannot link) and write their tombstones: (relative path -> checksum, the segments as listed)."""
    files: dict[str, str] = {}
    for info in kept:
        for relative, checksum in manifest.files.items():
            top = relative.split("/", 1)[0]
            mine = (
                top == info.name
                if info.name
                else not top.startswith((SEGMENT_PREFIX, TOMBSTONE_DIR, ORDER_FILE))
            )
            if not mine or relative.startswith(TOMBSTONE_DIR):
                continue
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(base / relative, target)
            except OSError:
                shutil.copy2(base / relative, target)
            files[relative] = checksum  # immutable: the checksum the segment was written with
        if info.deleted:
            rows = np.unique(np.asarray(tombstones[info.name], dtype=np.int64))
            (staging / TOMBSTONE_DIR).mkdir(exist_ok=True)
            with open(staging / info.tombstones, "wb") as handle:
                np.save(handle, rows)
    return files, list(kept)


def _date_range(generation: Path, infos: Sequence[SegmentInfo]) -> tuple[str | None, str | None]:
    """The oldest and newest date of the live passages: the chat's summary without a scan."""
    low, high = None, None
    for info in infos:
        dates = np.asarray(load_npy(info.folder(generation) / DATES_FILE))
        if info.deleted:
            dates = np.delete(dates, load_npy(generation / info.tombstones))
        dates = dates[dates > 0]
        if len(dates):
            low = int(dates.min()) if low is None else min(low, int(dates.min()))
            high = int(dates.max()) if high is None else max(high, int(dates.max()))
    return (table.iso_date(low) if low else None), (table.iso_date(high) if high else None)


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
