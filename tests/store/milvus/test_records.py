"""qa/store/milvus/records.py: a passage as a collection record and back (no server needed)."""

from __future__ import annotations

import dataclasses

import numpy as np

from qa.store.milvus import schema
from qa.store.milvus.records import passage_from_record, passage_record
from qa.types import Passage

PASSAGE = Passage(
    "a.md::2.0", "a.md", "Tram", "2024-03-14", "Valmora", "https://x.org/a", "/c/a.md", 2, "It cost 4.", 57
)


def test_a_passage_comes_back_from_its_record_with_its_article_offset():
    record = passage_record(7, PASSAGE, np.zeros(3, dtype=np.float32), "cost")
    assert record[schema.ROW] == 7 and record[schema.PASSAGE]["article_offset"] == 57
    assert passage_from_record(record) == PASSAGE


def test_a_record_from_before_article_offsets_reads_none():
    record = passage_record(0, PASSAGE, np.zeros(3, dtype=np.float32), "cost")
    del record[schema.PASSAGE]["article_offset"]
    assert passage_from_record(record) == dataclasses.replace(PASSAGE, article_offset=None)
