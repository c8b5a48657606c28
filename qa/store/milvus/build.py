"""The indexing job for a Milvus store: articles folder -> a new collection, then the alias switched to it.

Each build writes a complete new generation (NAME__gen_000008 and its _articles collection),
counts it, marks it complete and only then moves the alias NAME from the live generation to it
(`alter_alias`, atomic on the server). A build killed at any moment, or a server that dies under
it, leaves the alias on the last good generation; the next build drops what was left half-written.
The previous generation stays until the next build commits (readers still on it finish their
question), older ones are dropped. Vectors of unchanged articles are copied from the live
collection instead of embedded again, as the local build copies them (qa/store/local/build.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import config
from qa.ingest.articles import load_articles
from qa.ingest.split import split_article
from qa.store.address import MilvusAddress
from qa.store.lock import exclusive_build
from qa.store.milvus import schema
from qa.store.milvus.client import (
    Connection,
    IncompatibleStoreError,
    MilvusStoreError,
    connect,
)
from qa.store.milvus.records import (
    check_compatible,
    count_rows,
    passage_record,
    read_articles,
    read_description,
)
from qa.store.pause import pause_for_tests
from qa.store.report import BuildReport, IndexStatus, compare_hashes, corpus_fingerprint
from qa.types import Embedder, Passage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveGeneration:
    collection: str
    description: schema.Description
    articles: dict[str, str]


def milvus_status(address: MilvusAddress, articles_dir: Path, embedder_name: str) -> IndexStatus:
    """How the live generation compares with the folder; changes nothing.

    Always reads every article: the stat-only first check of a local index (qa/ingest/listing.py)
    is not kept here, as a listing would need a collection of its own (Milvus collections carry
    a vector field) dropped and switched with each generation.
    """
    report = load_articles(articles_dir)
    live = _live(connect(address), address, embedder_name)
    return compare_hashes(report.articles, live.articles if live else None, report.skipped)


def build_milvus(
    address: MilvusAddress,
    articles_dir: Path | str,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    wait_seconds: float = 0.0,
    show_progress: bool = False,
    dense_index: str = "auto",
    keyword_tokens: str = "ours",
    check: Callable[[IndexStatus], None] | None = None,
) -> BuildReport:
    """Index the articles into a new generation and switch the alias to it; embed only new or changed
    articles. `check` sees the comparison before anything is written, and may refuse by raising.

    Example:
        >>> from qa.embed import load_embedder
        >>> news = parse_milvus_address("milvus://127.0.0.1:19530/news")
        >>> build_milvus(news, "articles/", load_embedder())  # doctest: +SKIP
    """
    if dense_index != "auto":
        raise ValueError(
            "--dense-index is for a local index; a Milvus store is indexed with HNSW on the server (got "
            f"{dense_index!r})"
        )
    if keyword_tokens not in schema.KEYWORD_TOKENS:
        raise ValueError(
            f"keyword_tokens must be one of {', '.join(schema.KEYWORD_TOKENS)}, got {keyword_tokens!r}"
        )
    if len(address.name) + schema.LONGEST_SUFFIX > 255:
        raise ValueError(
            f"the store name {address.name!r} is too long: Milvus names hold 255 characters, "
            f"and a build adds {schema.LONGEST_SUFFIX}"
        )
    started = time.perf_counter()
    articles_dir = Path(articles_dir).resolve()  # recorded: found again from any working directory
    report = load_articles(articles_dir)
    connection = connect(address)
    with build_lock(address, wait_seconds=wait_seconds):
        live = None if rebuild else _live(connection, address, embedder.name)
        status = compare_hashes(report.articles, live.articles if live else None, report.skipped)
        if check is not None:
            check(status)
        if live is not None and not status.stale and live.description.keyword_tokens == keyword_tokens:
            return BuildReport(status, live.description.passage_count, 0, time.perf_counter() - started, None)
        hashes = {a.article_id: a.content_hash for a in report.articles}
        unchanged = {a for a in hashes if live is not None and live.articles.get(a) == hashes[a]}
        # In article id order, as the local build writes them: the same folder, the same rows.
        passages = [
            p
            for article in sorted(report.articles, key=lambda a: a.article_id)
            for p in split_article(article)
        ]
        del report
        reuse_rows = _reusable_rows(connection, live, unchanged, passages)
        _drop_unfinished(connection, address)
        collection = _write_generation(
            connection,
            address,
            passages,
            reuse_rows,
            live,
            embedder,
            hashes,
            str(articles_dir),
            keyword_tokens,
            show_progress,
        )
        embedded = sum(1 for row in reuse_rows if row < 0)
    return BuildReport(status, len(passages), embedded, time.perf_counter() - started, collection)


def _live(connection: Connection, address: MilvusAddress, embedder_name: str) -> LiveGeneration | None:
    """The live generation when its vectors can be reused with this embedder, else None (a server
    that fails while this is read is an error, not a reason to re-embed everything)."""
    collection = connection.alias_target(address.name)
    if collection is None:
        return None
    try:
        description = read_description(connection, collection)
        check_compatible(address, collection, description, embedder_name)
    except IncompatibleStoreError as error:
        logger.warning("Not reusing the live collection: %s", error)
        return None
    connection.ensure_loaded(collection)
    return LiveGeneration(
        collection, description, read_articles(connection, collection, description.article_count)
    )


def _reusable_rows(
    connection: Connection, source: LiveGeneration | None, unchanged: set[str], passages: Sequence[Passage]
) -> list[int]:
    """For each passage, its row in the live collection when its vector can be copied, else -1."""
    if source is None or not unchanged:
        return [-1] * len(passages)
    # passage_id -> (digest of its text, row): a digest, not the text, so that a build of tens of
    # millions of passages does not hold the live collection's text in memory.
    known: dict[str, tuple[bytes, int]] = {}
    count = source.description.passage_count
    for start in range(0, count, config.MILVUS_QUERY_BATCH):
        expression = schema.range_expression(schema.ROW, start, min(start + config.MILVUS_QUERY_BATCH, count))
        for record in connection.call(
            "reading the live passages",
            "query",
            source.collection,
            filter=expression,
            output_fields=[schema.ROW, schema.PASSAGE_ID, schema.ARTICLE_ID, schema.TEXT],
        ):
            if record[schema.ARTICLE_ID] in unchanged:
                known[record[schema.PASSAGE_ID]] = (_digest(record[schema.TEXT]), int(record[schema.ROW]))
    rows = []
    for passage in passages:
        hit = known.get(passage.passage_id)
        rows.append(hit[1] if hit is not None and hit[0] == _digest(passage.text) else -1)
    return rows


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _write_generation(
    connection: Connection,
    address: MilvusAddress,
    passages: Sequence[Passage],
    reuse_rows: Sequence[int],
    source: LiveGeneration | None,
    embedder: Embedder,
    hashes: dict[str, str],
    articles_dir: str,
    keyword_tokens: str,
    show_progress: bool,
) -> str:
    """Write a complete generation, switch the alias to it, drop the ones before the previous; its name."""
    from qa.store.tokens import tokenize

    numbers = [
        n
        for c in connection.collections(address.name + "__gen_")
        if (n := schema.generation_number(address.name, c)) is not None
    ]
    collection = schema.generation_collection(address.name, 1 + max(numbers, default=0))
    dates = sorted(p.date for p in passages if p.date)
    description = schema.Description(
        format_version=schema.FORMAT_VERSION,
        embedder=embedder.name,
        dimension=int(embedder.dimension),
        passage_count=len(passages),
        article_count=len(hashes),
        corpus_fingerprint=corpus_fingerprint(hashes),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        articles_dir=articles_dir,
        first_date=dates[0] if dates else "",
        last_date=dates[-1] if dates else "",
        keyword_tokens=keyword_tokens,
    )
    schema.create_passages_collection(connection, collection, int(embedder.dimension), description)
    schema.create_articles_collection(connection, schema.articles_collection(collection))
    article_rows = schema.article_records(hashes)
    for start in range(0, len(article_rows), config.MILVUS_INSERT_BATCH):
        connection.call(
            f"writing articles to {collection}",
            "insert",
            schema.articles_collection(collection),
            article_rows[start : start + config.MILVUS_INSERT_BATCH],
        )

    to_embed, embedded = sum(1 for row in reuse_rows if row < 0), 0
    pause_for_tests("embedding")
    for start in range(0, len(passages), config.EMBED_CHUNK):
        stop = min(start + config.EMBED_CHUNK, len(passages))
        vectors = np.empty((stop - start, int(embedder.dimension)), dtype=np.float32)
        fresh = [i for i in range(start, stop) if reuse_rows[i] < 0]
        if fresh:
            vectors[[i - start for i in fresh]] = embedder.encode([passages[i].text for i in fresh])
            embedded += len(fresh)
            if show_progress:
                print(
                    f"\rembedded {embedded:,} of {to_embed:,} passages", end="", file=sys.stderr, flush=True
                )
        copied = [i for i in range(start, stop) if reuse_rows[i] >= 0]
        if copied:
            vectors[[i - start for i in copied]] = _live_vectors(
                connection, source, [reuse_rows[i] for i in copied]
            )
        texts = [passages[i].text for i in range(start, stop)]
        keywords = [" ".join(tokens) for tokens in tokenize(texts)] if keyword_tokens == "ours" else texts
        records = [
            passage_record(start + j, passages[start + j], vectors[j], keywords[j])
            for j in range(stop - start)
        ]
        for batch in range(0, len(records), config.MILVUS_INSERT_BATCH):
            connection.call(
                f"writing passages to {collection}",
                "insert",
                collection,
                records[batch : batch + config.MILVUS_INSERT_BATCH],
            )
        pause_for_tests("milvus-writing")  # tests only: part of the rows are in, the generation is unfinished
    if show_progress and to_embed:
        print(file=sys.stderr)

    for name in (collection, schema.articles_collection(collection)):
        connection.call(f"flushing {name}", "flush", name)
    rows, articles = (
        count_rows(connection, collection),
        count_rows(connection, schema.articles_collection(collection)),
    )
    if (rows, articles) != (len(passages), len(hashes)):
        raise MilvusStoreError(
            f"{address}: {collection} holds {rows} passages and {articles} articles after writing "
            f"{len(passages)} and {len(hashes)}; the alias stays on the last good generation"
        )
    if config.MILVUS_REPLICAS > 1:  # loaded on creation with one; readers get every replica from the start
        connection.call(f"releasing {collection}", "release_collection", collection)
        connection.call(
            f"loading {collection} with {config.MILVUS_REPLICAS} replicas",
            "load_collection",
            collection,
            replica_number=config.MILVUS_REPLICAS,
        )
    complete = schema.Description(**{**description.__dict__, "complete": True})
    connection.call(
        f"marking {collection} complete", "alter_collection_properties", collection, complete.to_properties()
    )
    pause_for_tests("before-commit")
    live = connection.alias_target(address.name)
    if live is None:
        connection.call(f"creating the alias {address.name}", "create_alias", collection, address.name)
    else:
        connection.call(
            f"switching the alias {address.name}", "alter_alias", collection, address.name
        )  # the commit point
    pause_for_tests("after-commit")
    _drop_old(connection, address, keep={collection, live})
    return collection


def _live_vectors(connection: Connection, source: LiveGeneration | None, rows: Sequence[int]) -> np.ndarray:
    """The live collection's vectors of these rows, in this order (copied, not embedded again)."""
    found: dict[int, list[float]] = {}
    for start in range(0, len(rows), config.MILVUS_QUERY_BATCH):
        chunk = list(rows[start : start + config.MILVUS_QUERY_BATCH])
        for record in connection.call(
            "copying vectors",
            "query",
            source.collection,
            ids=chunk,
            output_fields=[schema.ROW, schema.VECTOR],
        ):
            found[int(record[schema.ROW])] = record[schema.VECTOR]
    missing = [row for row in rows if row not in found]
    if missing:
        raise MilvusStoreError(
            f"{connection.address}: the live collection {source.collection} lost row {missing[0]} "
            f"while this build copied it; rerun with --rebuild"
        )
    return np.asarray([found[row] for row in rows], dtype=np.float32)


