"""The index on disk: passages, their vectors, a FAISS index and a keyword index, described by a manifest.

Layout of an index directory:

    CURRENT              name of the live generation ("gen-000007"); replaced atomically
    .lock                held while a build runs (one writer at a time)
    gen-000007/
        manifest.json    format version, embedder, dimension, counts, date range, fingerprint, file sizes
                         and checksums
        passages.sqlite  the passages by row, read on demand (qa/store/local/table.py); row i is vector i
        dates.npy        int32 per passage, YYYYMMDD (0: undated): the date filter's column
        sources.npy      int32 per passage, its source text's row: the source filter's column
        vectors.npy      float16 (n, dim), L2-normalised: the one exact copy of the vectors, memory-mapped;
                         rescores FAISS's candidates and is reused by incremental builds
        dense.faiss      FAISS index over them: exact (Flat) up to 50k passages, IVF over 8-bit codes
                         above; memory-mapped on load
        keyword/         bm25s index over the same passages, same order, memory-mapped on load
        listing.json     the articles folder as the build read it: each file's path, size and mtime
                         (qa/ingest/listing.py), so that a status check of an unchanged folder reads
                         no article. A cache, outside the manifest's checksums: a build that finds
                         the folder's contents unchanged but its stamps not (a touched file, an index
                         from before listings) replaces it; missing or unreadable, status compares contents

Why float16 beside the FAISS index, and not fp32 or the vectors read back from a Flat index: at a
million passages fp32 vectors cost 1.5 GB of disk (384 dimensions) and an exact Flat index as much
in memory, with a search slower than the 50 ms a question may take; fp16 halves the disk, moves a
cosine by about 1e-4, and a question pages in only the rows it rescores (docs/benchmarks.md).

A build writes a new generation beside the live one and only then points CURRENT at it, so a crash
at any moment leaves the previous generation loadable (ANCHORS: "index out of step with passages").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.ingest.listing import FolderListing
import qa.store.local.table as table
from qa.store.lock import exclusive_build
from qa.store.local.npy import HEADER_LOCK, load_npy
from qa.store.protocol import StoreError
from qa.types import Passage

if TYPE_CHECKING:
    import faiss

    from qa.store.local.keyword import KeywordIndex

logger = logging.getLogger(__name__)

# 2: passages in SQLite, filter columns, float16 vectors (1: passages.jsonl and float32 vectors).
FORMAT_VERSION = 2
CURRENT_FILE = "CURRENT"
LOCK_FILE = ".lock"
MANIFEST_FILE = "manifest.json"
PASSAGES_FILE = table.PASSAGES_FILE
DATES_FILE = table.DATES_FILE
SOURCES_FILE = table.SOURCES_FILE
VECTORS_FILE = "vectors.npy"
VECTOR_DTYPE = np.float16
DENSE_FILE = "dense.faiss"
KEYWORD_DIR = "keyword"
LISTING_FILE = "listing.json"


class IndexStoreError(StoreError):
    """Anything wrong with an index on disk; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    format_version: int
    embedder: str
    dimension: int
    passage_count: int
    article_count: int
    corpus_fingerprint: str  # sha256 over the sorted (article_id, content_hash) pairs
    dense_index: str  # FAISS factory description, e.g. "Flat" or "HNSW32"
    files: dict[str, str]  # relative path -> sha256: `qa index --check` and builds that reuse it
    created: str
    # Format 1 listed article_id -> content_hash here: 22 MB of JSON, parsed twice by every `qa ask`,
    # at a million passages. Format 2 keeps them in passages.sqlite (read_article_hashes).
    articles: dict[str, str] = field(default_factory=dict)
    articles_dir: str = ""
    # relative path -> bytes, checked at every load (cheap at any size; indexes written before
    # sizes were recorded are checked by their checksums instead)
    sizes: dict[str, int] = field(default_factory=dict)
    first_date: str | None = None  # oldest and newest passage date: the chat's summary without a scan
    last_date: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)


