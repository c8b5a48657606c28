"""Passages on disk: one SQLite file read by row on demand, and the filter columns as memory-mapped .npy.

A million passages held as Python objects cost gigabytes and tens of seconds to load; here a load
opens a file, and a question reads the few dozen rows it ranks. Rows are the vector rows.

    passages.sqlite   articles (one row per distinct article metadata), passages (row, article,
                      paragraph, passage_id, text, article_offset), sources (the lower-cased
                      "source\\npath" texts the source filter matches)
    dates.npy         int32 per passage: the date as YYYYMMDD, 0 when undated (the date filter)
    sources.npy       int32 per passage: its row in the sources table (the source filter)
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from qa.store.local.npy import load_npy
from qa.types import Passage

PASSAGES_FILE = "passages.sqlite"
DATES_FILE = "dates.npy"
SOURCES_FILE = "sources.npy"

_SCHEMA = """
CREATE TABLE articles (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, title TEXT NOT NULL, date TEXT,
                       place TEXT, source TEXT NOT NULL, path TEXT NOT NULL);
CREATE TABLE passages (row INTEGER PRIMARY KEY, article INTEGER NOT NULL, paragraph INTEGER NOT NULL,
                       passage_id TEXT NOT NULL, text TEXT NOT NULL, article_offset INTEGER);
CREATE TABLE sources (id INTEGER PRIMARY KEY, key TEXT NOT NULL);
CREATE TABLE article_hashes (article_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL);
"""
_SELECT = (
    "SELECT p.row, p.passage_id, a.article_id, a.title, a.date, a.place, a.source, a.path, p.paragraph, "
    "p.text, {offset} FROM passages p JOIN articles a ON a.id = p.article"
)
# Tables written before passages kept their article offset lack the column (and the format version
# did not change for it: a column more is invisible to older readers): their offsets read as None.
_OFFSET_COLUMN = "article_offset"
_BATCH = 10_000  # rows per executemany while writing
_IN_LIMIT = 500  # rows per "WHERE row IN (...)": well under SQLite's variable limit


def date_number(date: str | None) -> int:
    """20240314 for "2024-03-14", 0 for no date: ISO dates order as these integers do."""
    return int(date[:10].replace("-", "")) if date else 0


def source_key(source: str, path: str) -> str:
    """What the source filter matches, case-insensitively: the source URL and the file path."""
    return f"{source}\n{path}".lower()


@dataclass(frozen=True)
class WrittenPassages:
    count: int
    first_date: str | None
    last_date: str | None


def write_passages(
    folder: Path, passages: Iterable[Passage], article_hashes: Mapping[str, str] = MappingProxyType({})
) -> WrittenPassages:
    """Write the table and the filter columns into `folder`, in the order given (row i is passage i),
    with each article's content hash (what the next build compares a folder with)."""
    db = sqlite3.connect(folder / PASSAGES_FILE)
    try:
        # A staging file that the caller fsyncs and publishes whole: no journal needed.
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.executescript(_SCHEMA)
        articles: dict[tuple, int] = {}
        sources: dict[str, int] = {}
        dates, source_rows = array("i"), array("i")
        batch: list[tuple] = []
        row = -1
        for row, passage in enumerate(passages):
            key = (
                passage.article_id,
                passage.title,
                passage.date,
                passage.place,
                passage.source,
                passage.path,
            )
            article = articles.get(key)
            if article is None:
                article = articles[key] = len(articles)
                db.execute("INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?)", (article, *key))
            text_key = source_key(passage.source, passage.path)
            source = sources.get(text_key)
            if source is None:
                source = sources[text_key] = len(sources)
                db.execute("INSERT INTO sources VALUES (?, ?)", (source, text_key))
            dates.append(date_number(passage.date))
            source_rows.append(source)
            batch.append(
                (row, article, passage.paragraph, passage.passage_id, passage.text, passage.article_offset)
            )
            if len(batch) >= _BATCH:
                db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)", batch)
                batch.clear()
        db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?)", batch)
        db.executemany("INSERT INTO article_hashes VALUES (?, ?)", sorted(article_hashes.items()))
        db.commit()
    finally:
        db.close()
    date_column = np.frombuffer(dates, dtype=np.int32) if len(dates) else np.zeros(0, np.int32)
    np.save(folder / DATES_FILE, date_column)
    np.save(
        folder / SOURCES_FILE,
        np.frombuffer(source_rows, dtype=np.int32) if len(source_rows) else np.zeros(0, np.int32),
    )
    dated = date_column[date_column > 0]
    return WrittenPassages(
        row + 1,
        iso_date(int(dated.min())) if len(dated) else None,
        iso_date(int(dated.max())) if len(dated) else None,
    )


def iso_date(number: int) -> str:
    text = f"{number:08d}"
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


