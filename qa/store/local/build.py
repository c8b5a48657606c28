"""The indexing job: articles folder -> index directory, embedding only what is new or changed."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import config
from qa.ingest.articles import SkippedFile, load_articles, scan_folder
from qa.ingest.listing import FolderListing
from qa.ingest.split import split_article
from qa.store import local as store
from qa.store.local.changes import FolderChanges, read_changes
from qa.store.local.npy import load_npy
from qa.store.pause import pause_for_tests
from qa.store.report import BuildReport, IndexStatus, compare_hashes
from qa.types import Article, Embedder, Passage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Previous:
    """The live generation, when its vectors can be reused with this embedder."""

    generation: Path
    manifest: store.Manifest
    articles: dict[str, str]  # article_id -> content_hash


def _live_generation(index_dir: Path, embedder_name: str) -> tuple[Path, store.Manifest] | None:
    """The live generation and its manifest (None: nothing built yet); IndexStoreError when this
    embedder cannot use it."""
    generation = store.current_generation(index_dir)
    if generation is None:
        return None
    manifest = store.read_manifest(index_dir, generation)
    store.check_compatible(manifest, index_dir, embedder_name)
    return generation, manifest


def _previous(index_dir: Path, embedder_name: str) -> _Previous | None:
    try:
        live = _live_generation(index_dir, embedder_name)
        return _Previous(*live, store.read_article_hashes(live[0])) if live is not None else None
    except (store.IndexStoreError, OSError, sqlite3.Error) as error:
        logger.warning("Not reusing the existing index: %s", error)
        return None


def index_status(articles_dir: Path, index_dir: Path, embedder_name: str) -> IndexStatus:
    """How the index compares with the folder; changes nothing.

    First by stat alone: when every article file has the size, mtime and mode the live generation's
    build recorded (qa/ingest/listing.py), the index is up to date and no file is read (3,000
    files: 0.07 s against 2-6 s; bench/status.py). Otherwise every article is read and its content
    hash compared, as a build does: a touched but unchanged file is still up to date, found the slow way.
    """
    quick = _status_by_listing(Path(articles_dir), Path(index_dir), embedder_name)
    if quick is not None:
        return quick
    report = load_articles(articles_dir)
    previous = _previous(Path(index_dir), embedder_name)
    return compare_hashes(
        report.articles, previous.articles if previous is not None else None, report.skipped
    )


def _status_by_listing(articles_dir: Path, index_dir: Path, embedder_name: str) -> IndexStatus | None:
    """The status without reading an article: up to date when the folder lists as the live
    generation's build recorded it; None when only the full check can say."""
    try:
        live = _live_generation(index_dir, embedder_name)
    except store.IndexStoreError:
        return None  # the full check says why the index cannot be used
    if live is None:
        return None
    generation, manifest = live
    recorded = store.read_listing(generation)
    if recorded is None or not recorded.trusted():
        return None
    scan = scan_folder(articles_dir)  # stat only; IngestError for a missing folder, as load_articles
    if not recorded.same_files(scan.files):
        return None
    # Files refused at build time are unchanged, so they would be refused again for the same reason.
    replayed = tuple(SkippedFile(str(scan.root / path), reason) for path, reason in recorded.skipped)
    return IndexStatus((), (), (), manifest.article_count, scan.skipped + replayed, has_index=True)


def _record_listing(generation: Path, listing: FolderListing | None) -> None:
    """Give an up-to-date generation the listing of the folder just compared with it, when its own
    is missing (an index from before listings) or differs (touched files): status is then quick again."""
    if listing is None or not listing.trusted():
        return
    recorded = store.read_listing(generation)
    if (
        recorded is not None
        and recorded.trusted()
        and (recorded.files, recorded.skipped) == (listing.files, listing.skipped)
    ):
        return
    try:
        store.replace_listing(generation, listing)
    except OSError as error:  # a read-only index still serves; status stays the slow way
        logger.warning("Could not record the folder listing in %s (%s)", generation, error)