def corpus_fingerprint(article_hashes: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for article_id in sorted(article_hashes):
        digest.update(f"{article_id}\0{article_hashes[article_id]}\n".encode())
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def pause_for_tests(stage: str) -> None:
    """A test hook, used by tests/test_crash_safety.py only; does nothing unless asked to.

    With QA_TEST_PAUSE_AT=<stage> in the environment, a build prints "QA_TEST_PAUSED <stage>" and
    sleeps (QA_TEST_PAUSE_SECONDS, default 600) at that point, so that a test can kill it with
    SIGKILL exactly there. Stages: "embedding" (qa/build.py), "writing" (half the new generation
    on disk), "before-commit" (generation complete, CURRENT not yet switched), "after-commit"
    (CURRENT switched, old generations not yet removed).
    """
    if os.environ.get("QA_TEST_PAUSE_AT") == stage:
        print(f"QA_TEST_PAUSED {stage}", flush=True)
        time.sleep(float(os.environ.get("QA_TEST_PAUSE_SECONDS", "600")))


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder, or None when the directory holds no index."""
    pointer = Path(index_dir) / CURRENT_FILE
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    generation = Path(index_dir) / name
    return generation if name.startswith("gen-") and generation.is_dir() else None


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
    or the previous generation when the kill came between the switch of CURRENT and its removal. Nothing is removed
    while CURRENT names no generation: those folders may be all that is left of the index.
    """
    _remove_unfinished_builds(index_dir)
    for partial in index_dir.glob(".vectors-*.npy.tmp"):  # qa/build.py streams vectors there first
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
        str(path.relative_to(staging)): _sha256_file(path)
        for path in sorted(staging.rglob("*"))
        if path.is_file()
    }
    # Every file on disk before the manifest names it and CURRENT points at it: after a power cut
    # the live generation is whole, not a set of names with empty files behind them.
    for relative in files:
        _fsync_file(staging / relative)
    for folder in {(staging / relative).parent for relative in files}:
        _fsync_dir(folder)
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
        _write_durably(staging / LISTING_FILE, contents.listing.to_json().encode())
    _write_durably(staging / MANIFEST_FILE, manifest.to_json().encode())
    _fsync_dir(staging)

    generation = index_dir / f"gen-{number:06d}"
    os.rename(staging, generation)
    pointer_tmp = index_dir / f".{CURRENT_FILE}.tmp"
    _write_durably(pointer_tmp, generation.name.encode())
    pause_for_tests("before-commit")
    os.replace(pointer_tmp, index_dir / CURRENT_FILE)  # the commit point
    _fsync_dir(index_dir)
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


def read_manifest(index_dir: Path, generation: Path | None = None) -> Manifest:
    """The manifest of `generation` (default: the live one)."""
    generation = generation if generation is not None else current_generation(Path(index_dir))
    if generation is None:
        raise IndexStoreError(
            f"No index in {index_dir}. Build one with: qa index --articles DIR --index {index_dir}"
        )
    try:
        data = json.loads((generation / MANIFEST_FILE).read_text(encoding="utf-8"))
        manifest = Manifest(**data)
        # Valid JSON of the wrong shape would otherwise fail later, far from its cause.
        for name, kind in (
            ("files", dict),
            ("sizes", dict),
            ("articles", dict),
            ("passage_count", int),
            ("dimension", int),
        ):
            if not isinstance(getattr(manifest, name), kind):
                raise TypeError(f"{name!r} is not a {kind.__name__}")
        return manifest
    except (OSError, ValueError, TypeError) as error:
        raise IndexStoreError(
            f"The index in {index_dir} is damaged ({MANIFEST_FILE}: {error}). "
            f"Rebuild it with: qa index --rebuild --articles DIR --index {index_dir}"
        ) from error


def check_compatible(manifest: Manifest, index_dir: Path, embedder: str | None) -> None:
    rebuild = f"Rebuild it with: qa index --rebuild --articles DIR --index {index_dir}"
    if manifest.format_version != FORMAT_VERSION:
        raise IndexStoreError(
            f"The index in {index_dir} has format version {manifest.format_version}; "
            f"this version of qa reads format {FORMAT_VERSION}. {rebuild}"
        )
    if embedder is not None and manifest.embedder != embedder:
        raise IndexStoreError(
            f"The index in {index_dir} was built with the embedding model {manifest.embedder!r}, "
            f"not {embedder!r}; its vectors cannot be searched with another model. "
            f"Use --embedder {manifest.embedder} or {rebuild[0].lower()}{rebuild[1:]}"
        )


