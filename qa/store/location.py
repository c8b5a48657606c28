"""Where an index lives, named one way everywhere: a local folder, or a Milvus server's collection.

`qa index --store`, `qa ask --store`, `qa eval --store`, `qa chat --store` and
`QAPipeline.load(store=...)` all take the same text:

    index/                             a local index folder (the default; qa/store/local.py)
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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

from qa import config

if TYPE_CHECKING:
    from qa.embed import Embedder
    from qa.store.build import BuildReport, IndexStatus
    from qa.store.protocol import Store


@dataclass(frozen=True)
class StoredIndexInfo:
    """What a location holds, read without opening the index for search."""

    embedder: str
    passage_count: int
    article_count: int
    articles_dir: str  # the folder the last build read ("" when not recorded)


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

    def open(self, *, embedder: str | None = None, verify: bool = True) -> "Store":
        """The live index for search; `embedder` (when given) must be the one it was built with."""
        ...

    def check(self) -> str:
        """Verify the live index in full (every byte, or every row); a one-line report, StoreError if damaged."""
        ...

    def status(self, articles_dir: Path, embedder_name: str) -> "IndexStatus":
        """How the index compares with an articles folder (new, changed, removed articles)."""
        ...

    def build(
        self,
        articles_dir: Path,
        embedder: "Embedder",
        *,
        rebuild: bool = False,
        wait_seconds: float = 0.0,
        show_progress: bool = False,
        **options: object,
    ) -> "BuildReport":
        """Bring the index up to date with the folder, embedding only new or changed articles."""
        ...


@dataclass(frozen=True)
class LocalLocation:
    """An index folder on this machine (qa/store/local.py)."""

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
        return StoredIndexInfo(manifest.embedder, manifest.passage_count, manifest.article_count, manifest.articles_dir)

    def open(self, *, embedder: str | None = None, verify: bool = True) -> "Store":
        from qa.store.local_store import open_store

        return open_store(self.path, embedder=embedder, verify=verify)

    def check(self) -> str:
        from qa.store import local

        generation = local.current_generation(self.path)
        manifest = local.read_manifest(self.path, generation)  # IndexStoreError when there is none
        local.verify_files(generation, manifest, self.path, checksums=True)
        return (f"{self.path}: {generation.name}, {len(manifest.files)} files match their checksums "
                f"({manifest.passage_count} passages from {manifest.article_count} articles)")

    def status(self, articles_dir: Path, embedder_name: str) -> "IndexStatus":
        from qa.store.build import index_status

        return index_status(articles_dir, self.path, embedder_name)

    def build(self, articles_dir: Path, embedder: "Embedder", **options) -> "BuildReport":
        from qa.store.build import build_index

        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} is a file; an index is a folder: pass --store DIR")
        return build_index(articles_dir, self.path, embedder, **options)


_MILVUS_SCHEMES = ("milvus", "milvuss")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")  # Milvus's rule for collection and alias names


@dataclass(frozen=True)
class MilvusAddress:
    """milvus://HOST:PORT/NAME, checked; the store itself is qa/store/milvus/ (issue 14)."""

    host: str
    port: int
    name: str
    tls: bool = False

    def __str__(self) -> str:
        return f"{'milvuss' if self.tls else 'milvus'}://{self.host}:{self.port}/{self.name}"

    @property
    def uri(self) -> str:
        """What pymilvus's MilvusClient takes."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def state_dir(self) -> Path:
        host = re.sub(r"[^A-Za-z0-9.-]", "_", self.host)
        return config.user_data_dir() / "milvus" / f"{host}-{self.port}-{self.name}"


def parse_milvus_address(text: str) -> MilvusAddress:
    """MilvusAddress from milvus://HOST:PORT/NAME; ValueError saying what is wrong otherwise."""
    parts = urlsplit(text)
    example = "milvus://127.0.0.1:19530/news"
    if parts.scheme not in _MILVUS_SCHEMES:
        raise ValueError(f"not a Milvus address: {text!r} (expected e.g. {example})")
    if parts.username or parts.password:
        raise ValueError(
            "put Milvus credentials in the environment ($MILVUS_TOKEN, or $MILVUS_USER and $MILVUS_PASSWORD), "
            "not in the store address: command lines end up in shell history and process lists"
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise ValueError(f"a Milvus store needs a host and a port: {text!r} (expected e.g. {example})")
    name = parts.path.strip("/")
    if not _NAME.match(name) or parts.query or parts.fragment:
        raise ValueError(
            f"a Milvus store needs a collection name after the port, letters, digits and _ only, not starting "
            f"with a digit: {text!r} (expected e.g. {example})"
        )
    return MilvusAddress(parts.hostname, port, name, tls=parts.scheme == "milvuss")


def parse_location(spec: "str | Path | StoreLocation | None") -> StoreLocation:
    """The location a user named: None for the default folder, a path, or a milvus:// address."""
    if spec is None:
        return LocalLocation(config.DEFAULT_INDEX_DIR)
    if isinstance(spec, StoreLocation) and not isinstance(spec, (str, Path)):
        return spec
    text = str(spec)
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in _MILVUS_SCHEMES:
            raise ValueError(f"unknown store {text!r}: give a folder, or milvus://HOST:PORT/NAME")
        address = parse_milvus_address(text)
        from qa.store.milvus.location import MilvusLocation

        return MilvusLocation(address)
    return LocalLocation(Path(text).expanduser())


STORE_HELP = ("where the index lives: a folder (default: %s) or milvus://HOST:PORT/NAME, credentials from "
              "$MILVUS_TOKEN or $MILVUS_USER/$MILVUS_PASSWORD (docs/scale-out.md); --index is the older name")


def store_argument(text: str) -> StoreLocation:
    """argparse type for --store: a bad address is a usage error (exit 2), not a traceback."""
    try:
        return parse_location(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