def build_index(
    articles_dir: Path | str,
    index_dir: Path | str,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    wait_seconds: float = 0.0,
    dense_index: str = "auto",
    show_progress: bool = False,
    check: Callable[[IndexStatus], None] | None = None,
) -> BuildReport:
    """Index the articles; re-embed only new or changed articles unless rebuild is set.
    `check` sees how the folder compares with the index before anything is written, and may refuse
    by raising (qa/service.py refuses an update that would empty most of the index).

    Streams: each article is released once split, and vectors go to disk chunk by chunk
    (``config.EMBED_CHUNK`` passages), so memory holds the passages once and never a second full
    copy of the vectors (bench/ann.py measures peak memory).

    Example:
        >>> from qa.embed import load_embedder
        >>> build_index("articles/", "index/", load_embedder())  # doctest: +SKIP
    """
    started = time.perf_counter()
    articles_dir, index_dir = Path(articles_dir), Path(index_dir)
    with store.build_lock(index_dir, wait_seconds=wait_seconds):
        previous = None if rebuild else _previous(index_dir, embedder.name)
        dense_matches = previous is not None and _dense_matches(dense_index, previous.manifest)
        segmented = dense_matches and previous.manifest.format_version == store.FORMAT_VERSION
        # An index of segments reads only the files whose stat changed (qa/store/local/changes.py).
        changes = read_changes(articles_dir, previous.generation, previous.articles) if segmented else None
        if changes is None:
            if show_progress:
                print(f"Reading {articles_dir}...", file=sys.stderr, flush=True)
            report = load_articles(articles_dir)
            status = compare_hashes(
                report.articles, previous.articles if previous is not None else None, report.skipped
            )
            changes = FolderChanges(status, report.articles, {}, report.listing)
        status = changes.status
        if check is not None:
            check(status)
        if previous is not None and not status.stale and dense_matches:
            # Up to date (a build killed after its commit, too): any checkpoints are of no more use.
            shutil.rmtree(index_dir / config.RESUME_DIR, ignore_errors=True)
            _record_listing(previous.generation, changes.listing)
            manifest = previous.manifest
            return BuildReport(
                status,
                manifest.passage_count,
                0,
                time.perf_counter() - started,
                None,
                articles=manifest.article_count,
                disk_bytes=sum(manifest.sizes.values()),
            )

        if segmented:  # only the new and changed articles, as a new segment (qa/store/local/append.py)
            from qa.store.local.append import add_articles

            return add_articles(
                index_dir,
                previous,
                changes,
                embedder,
                started=started,
                articles_dir=str(Path(articles_dir).resolve()),
                show_progress=show_progress,
                write_vectors=_write_vectors,
                checkpoints=Checkpoints(index_dir, embedder),
            )
        article_hashes = {a.article_id: a.content_hash for a in report.articles}
        listing = report.listing
        reusable, old_vectors = _reusable_vectors(index_dir, previous, report.articles)
        # Last article first, so that pop() walks them in id order and frees each once split.
        pending = sorted(report.articles, key=lambda a: a.article_id, reverse=True)
        del report
        passages: list[Passage] = []
        reuse_rows: list[int] = []  # row in old_vectors, or -1 where the passage needs the model
        while pending:
            for passage in split_article(pending.pop()):
                known = reusable.get(passage.passage_id)
                reuse_rows.append(known[1] if known is not None and known[0] == passage.text else -1)
                passages.append(passage)
        del reusable

        vectors_file = index_dir / f".vectors-{os.getpid()}.npy.tmp"
        checkpoints = Checkpoints(index_dir, embedder)
        try:
            embedded, resumed = _write_vectors(
                vectors_file, passages, reuse_rows, old_vectors, embedder, show_progress, checkpoints
            )
            del old_vectors
            generation = store.write_generation(
                index_dir,
                store.IndexContents(
                    passages=passages,
                    vectors=load_npy(vectors_file, mmap_mode="r"),
                    embedder=embedder.name,
                    articles=article_hashes,
                    articles_dir=str(Path(articles_dir).resolve()),  # found again from any working directory
                    dense_index=dense_index,
                    vectors_file=vectors_file,
                    show_progress=show_progress,
                    listing=listing,
                ),
            )
        finally:
            vectors_file.unlink(missing_ok=True)
        checkpoints.remove()  # committed: the next build starts from the index itself
    manifest = store.read_manifest(index_dir, generation)
    return BuildReport(
        status,
        len(passages),
        embedded,
        time.perf_counter() - started,
        generation,
        resumed_passages=resumed,
        articles=len(article_hashes),
        disk_bytes=sum(manifest.sizes.values()),
    )