def verify_files(generation: Path, manifest: Manifest, index_dir: Path, *, checksums: bool = False) -> None:
    """Refuse a generation whose files are missing or not as written: by size (every load; a cut
    short or emptied file), or by sha256 (`checksums`, or an index with no sizes recorded)."""
    by_checksum = checksums or not manifest.sizes
    for relative, expected in manifest.files.items():
        path = generation / relative
        try:  # missing, or removed while we read it (a concurrent build's clean-up): OSError
            ok = (
                _sha256_file(path) == expected
                if by_checksum
                else path.stat().st_size == manifest.sizes.get(relative)
            )
        except OSError:
            ok = False
        if not ok:
            raise IndexStoreError(
                f"The index in {index_dir} is damaged: {relative} is missing or not as it was written "
                f"(its {'checksum' if by_checksum else 'size'} differs). Rebuild it with: qa index --rebuild --index {index_dir}"
            )


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


def read_listing(generation: Path) -> FolderListing | None:
    """The articles folder as the generation's build read it; None when there is no usable listing
    (an index from before listings, a damaged file): the caller then compares contents."""
    try:
        return FolderListing.from_json((generation / LISTING_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        logger.info(
            "Ignoring the folder listing of %s (%s); the status check compares contents", generation, error
        )
        return None


def replace_listing(generation: Path, listing: FolderListing) -> None:
    """Record a newer listing of the same folder contents in the live generation. Call under
    build_lock, only after comparing the folder's content hashes with the generation's: the
    listing vouches for them. Whole or absent (a crash leaves the old listing, or none)."""
    for leftover in generation.glob(f".{LISTING_FILE}.*.tmp"):  # a build killed mid-write
        leftover.unlink(missing_ok=True)
    partial = generation / f".{LISTING_FILE}.{os.getpid()}.tmp"
    try:
        _write_durably(partial, listing.to_json().encode())
        os.replace(partial, generation / LISTING_FILE)
    finally:
        partial.unlink(missing_ok=True)


def read_vectors(generation: Path, *, mmap: bool = True) -> np.ndarray:
    """float16 (n, dim), memory-mapped unless `mmap` is False."""
    return load_npy(generation / VECTORS_FILE, mmap_mode="r" if mmap else None)


class VectorRows:
    """Rows of a .npy matrix read with pread, a few at a time, nothing mapped.

    A question rescores ~160 scattered rows of 512 bytes. Read through a memory map, each fault
    mapped the whole cached folio around its row (MADV_RANDOM did not change it): a chat server's
    RSS grew by 0.34 GiB in 20 questions at 1M passages for 1.6 MB of rows. pread copies the row
    and leaves the page cache to the kernel, at ~2 microseconds a row.
    """

    def __init__(self, path: Path):
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            with HEADER_LOCK:  # see qa/store/local/npy.py
                shape, fortran_order, dtype = read_header(handle)
            self._offset = handle.tell()
        if fortran_order or len(shape) != 2:
            raise ValueError(f"{path} is not a C-ordered matrix")
        self.shape, self.dtype = shape, np.dtype(dtype)
        self._row_bytes = shape[1] * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice | Sequence[int] | np.ndarray) -> np.ndarray:
        """A slice of rows in one read (as stored), or rows by number (float32): what a FAISS build reads."""
        if not isinstance(key, slice):
            return self.rows(np.asarray(key).reshape(-1).tolist())
        start, stop, step = key.indices(self.shape[0])
        if step != 1:
            return self.rows(range(start, stop, step))
        count = max(0, stop - start)
        raw = os.pread(self._fd, count * self._row_bytes, self._offset + start * self._row_bytes)
        if len(raw) != count * self._row_bytes:
            raise IndexStoreError(
                f"vectors.npy ends before row {stop}: the index is damaged; rebuild it with qa index --rebuild"
            )
        return np.frombuffer(raw, dtype=self.dtype).reshape(count, self.shape[1])

    def rows(self, rows: Sequence[int]) -> np.ndarray:
        """The rows asked for, in order, as float32 (rows are checked by the caller)."""
        out = np.empty((len(rows), self.shape[1]), dtype=np.float32)
        for i, row in enumerate(rows):
            raw = os.pread(self._fd, self._row_bytes, self._offset + int(row) * self._row_bytes)
            if len(raw) != self._row_bytes:
                raise IndexStoreError(
                    f"vectors.npy ends before row {row}: the index is damaged; rebuild it with qa index --rebuild"
                )
            out[i] = np.frombuffer(raw, dtype=self.dtype)
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


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
    """Open the live generation, refusing a damaged or incompatible one with a message that says what to do."""
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
