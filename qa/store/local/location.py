"""An index folder as a StoreLocation: what `--store DIR` opens, builds, checks and reports."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.store.local.files import IndexStoreError
from qa.store.protocol import StoredIndexInfo

if TYPE_CHECKING:
    from qa.store.protocol import Store
    from qa.store.report import BuildReport, IndexStatus
    from qa.types import Embedder


@dataclass(frozen=True)
class LocalLocation:
    """An index folder on this machine (qa/store/local/files.py describes it)."""

    path: Path

    def __str__(self) -> str:
        return str(self.path)

    @property
    def state_dir(self) -> Path:
        return self.path

    def info(self) -> StoredIndexInfo | None:
        from qa.store.local.files import current_generation, read_manifest

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
        from qa.store.local.checks import verify_files
        from qa.store.local.files import current_generation, read_manifest

        generation = current_generation(self.path)
        manifest = read_manifest(self.path, generation)  # IndexStoreError when there is none
        verify_files(generation, manifest, self.path, checksums=True)
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
        try:
            return build_index(articles_dir, self.path, embedder, **options)
        except (OSError, RuntimeError) as error:  # FAISS reports a full disk as a RuntimeError
            if not _disk_full(error):
                raise
            self._remove_partial_build()
            live = self.info()
            kept = (
                f"the index still serves its last {live.article_count} articles" if live else "no index yet"
            )
            raise IndexStoreError(
                f"the disk holding {self.path} is full (No space left on device): the build stopped and "
                f"left nothing behind; {kept}. Free some space and run qa index again"
            ) from None

    def _remove_partial_build(self) -> None:
        """What a failed build wrote: its unfinished generation and vectors (removed by whoever next
        takes the lock, so take it now), and the embedding checkpoints, which would keep the disk full."""
        import shutil

        from qa import config
        from qa.store.local.generations import build_lock

        try:
            with build_lock(self.path):
                shutil.rmtree(self.path / config.RESUME_DIR, ignore_errors=True)
        except IndexStoreError:  # another build took the lock: it tidies up as it starts
            pass


def _disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return "No space left on device" in str(error)
