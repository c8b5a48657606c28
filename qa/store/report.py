"""What any store's build compares and reports: IndexStatus (the index against an articles folder),
BuildReport, and the two comparisons every backend makes (compare_hashes, corpus_fingerprint)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.ingest.articles import SkippedFile
    from qa.types import Article


@dataclass(frozen=True)
class IndexStatus:
    """How an index compares with the articles folder."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    skipped: tuple[SkippedFile, ...]
    has_index: bool

    @property
    def stale(self) -> bool:
        return not self.has_index or bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        if not self.has_index:
            return "no index yet"
        if not self.stale:
            return f"up to date ({self.unchanged} articles)"
        return (
            f"stale: {len(self.added)} new, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged articles"
        )


@dataclass(frozen=True)
class BuildReport:
    status: IndexStatus  # what the build found before it started
    passages: int
    embedded_passages: int  # passages that needed the model; the rest were reused
    seconds: float
    # The new generation (a folder; a collection in Milvus); None when nothing had to change.
    generation: Path | str | None
    # Of embedded_passages, those read back from an interrupted build's checkpoints instead of embedded again.
    resumed_passages: int = 0
    articles: int = 0  # articles indexed
    disk_bytes: int = 0  # the live generation's files


def compare_hashes(articles: tuple[Article, ...], known: Mapping[str, str] | None, skipped=()) -> IndexStatus:
    """How a folder's articles compare with what an index holds (article_id -> content_hash; None:
    no index). Every store's build and status use it."""
    has_index = known is not None
    known = known if known is not None else {}
    current = {a.article_id: a.content_hash for a in articles}
    return IndexStatus(
        added=tuple(sorted(a for a in current if a not in known)),
        changed=tuple(sorted(a for a in current if a in known and known[a] != current[a])),
        removed=tuple(sorted(a for a in known if a not in current)),
        unchanged=sum(1 for a in current if known.get(a) == current[a]),
        skipped=tuple(skipped),
        has_index=has_index,
    )


def corpus_fingerprint(article_hashes: Mapping[str, str]) -> str:
    """sha256 over the sorted (article_id, content_hash) pairs: the same corpus gives the same
    fingerprint in any store (a manifest records it; `qa eval` reports it)."""
    digest = hashlib.sha256()
    for article_id in sorted(article_hashes):
        digest.update(f"{article_id}\0{article_hashes[article_id]}\n".encode())
    return digest.hexdigest()
