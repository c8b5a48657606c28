"""What changed in an articles folder since the live generation's build, by stat: only the new or
changed files are read.

A build of a million passages that reads every article to find the one new file spends tens of
seconds reading (bench/scale.py: a status that reads the corpus takes 34 s at 1M). The live
generation records the folder as its build read it (listing.json, qa/ingest/listing.py): files with
the same size, mtime and mode hold the articles the index already has, whose hashes it keeps; only
the others are read, and so are those written so close to the listing that a change in the same
clock tick could hide (qa/ingest/listing.py, "racy"). Anything this cannot vouch for (no listing,
files refused at build time) returns None, and the build reads the whole folder as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from qa import config
from qa.ingest.articles import IngestError, load_article_file, scan_folder
from qa.ingest.listing import FolderListing
from qa.store.local.listing import read_listing
from qa.store.report import IndexStatus
from qa.types import Article

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FolderChanges:
    status: IndexStatus  # the folder against the index, as compare_hashes would say
    articles: tuple[Article, ...]  # the articles of the new or changed files only
    live: dict[str, str]  # article_id -> content_hash of every article in the folder now
    listing: FolderListing  # the folder as read now


def read_changes(articles_dir: Path, generation: Path, known: Mapping[str, str]) -> FolderChanges | None:
    """The folder's changes against the generation (`known`: its article hashes); None when only a
    full read can tell."""
    recorded = read_listing(generation)
    if recorded is None or recorded.skipped:
        return None
    # A file whose mtime was within the racy window of the listing may have changed since in the
    # same clock tick (git's "racy clean"): read again, as if touched. The others are vouched for.
    horizon = recorded.listed_ns - int(config.LISTING_RACY_SECONDS * 1e9)
    racy = {stamp.path for stamp in recorded.files if stamp.mtime_ns >= horizon}
    listed_ns = time.time_ns()  # before the first stat, as load_articles takes it
    try:
        scan = scan_folder(articles_dir)
    except (IngestError, OSError):
        return None
    if scan.files is None or scan.skipped:
        return None
    before = {stamp.path: stamp for stamp in recorded.files}
    touched = [stamp for stamp in scan.files if before.get(stamp.path) != stamp or stamp.path in racy]
    paths = set(before) | {stamp.path for stamp in scan.files}
    stale_files = {stamp.path for stamp in touched} | (set(before) - {stamp.path for stamp in scan.files})
    articles: list[Article] = []
    for stamp in touched:
        try:
            articles += load_article_file(scan.root / stamp.path, scan.root)
        except (IngestError, OSError) as error:  # the full read reports it as a skipped file
            logger.info("Reading the whole folder: %s", error)
            return None

    def file_of(article_id: str) -> str:  # "feed.jsonl#12" -> "feed.jsonl"; a plain file is its own id
        return article_id if article_id in paths else article_id.split("#", 1)[0]

    live = {a: h for a, h in known.items() if file_of(a) not in stale_files}
    live |= {article.article_id: article.content_hash for article in articles}
    status = IndexStatus(
        added=tuple(sorted(a for a in live if a not in known)),
        changed=tuple(sorted(a for a in live if a in known and known[a] != live[a])),
        removed=tuple(sorted(a for a in known if a not in live)),
        unchanged=sum(1 for a in live if known.get(a) == live[a]),
        skipped=(),
        has_index=True,
    )
    return FolderChanges(status, tuple(articles), live, FolderListing(scan.files, listed_ns, ()))
