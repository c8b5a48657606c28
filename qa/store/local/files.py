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
        keyword/         BM25 term frequencies over the same passages, same order (qa/store/local/keyword.py;
                         bm25s's own files in format 2), memory-mapped on load
        listing.json     the articles folder as the build read it: each file's path, size and mtime
                         (qa/ingest/listing.py), so that a status check of an unchanged folder reads
                         no article. A cache, outside the manifest's checksums: a build that finds
                         the folder's contents unchanged but its stamps not (a touched file, an index
                         from before listings) replaces it; missing or unreadable, status compares contents

        seg-000009/      a segment added by a later build (format 3): the same files as above, for
                         the new or changed articles only (qa/store/local/segments.py)
        tombstones/      per segment, the rows of removed or changed articles (int64 .npy)
        order.npy        with several segments: the live rows in the order a fresh build would
                         write them (by article id), int64 (segment index << 40 | row); the Store's
                         row numbers, so that ties rank as in one fresh index

The files above the seg-* folders are the generation's first segment. Segments are immutable: a new
generation hard-links the files of the segments it keeps (copies where links fail), so every
generation folder is whole on its own and removing an old one never touches a live file.

Why float16 beside the FAISS index, and not fp32 or the vectors read back from a Flat index: at a
million passages fp32 vectors cost 1.5 GB of disk (384 dimensions) and an exact Flat index as much
in memory, with a search slower than the 50 ms a question may take; fp16 halves the disk, moves a
cosine by about 1e-4, and a question pages in only the rows it rescores (docs/benchmarks.md).

A build writes a new generation beside the live one and only then points CURRENT at it, so a crash
at any moment leaves the previous generation loadable (ANCHORS: "index out of step with passages").
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import qa.store.local.table as table
from qa.store.protocol import StoreError

logger = logging.getLogger(__name__)

# 3: segments, tombstones, BM25 as term frequencies (2: passages in SQLite, filter columns, float16
# vectors, bm25s's index, one segment; 1: passages.jsonl and float32 vectors).
FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)
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
TOMBSTONE_DIR = "tombstones"
ORDER_FILE = "order.npy"


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
    # Format 3: the live segments, oldest first (qa/store/local/segments.py SegmentInfo); format 2
    # lists none and is one segment, the generation folder itself.
    segments: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)


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
            ("segments", list),
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
