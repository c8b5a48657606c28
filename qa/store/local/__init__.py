"""The local store: an index folder of generations, each a list of immutable segments (passages in
SQLite + FAISS + BM25 term frequencies) with tombstones.

files.py      the on-disk format: layout, names, the manifest, which generation is live
durable.py    fsync and checksums          generations.py  writing a generation, one build at a time
checks.py     may a generation be served   listing.py      the folder as the build read it
vectors.py    the float16 vectors          loaded.py       opening the live generation for search
table.py      passages in SQLite           dense.py, keyword.py  the FAISS and BM25 indexes
segments.py   segments and their rows      order.py        rows in fresh-build order across segments
store.py      the Store over a LoadedIndex build.py        articles folder -> a new generation
changes.py    what changed, by stat        append.py       an addition as a new segment
merge.py      merging segments, the policy bm25s_index.py  format-2 keyword indexes, read only

The names most callers need are re-exported here (`from qa.store.local import open_index`); the
FAISS, bm25s and build modules are imported only where they are used.
"""

from qa.store.local.checks import check_compatible, verify_files
from qa.store.local.files import (
    CURRENT_FILE,
    DATES_FILE,
    DENSE_FILE,
    FORMAT_VERSION,
    KEYWORD_DIR,
    LISTING_FILE,
    LOCK_FILE,
    MANIFEST_FILE,
    PASSAGES_FILE,
    SOURCES_FILE,
    VECTOR_DTYPE,
    VECTORS_FILE,
    IndexStoreError,
    Manifest,
    current_generation,
    read_manifest,
)
from qa.store.local.generations import IndexContents, build_lock, write_generation
from qa.store.local.listing import read_listing, replace_listing
from qa.store.local.loaded import LoadedIndex, open_index, read_article_hashes, read_passages
from qa.store.local.vectors import VectorRows, read_vectors

__all__ = [
    "CURRENT_FILE",
    "DATES_FILE",
    "DENSE_FILE",
    "FORMAT_VERSION",
    "KEYWORD_DIR",
    "LISTING_FILE",
    "LOCK_FILE",
    "MANIFEST_FILE",
    "PASSAGES_FILE",
    "SOURCES_FILE",
    "VECTORS_FILE",
    "VECTOR_DTYPE",
    "IndexContents",
    "IndexStoreError",
    "LoadedIndex",
    "Manifest",
    "VectorRows",
    "build_lock",
    "check_compatible",
    "current_generation",
    "open_index",
    "read_article_hashes",
    "read_listing",
    "read_manifest",
    "read_passages",
    "read_vectors",
    "replace_listing",
    "verify_files",
    "write_generation",
]
