"""The keyword index: BM25 (bm25s) over the same passages, in the same order, as the vector index."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import bm25s
import numpy as np

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer  # PyStemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # stemming helps ("trams" finds "tram") but is not essential
        logger.info("PyStemmer is not installed; keyword search runs without stemming")
        return None


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


def write_keyword_index(path: Path, texts: Sequence[str]) -> None:
    retriever = bm25s.BM25()
    # bm25s needs at least one token per document to build its matrix; empty texts score zero.
    tokens = [t if t else [""] for t in tokenize(texts)] if texts else [[""]]
    retriever.index(_as_ids(tokens), show_progress=False)
    retriever.save(str(path))


def _as_ids(token_lists: list[list[str]]) -> bm25s.tokenization.Tokenized:
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(token, len(vocab)) for token in tokens] for tokens in token_lists]
    return bm25s.tokenization.Tokenized(ids=ids, vocab=vocab)


class KeywordIndex:
    def __init__(self, path: Path):
        self.retriever = bm25s.BM25.load(str(path))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (0 where no query word occurs)."""
        tokens = tokenize([query])[0]
        if not tokens:
            return np.zeros(self.retriever.scores["num_docs"], dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)