def _drop_unfinished(connection: Connection, address: MilvusAddress) -> None:
    """Drop generations newer than the live one: left by builds killed before their commit."""
    live = connection.alias_target(address.name)
    live_number = schema.generation_number(address.name, live) if live else 0
    for collection in connection.collections(address.name + "__gen_"):
        number = schema.generation_number(address.name, collection.removesuffix(schema.ARTICLES_SUFFIX))
        if number is not None and number > (live_number or 0):
            logger.info("Dropping %s, left by an interrupted build", collection)
            connection.call(f"dropping {collection}", "drop_collection", collection)


def _drop_old(connection: Connection, address: MilvusAddress, keep: set[str | None]) -> None:
    """Drop every generation but the new live one and the one before it (readers may still be on it)."""
    keep_all = {name for c in keep if c for name in (c, schema.articles_collection(c))}
    for collection in connection.collections(address.name + "__gen_"):
        if (
            collection not in keep_all
            and schema.generation_number(address.name, collection.removesuffix(schema.ARTICLES_SUFFIX))
            is not None
        ):
            connection.call(f"dropping {collection}", "drop_collection", collection)


@contextlib.contextmanager
def build_lock(address: MilvusAddress, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """One build of a store at a time from this machine (a lock file in the store's state folder).

    Builds of one store from two machines are not kept apart: run them from one place (a job, a
    cron entry), as docs/scale-out.md says.
    """
    with exclusive_build(
        address.state_dir / "build.lock", str(address), wait_seconds=wait_seconds, error=MilvusStoreError
    ):
        yield
