"""What a collection holds, read and written row by row: a passage as a record and back, the row count,
the manifest in the collection's properties, the article hashes, and whether a generation may be served."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from qa import config
from qa.store.address import MilvusAddress
from qa.store.milvus import schema
from qa.store.milvus.client import Connection, IncompatibleStoreError, MilvusStoreError
from qa.types import Passage


def passage_from_record(record: Mapping[str, Any]) -> Passage:
    extra = record[schema.PASSAGE]
    return Passage(
        passage_id=record[schema.PASSAGE_ID],
        article_id=record[schema.ARTICLE_ID],
        title=extra["title"],
        date=record[schema.DATE] or None,
        place=extra.get("place"),
        source=extra["source"],
        path=extra["path"],
        paragraph=int(extra["paragraph"]),
        text=record[schema.TEXT],
        # Collections built before passages kept their offset lack the key: None, as for a hand-made passage.
        article_offset=extra.get("article_offset"),
    )


def passage_record(row: int, passage: Passage, vector: np.ndarray, keywords: str) -> dict[str, Any]:
    """The row a build inserts for a passage; MilvusStoreError naming a passage too long for a VARCHAR
    field."""
    record = {
        schema.ROW: row,
        schema.VECTOR: vector.tolist(),
        schema.TEXT: passage.text,
        schema.KEYWORDS: keywords,
        schema.PASSAGE_ID: passage.passage_id,
        schema.ARTICLE_ID: passage.article_id,
        schema.DATE: passage.date or "",
        schema.SOURCE: f"{passage.source}\n{passage.path}".lower(),
        schema.PASSAGE: {
            "title": passage.title,
            "place": passage.place,
            "source": passage.source,
            "path": passage.path,
            "paragraph": passage.paragraph,
            "article_offset": passage.article_offset,
        },
    }
    for field in (schema.TEXT, schema.KEYWORDS, schema.SOURCE, schema.PASSAGE_ID):
        if len(record[field].encode("utf-8")) > config.MILVUS_MAX_TEXT_BYTES:
            raise MilvusStoreError(
                f"passage {passage.passage_id}: its {field} field is over Milvus's "
                f"{config.MILVUS_MAX_TEXT_BYTES:,} "
                "bytes; split the article's paragraph (or keep this corpus in a local index)"
            )
    return record


def count_rows(connection: Connection, collection: str, expression: str = "") -> int:
    result = connection.call(
        f"counting the rows of {collection}",
        "query",
        collection,
        filter=expression,
        output_fields=["count(*)"],
    )
    return int(result[0]["count(*)"])


def read_description(connection: Connection, collection: str) -> schema.Description:
    properties = connection.call(f"reading {collection}", "describe_collection", collection).get(
        "properties", {}
    )
    try:
        return schema.Description.from_properties(properties)
    except (ValueError, TypeError) as error:
        raise IncompatibleStoreError(
            f"{connection.address}: {collection} was not written by `qa index` or is damaged ({error}). "
            f"Rebuild it with: qa index --rebuild --articles DIR --store {connection.address}"
        ) from None


def read_articles(connection: Connection, collection: str, count: int) -> dict[str, str]:
    """article_id -> content_hash of a generation (its _articles collection, `count` rows)."""
    articles = schema.articles_collection(collection)
    connection.ensure_loaded(articles)
    hashes: dict[str, str] = {}
    for start in range(0, count, config.MILVUS_QUERY_BATCH):
        expression = schema.range_expression(
            schema.NUMBER, start, min(start + config.MILVUS_QUERY_BATCH, count)
        )
        for record in connection.call(
            f"reading the articles of {collection}",
            "query",
            articles,
            filter=expression,
            output_fields=[schema.ARTICLE_ID, schema.CONTENT_HASH],
        ):
            hashes[record[schema.ARTICLE_ID]] = record[schema.CONTENT_HASH]
    return hashes


def check_compatible(
    address: MilvusAddress, collection: str, description: schema.Description, embedder: str | None
) -> None:
    rebuild = f"Rebuild it with: qa index --rebuild --articles DIR --store {address}"
    if description.format_version != schema.FORMAT_VERSION:
        raise IncompatibleStoreError(
            f"{address}: {collection} has format version {description.format_version}; this version of qa "
            f"reads format {schema.FORMAT_VERSION}. {rebuild}"
        )
    if not description.complete:
        raise IncompatibleStoreError(f"{address}: {collection} is an unfinished build. {rebuild}")
    if embedder is not None and description.embedder != embedder:
        raise IncompatibleStoreError(
            f"{address}: {collection} was built with the embedding model {description.embedder!r}, not "
            f"{embedder!r}; its vectors cannot be searched with another model. Use --embedder "
            f"{description.embedder} or {rebuild[0].lower()}{rebuild[1:]}"
        )
