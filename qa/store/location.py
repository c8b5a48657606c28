"""Where an index lives, named one way everywhere: a local folder, or a Milvus server's collection.

`qa index --store`, `qa ask --store`, `qa eval --store`, `qa chat --store` and
`QAPipeline.load(store=...)` all take the same text:

    index/                             a local index folder (the default; qa/store/local/files.py)
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from qa import config

# Re-exported here, where every store is named; the Milvus store imports them from their own modules.
from qa.store.address import MILVUS_SCHEMES, MilvusAddress, parse_milvus_address  # noqa: F401
from qa.store.protocol import StoredIndexInfo, StoreError

if TYPE_CHECKING:
    from qa.embed import Embedder
    from qa.store.local.build import BuildReport, IndexStatus
    from qa.store.protocol import Store


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
        """Verify the live index in full (every byte, or every row); a one-line report, StoreError if damaged."""
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


@dataclass(frozen=True)
class LocalLocation:
    """An index folder on this machine (qa/store/local/files.py)."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)

    @property
    def state_dir(self) -> Path:
        return self.path

    def info(self) -> StoredIndexInfo | None:
        from qa.store.local import current_generation, read_manifest

        if current_generation(self.path) is None:
            return None
        manifest = read_manifest(self.path)
        return StoredIndexInfo(
            manifest.embedder, manifest.passage_count, manifest.article_count, manifest.articles_dir
        )

    def open(self, *, embedder: str | None = None, verify: bool = True) -> Store:
        from qa.store.local.store import open_store

        return open_store(self.path, embedder=embedder, verify=verify)

    def check(self) -> str:
        from qa.store import local

        generation = local.current_generation(self.path)
        manifest = local.read_manifest(self.path, generation)  # IndexStoreError when there is none
        local.verify_files(generation, manifest, self.path, checksums=True)
        return (
            f"{self.path}: {generation.name}, {len(manifest.files)} files match their checksums "
            f"({manifest.passage_count} passages from {manifest.article_count} articles)"
        )

    def status(self, articles_dir: Path, embedder_name: str) -> IndexStatus:
        from qa.store.local.build import index_status

        return index_status(articles_dir, self.path, embedder_name)

    def build(self, articles_dir: Path, embedder: Embedder, **options) -> BuildReport:
        from qa.store.local.build import build_index

        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} is a file; an index is a folder: pass --store DIR")
        return build_index(articles_dir, self.path, embedder, **options)


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
        return config.SAMPLE_ARTICLES_DIR
    if not info.articles_dir:
        raise ArticlesFolderGone(f"{location} does not record the folder it was built from")
    folder = Path(info.articles_dir)
    if not folder.is_dir():
        raise ArticlesFolderGone(f"{location} was built from {folder}, which is gone")
    return folder
