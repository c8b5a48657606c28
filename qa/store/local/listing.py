"""The articles folder as a generation's build read it (listing.json): what lets a status check of an
unchanged folder read no article (qa/ingest/listing.py)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from qa.ingest.listing import FolderListing
from qa.store.local.durable import write_durably
from qa.store.local.files import LISTING_FILE

logger = logging.getLogger(__name__)


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
        write_durably(partial, listing.to_json().encode())
        os.replace(partial, generation / LISTING_FILE)
    finally:
        partial.unlink(missing_ok=True)
