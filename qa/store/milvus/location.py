"""milvus://HOST:PORT/NAME as a StoreLocation: what `--store milvus://...` opens, builds, checks and
reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.store.address import MilvusAddress
from qa.store.milvus import schema
from qa.store.milvus.client import MilvusStoreError, connect
from qa.store.protocol import StoredIndexInfo
from qa.store.report import corpus_fingerprint

if TYPE_CHECKING:
    from qa.store.milvus.store import MilvusStore
    from qa.store.report import BuildReport, IndexStatus
    from qa.types import Embedder


@dataclass(frozen=True)
class MilvusLocation:
    """A store on a Milvus server (Lite, Standalone or Distributed): the alias NAME and its generations."""

    address: MilvusAddress

    def __str__(self) -> str:
        return str(self.address)

    @property
    def state_dir(self) -> Path:
        return self.address.state_dir

    def info(self) -> StoredIndexInfo | None:
        from qa.store.milvus.records import read_description

        connection = connect(self.address)
        collection = connection.alias_target(self.address.name)
        if collection is None:
            return None
        description = read_description(connection, collection)
        return StoredIndexInfo(
            description.embedder,
            description.passage_count,
            description.article_count,
            description.articles_dir,
        )

    def open(self, *, embedder: str | None = None, verify: bool = True) -> MilvusStore:
        from qa.store.milvus.store import open_milvus_store

        return open_milvus_store(self.address, embedder=embedder, verify=verify)

    def check(self) -> str:
        """Every row and every article against the manifest in the collection's properties."""
        from qa.store.milvus.records import count_rows, read_articles
        from qa.store.milvus.store import open_milvus_store

        store = open_milvus_store(self.address, verify=True)
        connection, collection, description = store.connection, store.collection, store.description
        problems = []
        numbered = count_rows(
            connection, collection, schema.range_expression(schema.ROW, 0, description.passage_count)
        )
        if numbered != description.passage_count:
            problems.append(
                f"rows 0 to {description.passage_count - 1} hold {numbered} passages, not "
                f"{description.passage_count}"
            )
        articles = read_articles(connection, collection, description.article_count)
        listed = count_rows(connection, schema.articles_collection(collection))
        if len(articles) != description.article_count or listed != description.article_count:
            problems.append(f"{listed} articles listed, the manifest says {description.article_count}")
        if corpus_fingerprint(articles) != description.corpus_fingerprint:
            problems.append("the article hashes do not match the manifest's fingerprint")
        if problems:
            raise MilvusStoreError(
                f"{self.address}: {collection} is damaged: {'; '.join(problems)}. "
                f"Rebuild it with: qa index --rebuild --articles DIR --store {self.address}"
            )
        return (
            f"{self.address}: alias {self.address.name} -> {collection}, {description.passage_count} rows "
            f"and {description.article_count} articles match its manifest (embedder {description.embedder})"
        )

    def status(self, articles_dir: Path, embedder_name: str) -> IndexStatus:
        from qa.store.milvus.build import milvus_status

        return milvus_status(self.address, articles_dir, embedder_name)

    def build(self, articles_dir: Path, embedder: Embedder, **options) -> BuildReport:
        from qa.store.milvus.build import build_milvus

        return build_milvus(self.address, articles_dir, embedder, **options)
