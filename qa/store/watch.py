"""Watching an articles folder: new or changed files indexed within seconds, any store.

`watch_folder` polls the folder's stat listing (qa/ingest: no file is opened while nothing
changes), and once a change has settled for one poll (a file still being written shows a new size
or mtime each time) asks the location to bring the index up to date: a local store then writes one
small segment (qa/store/local/append.py), a Milvus store its next collection (the vectors of
unchanged articles copied). Each committed generation is handed to `on_commit`; a process serving
the store switches to it on its next question (QAPipeline._serve_newest_generation). It only calls
the StoreLocation protocol's `build` (qa/store/location.py), so it works with any store.

Ctrl-C (or `stop`) ends it. Builds are crash-safe: interrupted mid-addition, the last committed
generation keeps serving and the next build (or watch) completes the work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.articles import IngestError, scan_folder
from qa.store.protocol import StoreError

if TYPE_CHECKING:
    from qa.store.location import StoreLocation
    from qa.store.report import BuildReport
    from qa.types import Embedder

logger = logging.getLogger(__name__)


def folder_stamps(articles_dir: Path) -> tuple | None:
    """What the folder holds by stat alone (paths, sizes, mtimes, modes); None when it cannot be
    listed right now (missing, a file vanishing mid-scan)."""
    try:
        scan = scan_folder(articles_dir)
    except (IngestError, OSError):
        return None
    return None if scan.files is None else (scan.files, tuple(s.path for s in scan.skipped))


def watch_folder(
    location: StoreLocation,
    articles_dir: Path | str,
    embedder: Embedder,
    *,
    interval: float = 1.0,
    on_commit: Callable[[BuildReport], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    stop: threading.Event | None = None,
    build_options: Mapping[str, object] | None = None,
) -> int:
    """Keep `location`'s index up to date with `articles_dir` until `stop` is set or Ctrl-C; returns
    the number of generations committed.

    The first poll brings the index up to date (a build that finds nothing to do commits nothing).
    `on_commit(report)` runs after each build that committed a generation (report.generation is
    not None); `on_error(error)` after a build that failed with a StoreError or a bad folder (the
    watch goes on and tries again after the next change, or at once when the lock was busy).
    `build_options` go to `location.build` (e.g. show_progress=True).

    Example:
        >>> from qa.store.location import parse_location
        >>> watch_folder(parse_location("index/"), "articles/", embedder,
        ...              on_commit=lambda r: print(r.generation))  # doctest: +SKIP
    """
    if interval <= 0:
        raise ValueError(f"interval must be greater than 0, got {interval}")
    articles_dir = Path(articles_dir)
    stop = stop if stop is not None else threading.Event()
    options = dict(build_options or {})
    indexed: tuple | None = None  # the stamps the last successful build saw
    seen = folder_stamps(articles_dir)
    first = True
    commits = 0
    try:
        while not stop.is_set():
            now = folder_stamps(articles_dir)
            settled = now == seen  # unchanged for a whole poll: no file is being written
            seen = now
            if now is not None and (first or (settled and now != indexed)):
                first = False
                try:
                    report = location.build(articles_dir, embedder, **options)
                except (StoreError, IngestError, OSError) as error:
                    logger.warning(
                        "Indexing %s into %s failed; will try again: %s", articles_dir, location, error
                    )
                    if on_error is not None:
                        on_error(error)
                    stop.wait(interval)
                    continue
                # What the build read: a change written during it shows a new stamp next poll.
                indexed = now
                if report.generation is not None:
                    commits += 1
                    logger.info("Indexed %s: generation %s", report.status.describe(), report.generation)
                    if on_commit is not None:
                        on_commit(report)
            stop.wait(interval)
    except KeyboardInterrupt:
        logger.info("Stopped watching %s", articles_dir)
    return commits
