"""One door for the entry points (`qa index`, `qa ask`, `qa chat`, `qa eval`): which articles, which
embedder, building or updating the store, opening the pipeline, and the errors a user can fix.

Each door parses its own arguments and prints in its own way; every decision about the store is
made here, once, so the CLI, the chat and the evaluation cannot drift apart.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa import config
from qa.checks import CLI_LABELS, FieldLabels, UserError, check_threshold
from qa.store.location import (
    ArticlesFolderGone,
    StoreLocation,
    articles_to_update_from,
    clear_build_record,
    record_build_start,
)
from qa.store.protocol import StoreError

if TYPE_CHECKING:
    from qa.pipeline import QAPipeline
    from qa.store.report import BuildReport, IndexStatus
    from qa.types import Embedder

logger = logging.getLogger(__name__)

# An update that would remove more than this share of an index's articles asks for --allow-shrink:
# an unmounted share or a wrong path looks like "every article was deleted".
SHRINK_LIMIT = 0.5


class ShrinkRefused(UserError):
    """An update would remove most of the index's articles; nothing was changed."""


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions every door reports as one line (exit status 2), not a traceback."""
    from qa.embed import EmbedderError
    from qa.ingest.articles import IngestError
    from qa.read.choose import ReaderError

    # UserError covers QuestionError and every value check (qa/checks.py); OSError a full disk or
    # an unreadable file, with the path in its message.
    return (UserError, EmbedderError, ReaderError, StoreError, IngestError, OSError)


def articles_folder(location: StoreLocation, articles: Path | None, *, flag: str = "--articles") -> Path:
    """The folder (or file) to bring the index up to date from: `articles`, else the folder the index
    was built from, else (no index yet) the bundled samples. UserError when the recorded folder is
    gone; a named one that is not there is refused by ingest, naming it."""
    try:
        return articles_to_update_from(location, articles)
    except ArticlesFolderGone as error:
        raise UserError(f"{error}; name the articles with {flag} DIR") from error


def embedder_to_build_with(
    location: StoreLocation, requested: str | None = None, *, rebuild: bool = False
) -> str:
    """The model to build or update `location` with: the one it was built with (its manifest says
    which), as `qa ask` searches it. Another model named for an existing index is refused unless
    `rebuild`: it would silently re-embed every article."""
    from qa.embed import recorded_name

    try:
        info = location.info()
    except StoreError:
        info = None  # a damaged index: the build replaces it or says what is wrong
    built_with = info.embedder if info is not None else None
    if requested is None:
        return built_with or os.environ.get("QA_EMBEDDER", config.DEFAULT_EMBEDDER)
    if built_with is not None and recorded_name(requested) != built_with and not rebuild:
        raise UserError(
            f"{location} was built with {built_with}; --embedder {requested} would re-embed every "
            "article: add --rebuild to do that, or leave --embedder out to update with the same model"
        )
    return requested


def index_embedder(
    location: StoreLocation,
    requested: str | None = None,
    backend: str | None = None,
    *,
    rebuild: bool = False,
) -> Embedder:
    """The embedder of `embedder_to_build_with`, loaded."""
    from qa.embed import load_embedder

    return load_embedder(embedder_to_build_with(location, requested, rebuild=rebuild), backend)


def check_update(
    location: StoreLocation, articles: Path, status: IndexStatus, *, allow_shrink: bool = False
) -> None:
    """Refuse an update from a folder with no article, or one that would remove more than half of the
    indexed articles (an unmounted share, a wrong path), unless `allow_shrink`."""
    found = len(status.added) + len(status.changed) + status.unchanged
    if not found and not (allow_shrink and status.has_index):
        skipped = f", {len(status.skipped)} file(s) skipped" if status.skipped else ""
        raise UserError(f"no articles found in {articles}{skipped}; nothing was indexed")
    if allow_shrink or not status.has_index or not status.removed:
        return
    indexed = len(status.removed) + len(status.changed) + status.unchanged
    if len(status.removed) > indexed * SHRINK_LIMIT:
        raise ShrinkRefused(
            f"this update would remove {len(status.removed)} of the {indexed} articles in {location} "
            f"({articles} holds {found} articles); nothing was changed. Check the articles folder, "
            "or pass --allow-shrink to remove them"
        )


def update_index(
    location: StoreLocation,
    articles: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    allow_shrink: bool = False,
    wait_seconds: float = 0.0,
    show_progress: bool = False,
    **build_options: object,
) -> BuildReport:
    """Bring the index up to date with `articles`, embedding only new or changed articles.

    An empty folder, or one that would remove most of the index, is refused by check_update before
    anything is embedded or replaced (the build calls it with its own comparison, under its lock).
    """
    if not 0 <= wait_seconds < float("inf"):
        raise UserError(f"--wait must be a number of seconds, 0 or more, got {wait_seconds}")

    def check(status: IndexStatus) -> None:
        check_update(location, articles, status, allow_shrink=allow_shrink)

    first = _no_index_yet(location)
    if first:  # only a first build needs it: an existing index records its own folder
        record_build_start(location, articles)
    try:
        report = location.build(
            articles,
            embedder,
            rebuild=rebuild,
            wait_seconds=wait_seconds,
            show_progress=show_progress,
            check=check,
            **build_options,
        )
    except UserError:
        if first:
            clear_build_record(location)  # refused: nothing to resume
        raise
    if first:
        clear_build_record(location)  # kept after a crash or a kill: the rerun reads the same folder
    return report


def _no_index_yet(location: StoreLocation) -> bool:
    try:
        return location.info() is None
    except StoreError:
        return False  # a damaged index records its folder in its manifest, whatever is left of it


@dataclass(frozen=True)
class Prepared:
    """What a server needs after start-up: the embedder the index was built with, and what happened."""

    embedder: Embedder
    articles: Path | None
    status: IndexStatus | None
    report: BuildReport | None


def prepare_for_serving(
    location: StoreLocation, articles: Path | None, *, allow_shrink: bool = False, say=print
) -> Prepared:
    """Start-up of a server (`qa chat`): the index built or brought up to date when it is missing or
    stale against its articles folder; an index whose folder is gone is served as it is."""
    from qa.embed import load_embedder
    from qa.store.local.location import LocalLocation

    if isinstance(location, LocalLocation) and location.path.exists() and not location.path.is_dir():
        raise UserError(f"--store must be a folder: {location.path} is a file")
    try:
        articles = articles_folder(location, articles)
    except UserError as error:
        if articles is not None:
            raise
        say(f"{error.__cause__}; serving the index as it is.")
        articles = None
    except StoreError:
        articles = config.SAMPLE_ARTICLES_DIR  # a damaged index: rebuilt from the samples, or refused
    info = location.info()
    if articles is None:
        if info is None:
            raise UserError(
                f"no index in {location} and no articles folder to build it from (--articles DIR)"
            )
        return Prepared(load_embedder(info.embedder), None, None, None)
    embedder = index_embedder(location)
    status = location.status(articles, embedder.name)
    report = None
    if status.stale:
        say(f"Index {location}: {status.describe()}; indexing {articles} ...")
        report = update_index(
            location, articles, embedder, allow_shrink=allow_shrink, show_progress=True, wait_seconds=60.0
        )
        say(
            f"Indexed {report.passages} passages from {articles} "
            f"({report.embedded_passages} embedded) in {report.seconds:.1f} s."
        )
    else:
        say(f"Index {location}: {status.describe()}.")
    for skipped in status.skipped:
        say(f"  skipped {skipped.path}: {skipped.reason}")
    return Prepared(embedder, articles, status, report)


def open_pipeline(
    location: StoreLocation,
    *,
    reader: str = "auto",
    threshold: float | None = None,
    embedder: Embedder | None = None,
    embed_backend: str | None = None,
    reader_backend: str | None = None,
    labels: FieldLabels = CLI_LABELS,
    passage_weight: float | None = None,
) -> QAPipeline:
    """The pipeline over `location`, loaded once; the threshold checked first (before the models)."""
    from qa.pipeline import QAPipeline

    return QAPipeline.load(
        location,
        reader=reader,
        embedder=embedder,
        no_answer_threshold=check_threshold(threshold, labels),
        embed_backend=embed_backend,
        reader_backend=reader_backend,
        passage_weight=passage_weight,
    )


class UpdateRefused(StoreError):
    """A watched folder's change that check_update refuses: said, and the watch goes on."""


