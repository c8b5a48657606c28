"""Format-2 keyword indexes (bm25s's own files under keyword/), read as they were written.

Such an index is one segment and is searched alone; the first addition to it rewrites the index
in the current format (term frequencies, qa/store/local/keyword.py), reusing every vector.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from qa.store.local.npy import HEADER_LOCK
from qa.store.tokens import query_tokens

# bm25s sets its own logger to DEBUG on import, which would print chatter on every load.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class Bm25sIndex:
    """A saved bm25s index, opened for scoring (scores with its own corpus's statistics)."""

    def __init__(self, path: Path, *, mmap: bool = False):
        import bm25s

        with HEADER_LOCK:  # bm25s reads .npy files: see qa/store/local/npy.py
            self.retriever = bm25s.BM25.load(str(path), mmap=mmap)

    @property
    def size(self) -> int:
        return int(self.retriever.scores["num_docs"])

    def scores(self, query: str, *, drop_question_words: bool = True) -> np.ndarray:
        tokens = query_tokens(query, drop_question_words=drop_question_words)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)
