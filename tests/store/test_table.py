"""qa/store/local/table.py: passages written to SQLite and read back by row, with the filter columns."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading

import numpy as np
import pytest

from qa.store.local.table import (
    DATES_FILE,
    PASSAGES_FILE,
    SOURCES_FILE,
    PassageTable,
    date_number,
    read_column,
    write_passages,
)
from qa.types import Passage


def _passages() -> list[Passage]:
    made = []
    for article, (date, source) in enumerate(
        [
            ("2024-03-14", "https://Example.org/tram"),
            (None, "notes/b.md"),
            ("2023-12-01", "https://wire.example/c"),
        ]
    ):
        for paragraph in range(3):
            made.append(
                Passage(
                    f"a{article}.md::{paragraph}.0",
                    f"a{article}.md",
                    f"Title {article}" if article != 1 else "",
                    date,
                    "Valmora" if article == 0 else None,
                    source,
                    f"/corpus/a{article}.md",
                    paragraph,
                    f"Article {article}, paragraph {paragraph}: é ünïcode — text.",
                )
            )
    return made


@pytest.fixture()
def written(tmp_path):
    stats = write_passages(tmp_path, _passages())
    return tmp_path, stats


def test_rows_come_back_equal_in_the_order_asked_with_repeats(written):
    folder, stats = written
    passages, table = _passages(), PassageTable(folder / PASSAGES_FILE)
    assert stats.count == len(table) == len(passages) == 9
    assert table.get([7, 0, 7, 4]) == [passages[7], passages[0], passages[7], passages[4]]
    assert list(table) == passages and table[-1] == passages[-1] and table[2:5] == passages[2:5]
    with pytest.raises(IndexError, match="row 9 is not in this table of 9 passages"):
        table.get([1, 9])


def test_the_date_range_the_filter_columns_and_the_titles(written):
    folder, stats = written
    assert (stats.first_date, stats.last_date) == ("2023-12-01", "2024-03-14")
    dates = read_column(folder / DATES_FILE)
    assert (
        dates.tolist() == [20240314] * 3 + [0] * 3 + [20231201] * 3 and date_number("2024-03-14") == 20240314
    )
    table = PassageTable(folder / PASSAGES_FILE)
    sources = read_column(folder / SOURCES_FILE)
    assert np.flatnonzero(table.sources_matching("EXAMPLE.ORG")[sources]).tolist() == [0, 1, 2]
    assert np.flatnonzero(table.sources_matching("/corpus/a1")[sources]).tolist() == [
        3,
        4,
        5,
    ]  # the path counts too
    assert not table.sources_matching("nowhere.example")[sources].any()
    assert table.titles(2) == ["Title 0", "a1.md"]  # an empty title shows the article id


def test_an_incremental_build_reads_only_the_passages_of_the_articles_it_reuses(written):
    folder, _ = written
    table = PassageTable(folder / PASSAGES_FILE)
    found = list(table.texts_by_id(["a2.md", "missing.md"]))
    assert [(row, passage_id) for row, passage_id, _ in found] == [
        (6, "a2.md::0.0"),
        (7, "a2.md::1.0"),
        (8, "a2.md::2.0"),
    ]
    assert found[0][2] == _passages()[6].text


def test_threads_share_one_table(written):
    folder, _ = written
    table, passages, errors = PassageTable(folder / PASSAGES_FILE), _passages(), []

    def read(offset: int) -> None:
        for i in range(200):
            row = (i + offset) % 9
            if table.get([row]) != [passages[row]]:
                errors.append(row)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_an_empty_table(tmp_path):
    stats = write_passages(tmp_path, [])
    assert (stats.count, stats.first_date) == (0, None)
    assert len(PassageTable(tmp_path / PASSAGES_FILE)) == 0 and len(read_column(tmp_path / DATES_FILE)) == 0


def test_article_offsets_come_back_and_a_table_from_before_them_reads_none(tmp_path):
    passages = [dataclasses.replace(p, article_offset=40 * i) for i, p in enumerate(_passages())]
    (tmp_path / "new").mkdir()
    write_passages(tmp_path / "new", passages)
    table = PassageTable(tmp_path / "new" / PASSAGES_FILE)
    assert list(table) == passages and table.get([3])[0].article_offset == 120
    table.close()
    # A table written before the column existed: same rows, offsets unknown.
    (tmp_path / "old").mkdir()
    write_passages(tmp_path / "old", passages)
    db = sqlite3.connect(tmp_path / "old" / PASSAGES_FILE)
    db.execute("ALTER TABLE passages DROP COLUMN article_offset")
    db.commit()
    db.close()
    old = PassageTable(tmp_path / "old" / PASSAGES_FILE)
    assert list(old) == [dataclasses.replace(p, article_offset=None) for p in passages]
    assert old.get([3, 1]) == [dataclasses.replace(passages[i], article_offset=None) for i in (3, 1)]