def watch(
    location: StoreLocation,
    articles: Path,
    embedder: Embedder,
    *,
    allow_shrink: bool = False,
    interval: float = 1.0,
    say=print,
    stop=None,
) -> int:
    """`--watch`: new or changed files in `articles` indexed within seconds of being written, until
    Ctrl-C (or `stop`); the number of generations committed. The same guard as every update: a
    folder that empties (an unmounted share) is refused and the watch waits for the next change."""
    from qa.store.watch import watch_folder

    def check(status: IndexStatus) -> None:
        try:
            check_update(location, articles, status, allow_shrink=allow_shrink)
        except UserError as error:
            raise UpdateRefused(str(error)) from None

    def committed(report: BuildReport) -> None:
        status = report.status
        say(
            f"Indexed {len(status.added)} new, {len(status.changed)} changed, {len(status.removed)} removed "
            f"articles -> {location} ({report.passages} passages) in {report.seconds:.1f} s"
        )

    say(f"Watching {articles} for new or changed articles (Ctrl-C to stop) ...")
    return watch_folder(
        location,
        articles,
        embedder,
        interval=interval,
        on_commit=committed,
        on_error=lambda error: say(f"warning: {error}"),
        stop=stop,
        build_options={"check": check},
    )


def watch_in_background(location: StoreLocation, articles: Path, *, say=print) -> threading.Thread:
    """`qa chat --watch`: `watch` in a daemon thread with an embedder of its own (a tokenizer is not
    safe to share with the pipeline's questions); the chat serves each committed generation from its
    next question on."""

    def run() -> None:
        try:
            watch(location, articles, index_embedder(location), say=say)
        except Exception as error:  # noqa: BLE001 - the chat goes on serving what it has
            logger.exception("Watching %s stopped", articles)
            say(f"warning: watching {articles} stopped: {error}")

    thread = threading.Thread(target=run, name="qa-watch", daemon=True)
    thread.start()
    return thread


def merge(location: StoreLocation, *, wait_seconds: float = 0.0, show_progress: bool = False) -> BuildReport:
    """`qa index --merge`: every segment of a local index rewritten as one (a Milvus collection is
    one already: the server compacts its own segments)."""
    from qa.store.local.location import LocalLocation
    from qa.store.local.merge import merge_segments

    if not isinstance(location, LocalLocation):
        raise UserError(f"--merge is for a local index folder; {location} compacts its own segments")
    if location.info() is None:
        raise UserError(f"no index in {location} to merge")
    return merge_segments(location, wait_seconds=wait_seconds, show_progress=show_progress)
