"""The FAISS vector index: exact for small corpora, approximate (IVF over 8-bit codes) for archives.

An index is described by a FAISS factory string plus its search-time parameters in FAISS's
ParameterSpace syntax, e.g. ``"IVF4096,SQ8|nprobe=32"`` or ``"HNSW32|efSearch=128"``. The manifest
records the whole description and :func:`read_dense_index` applies the parameters on load, so a
user override (``qa index --dense-index "IVF4096,SQ8|nprobe=64"``) holds for every later search.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import faiss
import numpy as np

from qa import config

logger = logging.getLogger(__name__)

# The tunables (exact-search limit, nprobe, efSearch, chunk and sample sizes) are in qa/config.py.


def _ivf_lists(passage_count: int) -> int:
    # A power of two near 4 * sqrt(n), at least 256 lists.
    return max(256, 2 ** round(math.log2(4 * math.sqrt(max(passage_count, 1)))))


def split_description(description: str) -> tuple[str, str]:
    """("IVF4096,SQ8", "nprobe=32") from "IVF4096,SQ8|nprobe=32"."""
    factory, _, params = description.partition("|")
    return factory.strip(), params.strip()


def _default_params(factory: str) -> str:
    head = factory.split(",")[0].upper()
    if "IVF" in factory.upper():
        return f"nprobe={config.DEFAULT_NPROBE}"
    if head.startswith("HNSW") or ",HNSW" in factory.upper():
        return f"efSearch={config.DEFAULT_EF_SEARCH}"
    return ""


def choose_factory(passage_count: int, requested: str = "auto") -> str:
    """The index description for a corpus of this size; `requested` other than "auto" wins.

    Search parameters are added where the description has none, so the result is what the
    manifest records and what a later build compares against.

    >>> choose_factory(1_000), choose_factory(1_000_000)
    ('Flat', 'IVF4096,SQ8|nprobe=32')
    >>> choose_factory(10, "HNSW32")
    'HNSW32|efSearch=128'
    """
    requested = (requested or "auto").strip()
    if requested.lower() == "auto":
        if passage_count <= config.EXACT_SEARCH_MAX_PASSAGES:
            return "Flat"
        factory, params = f"IVF{_ivf_lists(passage_count)},SQ8", ""
    else:
        factory, params = split_description(requested)
    params = params or _default_params(factory)
    return f"{factory}|{params}" if params else factory


def apply_search_params(index: faiss.Index, params: str) -> None:
    """Set search-time parameters ("nprobe=32", "efSearch=128,...") on a loaded index."""
    if not params:
        return
    try:
        faiss.ParameterSpace().set_index_parameters(index, params)
    except RuntimeError as error:
        raise ValueError(f"Bad FAISS search parameters {params!r}: {error}") from error


def build_dense_index(vectors: np.ndarray, requested: str = "auto") -> tuple[faiss.Index, str]:
    """A FAISS index over `vectors` (an array or a read-only memory map), added in chunks."""
    description = choose_factory(len(vectors), requested)
    factory, params = split_description(description)
    dimension = vectors.shape[1]
    try:
        index = faiss.index_factory(dimension, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as error:
        raise ValueError(f"Unknown FAISS index description {factory!r}: {error}") from error
    if not index.is_trained:
        ivf = faiss.try_extract_index_ivf(index)
        sample_size = (
            len(vectors) if ivf is None else min(len(vectors), config.TRAIN_POINTS_PER_LIST * ivf.nlist)
        )
        if ivf is not None and len(vectors) < ivf.nlist:
            raise ValueError(
                f"{factory!r} needs at least {ivf.nlist} passages to train, got {len(vectors)}; "
                "use --dense-index auto or Flat"
            )
        # An evenly spaced sample: memory-mapped rows are read once, in order.
        rows = (
            np.linspace(0, len(vectors) - 1, num=sample_size).astype(np.int64)
            if sample_size
            else np.zeros(0, np.int64)
        )
        index.train(np.ascontiguousarray(vectors[rows], dtype=np.float32))
    for start in range(0, len(vectors), config.DENSE_ADD_CHUNK):
        index.add(np.ascontiguousarray(vectors[start : start + config.DENSE_ADD_CHUNK], dtype=np.float32))
    apply_search_params(index, params)
    return index, description


def write_dense_index(path: Path, vectors: np.ndarray, requested: str = "auto") -> str:
    index, description = build_dense_index(vectors, requested)
    faiss.write_index(index, str(path))
    return description


def read_dense_index(path: Path, description: str | None = None, *, mmap: bool = False) -> faiss.Index:
    """Load an index and set the search parameters its description (from the manifest) names.

    `mmap`: map the file instead of reading it (IVF lists and Flat codes): a load costs nothing at
    any size, and a question pages in only the lists it probes (an IVF index at a million
    passages: 0.4 GB of codes, of which 32 of 4096 lists are read a question).
    """
    index = None
    if mmap:
        # IVF lists map with IO_FLAG_MMAP, flat codes (Flat, HNSW's storage) with IO_FLAG_MMAP_IFC;
        # FAISS refuses the two together for IVF. A kind it cannot map is read into memory.
        ivf = "IVF" in split_description(description or "")[0].upper()
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP if ivf else faiss.IO_FLAG_MMAP_IFC)
        except RuntimeError as error:
            logger.info("Reading %s into memory (FAISS cannot map it: %s)", path, str(error).splitlines()[0])
    if index is None:
        index = faiss.read_index(str(path))
    if description is not None:
        apply_search_params(index, split_description(description)[1])
    return index


def _search_parameters(index: faiss.Index, selector: faiss.IDSelector) -> faiss.SearchParameters:
    """Filter parameters of the index's own kind, carrying its nprobe / efSearch (FAISS would
    otherwise search an IVF index with the defaults of a fresh SearchParametersIVF)."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe)
    inner = faiss.downcast_index(index)
    if hasattr(inner, "hnsw"):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=inner.hnsw.efSearch)
    return faiss.SearchParameters(sel=selector)


def search(
    index: faiss.Index,
    query_vectors: np.ndarray,
    k: int,
    allowed: np.ndarray | None = None,
    *,
    selector: tuple[faiss.IDSelector, np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) for each query; ids are -1 where fewer than k passages qualify.

    `allowed` is a sorted int64 array of passage ids a filter lets through, or None for all;
    `selector`, one made by make_selector and kept (a segment's live rows), is used instead.
    """
    k = min(k, index.ntotal)
    if k <= 0:
        empty = np.zeros((len(query_vectors), 0))
        return empty.astype(np.float32), empty.astype(np.int64)
    params = None
    if allowed is not None and selector is None:
        selector = make_selector(allowed, index.ntotal)
    if selector is not None:
        params = _search_parameters(index, selector[0])
    scores, ids = index.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k, params=params)
    return scores, ids


def make_selector(allowed: np.ndarray, total: int) -> tuple[faiss.IDSelector, np.ndarray | None]:
    """A FAISS selector for these ids, and the array it reads (keep it alive while searching).

    A few ids: a hash set. Many: a bitmap, one bit a passage, built in a millisecond where a hash
    set of half a million ids takes tens (a date filter over a million passages).
    """
    if len(allowed) < config.SELECTOR_BITMAP_MIN:
        return faiss.IDSelectorBatch(allowed), None
    mask = np.zeros(total, dtype=bool)
    mask[allowed] = True
    bits = np.packbits(mask, bitorder="little")
    return faiss.IDSelectorBitmap(total, faiss.swig_ptr(bits)), bits