class PassageTable(Sequence[Passage]):
    """The passages of one generation, read by row on demand: len(), [row], [a:b] and iteration.

    One read-only connection shared by threads under a lock: a question reads a few dozen rows
    by primary key, microseconds each.

    Example:
        >>> table = PassageTable(generation / PASSAGES_FILE)  # doctest: +SKIP
        >>> [p.passage_id for p in table.get([12, 3])]  # doctest: +SKIP
        ['tram-line.md::4.0', 'election.md::1.0']
    """

    def __init__(self, path: Path):
        # immutable=1: a generation never changes once written, so SQLite takes no file locks and
        # never checks for writers; read-only, so a reader can never modify it.
        uri = f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._count = int(
                self._db.execute("SELECT coalesce(max(row) + 1, 0) FROM passages").fetchone()[0]
            )
            columns = {record[1] for record in self._db.execute("PRAGMA table_info(passages)")}
        self._select = _SELECT.format(offset=f"p.{_OFFSET_COLUMN}" if _OFFSET_COLUMN in columns else "NULL")

    def __len__(self) -> int:
        return self._count

    def get(self, rows: Sequence[int]) -> list[Passage]:
        """The passages at these rows (each in [0, len)), in the order asked, repeats included."""
        wanted = [int(r) for r in rows]
        found: dict[int, Passage] = {}
        unique = sorted(set(wanted))
        with self._lock:
            for start in range(0, len(unique), _IN_LIMIT):
                part = unique[start : start + _IN_LIMIT]
                query = f"{self._select} WHERE p.row IN ({','.join('?' * len(part))})"
                for record in self._db.execute(query, part):
                    found[record[0]] = _passage(record)
        missing = [r for r in wanted if r not in found]
        if missing:
            raise IndexError(f"row {missing[0]} is not in this table of {self._count} passages")
        return [found[r] for r in wanted]

    def __getitem__(self, index):  # Sequence: int or slice
        if isinstance(index, slice):
            return self.get(range(*index.indices(self._count)))
        row = index + self._count if index < 0 else index
        if not 0 <= row < self._count:
            raise IndexError(f"row {index} is not in this table of {self._count} passages")
        return self.get([row])[0]

    def __iter__(self) -> Iterator[Passage]:
        """Every passage in row order, read in pages (a full pass is for tests and builds, not questions)."""
        for start in range(0, self._count, _BATCH):
            with self._lock:
                records = self._db.execute(
                    f"{self._select} WHERE p.row >= ? AND p.row < ? ORDER BY p.row", (start, start + _BATCH)
                ).fetchall()
            yield from (_passage(r) for r in records)

    def texts_by_id(self, article_ids: Iterable[str]) -> Iterator[tuple[int, str, str]]:
        """(row, passage_id, text) of the passages of these articles: what an incremental build reuses.

        Streams without the lock: for a build, which opens a table of its own.
        """
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (article_id TEXT PRIMARY KEY)")
        self._db.execute("DELETE FROM wanted")
        self._db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", ((a,) for a in article_ids))
        records = self._db.execute(
            "SELECT p.row, p.passage_id, p.text FROM passages p JOIN articles a ON a.id = p.article "
            "WHERE a.article_id IN (SELECT article_id FROM wanted) ORDER BY p.row"
        )
        while batch := records.fetchmany(_BATCH):
            yield from batch

    def article_hashes(self) -> dict[str, str]:
        """article_id -> content_hash of every article indexed (for builds; a dict of all articles)."""
        with self._lock:
            return dict(self._db.execute("SELECT article_id, content_hash FROM article_hashes"))

    def titles(self, limit: int) -> list[str]:
        """The first `limit` articles' titles (the article id where a title is empty), in row order."""
        with self._lock:
            records = self._db.execute("SELECT title, article_id FROM articles ORDER BY id").fetchmany(
                max(0, limit) * 2 + 1
            )
        titles: dict[str, str] = {}
        for title, article_id in records:  # an article with two metadata rows still counts once
            titles.setdefault(article_id, title or article_id)
            if len(titles) >= limit:
                break
        return list(titles.values())

    def sources_matching(self, needle: str) -> np.ndarray:
        """Rows of the sources table whose "source\\npath" holds `needle`, case-insensitively."""
        with self._lock:
            found = self._db.execute(
                "SELECT id FROM sources WHERE instr(key, ?) > 0", (needle.lower(),)
            ).fetchall()
            size = int(self._db.execute("SELECT coalesce(max(id) + 1, 0) FROM sources").fetchone()[0])
        matched = np.zeros(size, dtype=bool)
        matched[[r[0] for r in found]] = True
        return matched

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _passage(record: tuple) -> Passage:
    _row, passage_id, article_id, title, date, place, source, path, paragraph, text, offset = record
    return Passage(passage_id, article_id, title, date, place, source, path, paragraph, text, offset)


def read_column(path: Path) -> np.ndarray:
    """A filter column, memory-mapped (a million passages: 4 MB, paged in by the first filter)."""
    return load_npy(path, mmap_mode="r")
