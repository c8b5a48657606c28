"""The indexing job: articles folder -> index directory, embedding only what is new or changed."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import index as store
from .embed import Embedder
from .ingest import SkippedFile, load_articles
from .split import split_article
from .types import Article, Passage

logger = logging.getLogger(__name__)


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
    generation: Path | None  # None when nothing had to change


def _previous_manifest(index_dir: Path, embedder_name: str) -> store.Manifest | None:
    """The live manifest when its vectors can be reused with this embedder, else None."""
    if store.current_generation(index_dir) is None:
        return None
    try:
        manifest = store.read_manifest(index_dir)
        store.check_compatible(manifest, index_dir, embedder_name)
        return manifest
    except store.IndexStoreError as error:
        logger.warning("Not reusing the existing index: %s", error)
        return None


def compare(articles: tuple[Article, ...], manifest: store.Manifest | None, skipped=()) -> IndexStatus:
    known = manifest.articles if manifest is not None else {}
    current = {a.article_id: a.content_hash for a in articles}
    return IndexStatus(
        added=tuple(sorted(a for a in current if a not in known)),
        changed=tuple(sorted(a for a in current if a in known and known[a] != current[a])),
        removed=tuple(sorted(a for a in known if a not in current)),
        unchanged=sum(1 for a in current if known.get(a) == current[a]),
        skipped=tuple(skipped),
        has_index=manifest is not None,
    )


def index_status(articles_dir: Path, index_dir: Path, embedder_name: str) -> IndexStatus:
    report = load_articles(articles_dir)
    return compare(report.articles, _previous_manifest(Path(index_dir), embedder_name), report.skipped)


def build_index(
    articles_dir: Path | str,
    index_dir: Path | str,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    wait_seconds: float = 0.0,
    dense_index: str = "auto",
    show_progress: bool = False,
) -> BuildReport:
    """Index the articles; re-embed only new or changed articles unless rebuild is set.

    Example:
        >>> from qa.embed import load_embedder
        >>> build_index("articles/", "index/", load_embedder())  # doctest: +SKIP
    """
    started = time.perf_counter()
    articles_dir, index_dir = Path(articles_dir), Path(index_dir)
    report = load_articles(articles_dir)
    with store.build_lock(index_dir, wait_seconds=wait_seconds):
        previous = None if rebuild else _previous_manifest(index_dir, embedder.name)
        status = compare(report.articles, previous, report.skipped)
        if previous is not None and not status.stale and previous.dense_index == _resolved(dense_index, previous):
            return BuildReport(status, previous.passage_count, 0, time.perf_counter() - started, None)

        reusable = _reusable_vectors(index_dir, previous, report.articles)
        passages: list[Passage] = []
        vectors: list[np.ndarray | None] = []
        to_embed: list[int] = []
        for article in sorted(report.articles, key=lambda a: a.article_id):
            for passage in split_article(article):
                vector = reusable.get(passage.passage_id)
                if vector is None or vector[0] != passage.text:
                    to_embed.append(len(passages))
                    vectors.append(None)
                else:
                    vectors.append(vector[1])
                passages.append(passage)

        fresh = embedder.encode([passages[i].text for i in to_embed], show_progress=show_progress)
        for position, vector in zip(to_embed, fresh):
            vectors[position] = vector
        matrix = (
            np.vstack(vectors).astype(np.float32)
            if passages
            else np.zeros((0, embedder.dimension), dtype=np.float32)
        )
        generation = store.write_generation(
            index_dir,
            store.IndexContents(
                passages=passages,
                vectors=matrix,
                embedder=embedder.name,
                articles={a.article_id: a.content_hash for a in report.articles},
                articles_dir=str(articles_dir),
                dense_index=dense_index,
            ),
        )
    return BuildReport(status, len(passages), len(to_embed), time.perf_counter() - started, generation)


def _resolved(dense_index: str, previous: store.Manifest) -> str:
    from .dense import choose_factory

    return choose_factory(previous.passage_count, dense_index)


def _reusable_vectors(
    index_dir: Path, previous: store.Manifest | None, articles: tuple[Article, ...]
) -> dict[str, tuple[str, np.ndarray]]:
    """passage_id -> (text, vector) for passages of unchanged articles in the live index."""
    if previous is None:
        return {}
    unchanged = {a.article_id for a in articles if previous.articles.get(a.article_id) == a.content_hash}
    if not unchanged:
        return {}
    generation = store.current_generation(index_dir)
    try:
        store.verify_files(generation, previous, index_dir)
        old_passages = store.read_passages(generation)
        old_vectors = store.read_vectors(generation)
    except (store.IndexStoreError, OSError, ValueError) as error:
        logger.warning("Re-embedding everything: the existing index could not be reused (%s)", error)
        return {}
    return {
        p.passage_id: (p.text, np.array(old_vectors[i]))
        for i, p in enumerate(old_passages)
        if p.article_id in unchanged
    }