class Checkpoints:
    """Vectors embedded by a build that did not finish, kept for the next one (a resumable build).

    Each chunk of passages that needed the model is saved as soon as it is embedded, under
    `<index>/.resume/<embedder key>/<chunk key>.npy`; the chunk key hashes the chunk's passage ids
    and texts, the embedder key the model's name, backend and dimension. A build stopped halfway
    (Ctrl-C, SIGKILL, power cut) and run again on the same articles meets the same chunks and
    reads them back instead of embedding them; a chunk whose passages changed is simply not
    found. The folder goes once a build commits.
    """

    def __init__(self, index_dir: Path, embedder: Embedder):
        identity = f"{embedder.name}\0{getattr(embedder, 'backend', '')}\0{embedder.dimension}"
        self.root = Path(index_dir) / config.RESUME_DIR
        self.folder = self.root / hashlib.sha256(identity.encode()).hexdigest()[:16]
        for partial in self.folder.glob("*.tmp"):  # a kill mid-write
            partial.unlink(missing_ok=True)

    @staticmethod
    def key(passages: Sequence[Passage]) -> str:
        digest = hashlib.sha256()
        for passage in passages:
            digest.update(f"{passage.passage_id}\0{passage.text}\0".encode())
        return digest.hexdigest()[:32]

    def load(self, key: str, rows: int, dimension: int) -> np.ndarray | None:
        try:
            vectors = load_npy(self.folder / f"{key}.npy")
        except (OSError, ValueError):
            return None
        return vectors if vectors.shape == (rows, dimension) and vectors.dtype == store.VECTOR_DTYPE else None

    def save(self, key: str, vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f"{key}.{os.getpid()}.tmp"
        with open(partial, "wb") as handle:
            np.save(handle, vectors)
        os.replace(partial, self.folder / f"{key}.npy")  # whole or absent

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _write_vectors(
    path: Path,
    passages: Sequence[Passage],
    reuse_rows: Sequence[int],
    old_vectors: np.ndarray | None,
    embedder: Embedder,
    show_progress: bool,
    checkpoints: Checkpoints,
) -> tuple[int, int]:
    """Write one float16 row per passage to a .npy at `path`, chunk by chunk.

    Returns (passages that needed the model, of those the ones read back from checkpoints).
    """
    dimension = int(embedder.dimension)
    to_embed = sum(1 for row in reuse_rows if row < 0)
    embedded = resumed = 0
    pause_for_tests("embedding")  # a no-op outside tests/test_crash_safety.py
    bar = _progress_bar(to_embed, show_progress)
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(
            handle,
            {
                "descr": np.lib.format.dtype_to_descr(np.dtype(store.VECTOR_DTYPE)),
                "fortran_order": False,
                "shape": (len(passages), dimension),
            },
        )
        for start in range(0, len(passages), config.EMBED_CHUNK):
            stop = min(start + config.EMBED_CHUNK, len(passages))
            chunk = np.empty((stop - start, dimension), dtype=store.VECTOR_DTYPE)
            fresh = [i for i in range(start, stop) if reuse_rows[i] < 0]
            if fresh:
                key = checkpoints.key([passages[i] for i in fresh])
                vectors = checkpoints.load(key, len(fresh), dimension)
                if vectors is None:
                    vectors = np.asarray(
                        embedder.encode([passages[i].text for i in fresh]), dtype=store.VECTOR_DTYPE
                    )
                    checkpoints.save(key, vectors)
                else:
                    resumed += len(fresh)
                chunk[[i - start for i in fresh]] = vectors
                embedded += len(fresh)
                if bar is not None:
                    bar.update(len(fresh))
                if 2 * embedded >= to_embed > 2 * (embedded - len(fresh)):
                    pause_for_tests(
                        "embedded-half"
                    )  # tests/store/test_resumable_build.py kills the build here
            for i in range(start, stop):
                if reuse_rows[i] >= 0:
                    chunk[i - start] = old_vectors[reuse_rows[i]]
            handle.write(chunk.tobytes())
        handle.flush()
        os.fsync(handle.fileno())
    if bar is not None:
        bar.close()
    return embedded, resumed


def _progress_bar(total: int, show: bool):
    """A tqdm bar with rate and ETA over the passages to embed, or None."""
    if not show or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total, unit=" passages", desc="embedding", file=sys.stderr, smoothing=0.1, dynamic_ncols=True
    )


def _dense_matches(dense_index: str, previous: store.Manifest) -> bool:
    """Whether the first segment's FAISS index is the one `dense_index` asks for, judged at the size
    it was built for (later segments are exact, or "auto" for their own size)."""
    from qa.store.local.dense import choose_factory
    from qa.store.local.segments import segment_infos

    first = segment_infos(previous)[0]
    return first.dense_index == choose_factory(first.passages, dense_index)


def _reusable_vectors(
    index_dir: Path, previous: _Previous | None, articles: tuple[Article, ...]
) -> tuple[dict[str, tuple[str, int]], np.ndarray | None]:
    """(passage_id -> (text, row), the live vectors memory-mapped) for passages of unchanged articles."""
    if previous is None:
        return {}, None
    unchanged = {a.article_id for a in articles if previous.articles.get(a.article_id) == a.content_hash}
    if not unchanged:
        return {}, None
    generation = previous.generation
    try:
        store.verify_files(
            generation, previous.manifest, index_dir, checksums=True
        )  # vectors reused: every byte
        old_passages = store.read_passages(generation)
        old_vectors = store.read_vectors(generation)
        if len(old_vectors) != len(old_passages) or old_vectors.ndim != 2:
            logger.warning(
                "Re-embedding everything: the existing index holds %d passages but %d vectors",
                len(old_passages),
                len(old_vectors),
            )
            return {}, None
        # Only the passages of unchanged articles, streamed from SQLite: never all passages as objects.
        reusable = {passage_id: (text, row) for row, passage_id, text in old_passages.texts_by_id(unchanged)}
        old_passages.close()
        return reusable, old_vectors
    except (store.IndexStoreError, OSError, ValueError, sqlite3.Error) as error:
        logger.warning("Re-embedding everything: the existing index could not be reused (%s)", error)
        return {}, None
