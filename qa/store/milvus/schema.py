"""What a build writes to Milvus: collection names, the two collections' schemas, the manifest kept
in collection properties, and SearchFilter as a Milvus filter expression.

A store named NAME lives in collections named NAME__gen_000007 (passages: one row each, the row
number its primary key) and NAME__gen_000007_articles (article_id -> content_hash, what an
incremental build compares a folder with). The alias NAME points at the live passages collection.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from qa import config
from qa.dates import first_day, last_day
from qa.types import SearchFilter

FORMAT_VERSION = 1
ARTICLES_SUFFIX = "_articles"
PROPERTY_PREFIX = "newsqa."
# Milvus names: letters, digits and _, 255 at most; the longest suffix a build adds.
LONGEST_SUFFIX = len("__gen_000000" + ARTICLES_SUFFIX)

# How the keyword field is tokenised. "ours": the text as qa/store/tokens.py tokenises it for the
# local store (English stopwords dropped, Snowball-stemmed by PyStemmer), written space-separated,
# so any server's standard analyzer finds exactly our tokens. "server": the raw text, tokenised by
# the server (standard tokenizer, the same stopword list, and Milvus's English stemmer filter,
# which Milvus Lite ignores). docs/scale-out.md measures both.
KEYWORD_TOKENS = ("ours", "server")

# Fields of the passages collection.
ROW, VECTOR, TEXT, KEYWORDS, SPARSE = "row", "vector", "text", "keywords", "sparse"
PASSAGE_ID, ARTICLE_ID, DATE, SOURCE, PASSAGE = "passage_id", "article_id", "date", "source_lc", "passage"
PASSAGE_FIELDS = [
    ROW,
    VECTOR,
    TEXT,
    PASSAGE_ID,
    ARTICLE_ID,
    DATE,
    PASSAGE,
]  # all a Passage and its vector need
# Fields of the articles collection.
NUMBER, CONTENT_HASH, UNUSED = "number", "content_hash", "unused"


def generation_collection(name: str, number: int) -> str:
    return f"{name}__gen_{number:06d}"


def articles_collection(collection: str) -> str:
    return collection + ARTICLES_SUFFIX


def generation_number(name: str, collection: str) -> int | None:
    """7 for NAME__gen_000007; None for anything else (another store's or an articles collection)."""
    match = re.fullmatch(re.escape(name) + r"__gen_(\d{6,})", collection)
    return int(match[1]) if match else None


@dataclass(frozen=True)
class Description:
    """A generation's manifest (qa/store/local/files.py's Manifest, less the files): collection properties."""

    format_version: int
    embedder: str
    dimension: int
    passage_count: int
    article_count: int
    corpus_fingerprint: str
    created: str
    articles_dir: str
    first_date: str  # "" when no passage is dated
    last_date: str
    keyword_tokens: str
    complete: bool = False  # set last, once every row is in and counted: only a complete one goes live

    def to_properties(self) -> dict[str, str]:
        return {
            PROPERTY_PREFIX + key: str(int(value) if isinstance(value, bool) else value)
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> Description:
        """ValueError naming what is missing or malformed (a collection not written by a build)."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            key = PROPERTY_PREFIX + field.name
            if key not in properties:
                if field.name == "complete":
                    continue
                raise ValueError(f"property {key!r} is missing")
            raw = str(properties[key])
            values[field.name] = (
                bool(int(raw)) if field.type == "bool" else int(raw) if field.type == "int" else raw
            )
        return cls(**values)


def _analyzer_params(keyword_tokens: str) -> dict[str, Any]:
    from bm25s.stopwords import STOPWORDS_EN

    if keyword_tokens == "ours":
        return {"tokenizer": "standard"}  # our tokens are runs of word characters, already lower-cased
    return {
        "tokenizer": "standard",
        "filter": [
            "lowercase",
            {"type": "stop", "stop_words": sorted(STOPWORDS_EN)},
            {"type": "stemmer", "language": "english"},
        ],
    }


def create_passages_collection(connection, collection: str, dimension: int, description: Description) -> None:
    """The passages collection with its HNSW (inner product) and BM25 indexes, described by `description`."""
    from pymilvus import DataType, Function, FunctionType

    if description.keyword_tokens not in KEYWORD_TOKENS:
        raise ValueError(
            f"keyword_tokens must be one of {', '.join(KEYWORD_TOKENS)}, got {description.keyword_tokens!r}"
        )
    client = connection.client
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    text_limit = config.MILVUS_MAX_TEXT_BYTES
    schema.add_field(ROW, DataType.INT64, is_primary=True)
    schema.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field(TEXT, DataType.VARCHAR, max_length=text_limit)
    schema.add_field(
        KEYWORDS,
        DataType.VARCHAR,
        max_length=text_limit,
        enable_analyzer=True,
        analyzer_params=_analyzer_params(description.keyword_tokens),
    )
    schema.add_field(SPARSE, DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field(PASSAGE_ID, DataType.VARCHAR, max_length=text_limit)
    schema.add_field(ARTICLE_ID, DataType.VARCHAR, max_length=text_limit)
    schema.add_field(DATE, DataType.VARCHAR, max_length=10)  # "YYYY-MM-DD", "" when undated
    schema.add_field(
        SOURCE, DataType.VARCHAR, max_length=text_limit
    )  # "source\npath", lower-cased: `like` is case-sensitive
    schema.add_field(PASSAGE, DataType.JSON)  # title, place, source, path, paragraph, article_offset
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=[KEYWORDS],
            output_field_names=[SPARSE],
        )
    )
    indexes = client.prepare_index_params()
    indexes.add_index(
        VECTOR,
        index_type="HNSW",
        metric_type="IP",
        params={"M": config.MILVUS_HNSW_M, "efConstruction": config.MILVUS_HNSW_EF_CONSTRUCTION},
    )
    indexes.add_index(
        SPARSE,
        index_type="SPARSE_INVERTED_INDEX",
        metric_type="BM25",
        params={"bm25_k1": config.MILVUS_BM25_K1, "bm25_b": config.MILVUS_BM25_B},
    )
    connection.call(
        f"creating {collection}",
        "create_collection",
        collection,
        schema=schema,
        index_params=indexes,
        properties=description.to_properties(),
        consistency_level="Strong",
    )


def create_articles_collection(connection, collection: str) -> None:
    """article_id -> content_hash, numbered from 0 in article id order (read back page by page by
    number). Milvus wants a vector field in every collection: a constant one."""
    from pymilvus import DataType

    client = connection.client
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(NUMBER, DataType.INT64, is_primary=True)
    schema.add_field(ARTICLE_ID, DataType.VARCHAR, max_length=config.MILVUS_MAX_TEXT_BYTES)
    schema.add_field(CONTENT_HASH, DataType.VARCHAR, max_length=64)
    schema.add_field(UNUSED, DataType.FLOAT_VECTOR, dim=2)
    indexes = client.prepare_index_params()
    indexes.add_index(UNUSED, index_type="FLAT", metric_type="IP")
    connection.call(
        f"creating {collection}",
        "create_collection",
        collection,
        schema=schema,
        index_params=indexes,
        consistency_level="Strong",
    )


def article_records(hashes: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {NUMBER: number, ARTICLE_ID: article_id, CONTENT_HASH: hashes[article_id], UNUSED: [1.0, 0.0]}
        for number, article_id in enumerate(sorted(hashes))
    ]


def range_expression(field: str, start: int, stop: int) -> str:
    return f"{field} >= {start} and {field} < {stop}"


def literal(text: str) -> str:
    """A string literal of Milvus's filter language."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def like_contains(text: str) -> str:
    """A `like` pattern matching any value that contains `text`. % and _ are escaped; a backslash
    becomes _ (any one character), because Milvus Lite cannot match a literal one."""
    escaped = "".join("_" if ch == "\\" else f"\\{ch}" if ch in "%_" else ch for ch in text)
    return f"%{escaped}%"


def filter_expression(search_filter: SearchFilter | None) -> str:
    """SearchFilter in Milvus's filter language ("" for none), with the local store's meaning: a
    bound covers its whole period, undated passages are out when a bound is set, and the source
    matches part of the source URL or path, case-insensitively.

    Example:
        >>> filter_expression(SearchFilter(date_to="2019-11", source="Example.ORG"))
        'date != "" and date <= "2019-11-30" and source_lc like "%example.org%"'
    """
    if search_filter is None or not search_filter.active:
        return ""
    parts = []
    if search_filter.date_from:
        parts.append(
            f"{DATE} >= {literal(first_day(search_filter.date_from))}"
        )  # "" sorts first: undated are out
    if search_filter.date_to:
        parts.append(f'{DATE} != "" and {DATE} <= {literal(last_day(search_filter.date_to))}')
    if search_filter.source:
        parts.append(f"{SOURCE} like {literal(like_contains(search_filter.source.lower()))}")
    return " and ".join(parts)


def rows_expression(rows) -> str:
    return f"{ROW} in [{', '.join(str(int(r)) for r in rows)}]"
