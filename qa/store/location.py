"""Where an index lives, named one way everywhere: a local folder, or a Milvus server's collection.

`qa index --store`, `qa ask --store`, `qa eval --store`, `qa chat --store` and
`QAPipeline.load(store=...)` all take the same text:

    index/                             a local index folder (the default; qa/store/local/)
    milvus://HOST:PORT/NAME            a Milvus server; NAME is the alias every build switches
    milvuss://HOST:PORT/NAME           the same over TLS

Credentials never appear on the command line: a Milvus store reads $MILVUS_TOKEN (or
$MILVUS_USER and $MILVUS_PASSWORD) from the environment.

A location opens a Store (qa/store/protocol.py) for search, says what is indexed there, builds or
updates the index from an articles folder, and names a local folder for settings tuned for that
store (the no-answer thresholds of `qa eval --save-threshold`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from qa import config

# Re-exported here, where every store is named; each backend imports them from their own modules.
from qa.store.address import MILVUS_SCHEMES, MilvusAddress, parse_milvus_address  # noqa: F401
from qa.store.local.location import LocalLocation
from qa.store.protocol import StoredIndexInfo, StoreError

if TYPE_CHECKING:
    from qa.store.protocol import Store
    from qa.store.report import BuildReport, IndexStatus
    from qa.types import Embedder


@runtime_checkable
class StoreLocation(Protocol):
    """One place an index can live; `parse_location` makes one from what the user typed."""

    @property
    def state_dir(self) -> Path:
        """A local folder for settings tuned for this store (created by whoever writes there)."""
        ...

    def info(self) -> StoredIndexInfo | None:
        """The live index's embedder and counts; None when nothing has been built there yet."""
        ...

    def open(self, *, embedder: str | None = None, verify: bool = True) -> Store:
        """The live index for search; `embedder` (when given) must be the one it was built with."""
        ...

    def check(self) -> str:
        """Verify the live index in full (every byte, or every row); a one-line report, StoreError if
        damaged."""
        ...

    def status(self, articles_dir: Path, embedder_name: str) -> IndexStatus:
        """How the index compares with an articles folder (new, changed, removed articles)."""
        ...

    def build(
        self,
        articles_dir: Path,
        embedder: Embedder,
        *,
        rebuild: bool = False,
        wait_seconds: float = 0.0,
        show_progress: bool = False,
        **options: object,
    ) -> BuildReport:
        """Bring the index up to date with the folder, embedding only new or changed articles."""
        ...


def parse_location(spec: str | Path | StoreLocation | None) -> StoreLocation:
    """The location a user named: None for the default folder, a path, or a milvus:// address."""
    if spec is None:
        return LocalLocation(config.DEFAULT_INDEX_DIR)
    if isinstance(spec, StoreLocation) and not isinstance(spec, (str, Path)):
        return spec
    text = str(spec)
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in MILVUS_SCHEMES:
            raise ValueError(f"unknown store {text!r}: give a folder, or milvus://HOST:PORT/NAME")
        address = parse_milvus_address(text)
        from qa.store.milvus.location import MilvusLocation

        return MilvusLocation(address)
    return LocalLocation(Path(text).expanduser())


STORE_HELP = (
    "where the index lives: a folder (default: %s) or milvus://HOST:PORT/NAME, credentials from "
    "$MILVUS_TOKEN or $MILVUS_USER/$MILVUS_PASSWORD (docs/scale-out.md); --index is the older name"
)


def store_argument(text: str) -> StoreLocation:
    """argparse type for --store: a bad address is a usage error (exit 2), not a traceback."""
    try:
        return parse_location(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# Beside the index (in its state folder) while a build runs: the articles folder it reads.
BUILD_RECORD = "building-from.txt"


def record_build_start(location: StoreLocation, articles: Path) -> None:
    """Note the folder a build reads, so a rerun after a kill without --articles resumes it."""
    path = location.state_dir / BUILD_RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(str(Path(articles).resolve()), encoding="utf-8")
    partial.replace(path)  # whole or absent


def clear_build_record(location: StoreLocation) -> None:
    (location.state_dir / BUILD_RECORD).unlink(missing_ok=True)


def interrupted_build_folder(location: StoreLocation) -> Path | None:
    try:
        text = (location.state_dir / BUILD_RECORD).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return Path(text) if text else None


class ArticlesFolderGone(StoreError):
    """The index records the folder it was built from, and that folder is not there (or not recorded)."""


def articles_to_update_from(location: StoreLocation, articles: Path | None) -> Path:
    """The folder an index is brought up to date from: `articles` when given, else the folder the
    index was built from, else (no index yet) the bundled sample corpus.

    An index of the user's own articles is never quietly rebuilt from the samples: `qa index
    --store S` (or `qa chat --store S`) run again means "bring S up to date". Raises
    ArticlesFolderGone when the recorded folder is not there, and StoreError when the index's
    manifest is damaged.
    """
    if articles is not None:
        return articles
    info = location.info()
    if info is None:
        # A first build that was killed (kill -9, a power cut) is resumed from the folder it was
        # reading, never replaced by the samples.
        pending = interrupted_build_folder(location)
        if pending is None:
            return config.SAMPLE_ARTICLES_DIR
        if not pending.is_dir():
            raise ArticlesFolderGone(
                f"an interrupted build of {location} was reading {pending}, which is gone"
            )
        return pending
    if not info.articles_dir:
        raise ArticlesFolderGone(f"{location} does not record the folder it was built from")
    folder = Path(info.articles_dir)
    if not folder.is_dir():
        raise ArticlesFolderGone(f"{location} was built from {folder}, which is gone")
    return folder
