"""An addition as a new segment: only the new or changed articles are split, embedded and indexed;
the removed or changed ones become tombstones in the segments that hold them.

Adding one article to a million passages writes a segment of a few passages (its own FAISS, BM25
term frequencies, passages and dates) and a generation that hard-links every other segment: seconds,
where a rewrite of the whole index takes minutes (docs/benchmarks.md, "Segments").
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

import qa.store.local.table as table
from qa.ingest.listing import FolderListing
from qa.ingest.split import split_article
from qa.store.local.files import PASSAGES_FILE, Manifest, read_manifest
from qa.store.local.generations import IndexContents, write_generation
from qa.store.local.npy import load_npy
from qa.store.local.order import ArticleLookup, current_codes, drop_rows, insert_sorted
from qa.store.local.segments import SegmentInfo, segment_infos
from qa.store.report import BuildReport, IndexStatus
from qa.types import Article, Embedder, Passage

logger = logging.getLogger(__name__)


def tombstones_for(
    generation: Path, manifest: Manifest, gone: set[str]
) -> tuple[list[SegmentInfo], dict[str, np.ndarray]]:
    """The live generation's segments with the articles in `gone` tombstoned: (their infos, segment
    name -> every deleted row)."""
    infos, rows = [], {}
    for info in segment_infos(manifest):
        deleted = list(load_npy(generation / info.tombstones)) if info.deleted else []
        passages = table.PassageTable(info.folder(generation) / PASSAGES_FILE)
        try:
            already = set(info.deleted_articles)
            here = {a for a in passages.article_hashes() if a not in already} & gone
            if here:
                deleted += [row for row, _, _ in passages.texts_by_id(here)]
        finally:
            passages.close()
        if here:
            info = replace(info, deleted=len(set(deleted)), deleted_articles=tuple(sorted(already | here)))
        infos.append(info)
        if info.deleted:
            rows[info.name] = np.unique(np.asarray(deleted, dtype=np.int64))
    return infos, rows


def append_segment(
    index_dir: Path,
    generation: Path,
    manifest: Manifest,
    status: IndexStatus,
    articles: Sequence[Article],
    embedder: Embedder,
    *,
    live: Mapping[str, str] | None = None,
    articles_dir: str,
    listing: FolderListing | None,
    show_progress: bool,
    write_vectors,
    checkpoints,
) -> tuple[Path, int, int]:
    """Write the generation that adds `status`'s new and changed articles as one segment and
    tombstones its changed and removed ones: (the generation, passages embedded, of those resumed).
    `articles` holds at least the new and changed articles; `live` every article served after the
    addition (default: `articles` are all of them).

    `write_vectors` and `checkpoints` are qa/store/local/build.py's: the segment's vectors are
    embedded in chunks and checkpointed like a full build's, so a killed addition resumes too.
    """
    fresh = set(status.added) | set(status.changed)
    gone = set(status.changed) | set(status.removed)
    codes = current_codes(generation, segment_infos(manifest))
    kept, tombstones = tombstones_for(generation, manifest, gone)
    new_articles = sorted((a for a in articles if a.article_id in fresh), key=lambda a: a.article_id)
    passages: list[Passage] = [p for article in new_articles for p in split_article(article)]
    codes = drop_rows(codes, {i: tombstones[info.name] for i, info in enumerate(kept) if info.deleted})
    if passages:
        lookup = ArticleLookup(generation, kept)
        try:
            codes = insert_sorted(codes, lookup, [p.article_id for p in passages], len(kept))
        finally:
            lookup.close()
    vectors_file = index_dir / f".vectors-{os.getpid()}.npy.tmp"
    try:
        embedded, resumed = write_vectors(
            vectors_file, passages, [-1] * len(passages), None, embedder, show_progress, checkpoints
        )
        live = live if live is not None else {a.article_id: a.content_hash for a in articles}
        new = IndexContents(
            passages=passages,
            vectors=load_npy(vectors_file, mmap_mode="r"),
            embedder=embedder.name,
            articles=live,
            articles_dir=articles_dir,
            vectors_file=vectors_file,
            show_progress=show_progress,
            listing=listing,
            articles_written={a.article_id: a.content_hash for a in new_articles},
        )
        written = write_generation(
            index_dir, new, base=generation, kept=kept, tombstones=tombstones, order=codes
        )
    finally:
        vectors_file.unlink(missing_ok=True)
    logger.info(
        "Added a segment of %d passages to %s; %d articles tombstoned", len(passages), index_dir, len(gone)
    )
    return written, embedded, resumed


def add_articles(
    index_dir: Path, previous, changes, embedder: Embedder, *, started: float, checkpoints, **options
) -> BuildReport:
    """append_segment, then the merge policy (qa/store/local/merge.py), as one build: its report.

    `previous`: build.py's view of the live generation; `changes`: the folder against it
    (qa/store/local/changes.py FolderChanges; `live` empty when `articles` are all of the folder's).
    """
    from qa.store.local.merge import merge_by_policy

    written, embedded, resumed = append_segment(
        index_dir,
        previous.generation,
        previous.manifest,
        changes.status,
        changes.articles,
        embedder,
        live=changes.live or None,
        listing=changes.listing,
        checkpoints=checkpoints,
        **options,
    )
    checkpoints.remove()  # committed: the next build starts from the index itself
    written = merge_by_policy(index_dir) or written
    manifest = read_manifest(index_dir, written)
    return BuildReport(
        changes.status,
        manifest.passage_count,
        embedded,
        time.perf_counter() - started,
        written,
        resumed_passages=resumed,
        articles=manifest.article_count,
        disk_bytes=sum(manifest.sizes.values()),
    )
