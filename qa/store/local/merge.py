"""Merging segments: many small segments rewritten as one, crash-safe like every build.

A merge is a build that embeds nothing: it writes a new generation whose merged segment holds the
live passages of the segments it replaces (tombstoned rows dropped), in the order a fresh build
would write them (by article id), then switches CURRENT. A reader keeps the generation it opened
(its files stay while it holds them; the previous generation is kept until the next commit).

The policy (choose_merge), after every addition, in the spirit of Lucene's TieredMergePolicy:
  * more than MAX_SEGMENTS segments: the two smallest later segments are merged, so sizes grow in
    tiers and each passage is rewritten about log2(its tier) times, never the whole index;
  * the later segments together as large as the first, or the first with more than a third of its
    rows tombstoned: everything is merged into one segment (a full rewrite, geometrically rarer).
`merge_segments` (`qa index --merge`) merges everything now.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.store.local.files import VECTOR_DTYPE, current_generation, read_manifest
from qa.store.local.generations import IndexContents, build_lock, write_generation
from qa.store.local.listing import read_listing
from qa.store.local.loaded import read_article_hashes
from qa.store.local.npy import load_npy
from qa.store.local.order import current_codes, renumber
from qa.store.local.segments import SegmentInfo, open_segment, segment_infos
from qa.store.report import BuildReport, IndexStatus

logger = logging.getLogger(__name__)

MAX_SEGMENTS = 10  # searched side by side at most; more are merged (bench: 20 segments cost 1.xx the time)
MAX_DELETED_FRACTION = 1 / 3  # of the first segment's rows tombstoned: rewrite it


def choose_merge(infos: Sequence[SegmentInfo]) -> tuple[str, ...] | None:
    """The names of the segments to merge now (all of them: a full merge), or None."""
    if len(infos) <= 1:
        return None
    first, later = infos[0], infos[1:]
    if sum(i.live for i in later) >= first.live or first.deleted > MAX_DELETED_FRACTION * first.passages:
        return tuple(i.name for i in infos)
    if len(infos) > MAX_SEGMENTS:
        smallest = sorted(later, key=lambda i: (i.live, i.name))[:2]
        return tuple(sorted(i.name for i in smallest))
    return None


def merge_by_policy(index_dir: Path) -> Path | None:
    """Merge what choose_merge names in the live generation; the new generation, or None. Call under
    build_lock."""
    manifest = read_manifest(index_dir)
    chosen = choose_merge(segment_infos(manifest))
    if chosen is None:
        return None
    return _merge(Path(index_dir), set(chosen))


def merge_segments(target, *, wait_seconds: float = 0.0, show_progress: bool = False) -> BuildReport:
    """Rewrite every live segment of an index folder as one: `qa index --merge`.

    `target`: the index folder, or a LocalLocation. One build at a time (build_lock): a build running
    makes this wait up to `wait_seconds`, then refuse. Readers keep serving the generation they opened.

    Example:
        >>> merge_segments("index/").generation  # doctest: +SKIP
        PosixPath('index/gen-000012')
    """
    index_dir = Path(getattr(target, "path", target))
    started = time.perf_counter()
    with build_lock(index_dir, wait_seconds=wait_seconds):
        manifest = read_manifest(index_dir)
        infos = segment_infos(manifest)
        done = None
        if len(infos) > 1 or infos[0].deleted or manifest.format_version != 3:
            done = _merge(index_dir, None, show_progress=show_progress)
        manifest = read_manifest(index_dir)
    status = IndexStatus((), (), (), manifest.article_count, (), has_index=True)
    return BuildReport(
        status,
        manifest.passage_count,
        0,
        time.perf_counter() - started,
        done,
        articles=manifest.article_count,
        disk_bytes=sum(manifest.sizes.values()),
    )


def _merge(index_dir: Path, names: set[str] | None, *, show_progress: bool = False) -> Path:
    """Write the generation in which the segments `names` (None: all) are one; return it."""
    from qa.store.local.dense import choose_factory

    generation = current_generation(index_dir)
    manifest = read_manifest(index_dir, generation)
    infos = segment_infos(manifest)
    chosen = [i for i in infos if names is None or i.name in names]
    segments = [open_segment(generation, info) for info in chosen]
    vectors_file = index_dir / f".vectors-{os.getpid()}.npy.tmp"
    try:
        # The order of a fresh build: by article id, each article's passages as split.
        found = sorted(
            (passage.article_id, s, int(row), passage)
            for s, segment in enumerate(segments)
            for row, passage in zip(segment.physical(np.arange(segment.count)), _iter_live(segment))
        )
        passages = [passage for *_, passage in found]
        rows_now = [np.full(info.passages, -1, dtype=np.int64) for info in chosen]  # row -> merged row
        for merged_row, (_, s, row, _) in enumerate(found):
            rows_now[s][row] = merged_row
        hashes: dict[str, str] = {}
        out = np.lib.format.open_memmap(
            vectors_file, mode="w+", dtype=VECTOR_DTYPE, shape=(len(found), manifest.dimension)
        )
        for s, segment in enumerate(segments):
            gone = set(segment.info.deleted_articles)
            hashes.update((a, h) for a, h in segment.passages.article_hashes().items() if a not in gone)
            at = [i for i, (_, owner, _, _) in enumerate(found) if owner == s]
            rows = [found[i][2] for i in at]
            for start in range(0, len(rows), 4096):
                out[at[start : start + 4096]] = segment.vector_rows.rows(rows[start : start + 4096])
        out.flush()
        del out, found
    finally:
        for segment in segments:
            segment.passages.close()
            segment.vector_rows.close()
    all_live = read_article_hashes(generation) if names is not None else hashes
    first = infos[0]
    auto = first.dense_index == choose_factory(first.passages, "auto")
    contents = IndexContents(
        passages=passages,
        vectors=load_npy(vectors_file, mmap_mode="r"),
        embedder=manifest.embedder,
        articles=all_live,
        articles_dir=manifest.articles_dir,
        dense_index="auto" if auto or names is not None else first.dense_index,
        vectors_file=vectors_file,
        show_progress=show_progress,
        listing=read_listing(generation),
        articles_written=hashes if names is not None else None,
    )
    try:
        if names is None:
            written = write_generation(index_dir, contents)
        else:
            kept = [i for i in infos if i.name not in names]
            tombstones = {i.name: load_npy(generation / i.tombstones) for i in kept if i.deleted}
            order = renumber(current_codes(generation, infos), _moves(infos, kept, chosen, rows_now))
            written = write_generation(
                index_dir, contents, base=generation, kept=kept, tombstones=tombstones, order=order
            )
    finally:
        vectors_file.unlink(missing_ok=True)
    logger.info("Merged %d segments of %s into one (%d passages)", len(chosen), index_dir, len(passages))
    return written


def _iter_live(segment):
    if segment.deleted is None:
        yield from segment.passages
    else:
        yield from (p for row, p in enumerate(segment.passages) if not segment.deleted[row])


def _moves(infos, kept, chosen, rows_now) -> dict[int, tuple[int, np.ndarray | None]]:
    """For renumber: each old segment index -> its index in the new generation (the merged segment
    last), with the chosen segments' rows moved to their merged rows."""
    moves = {infos.index(info): (new, None) for new, info in enumerate(kept)}
    for info, rows in zip(chosen, rows_now):
        moves[infos.index(info)] = (len(kept), rows)
    return moves
