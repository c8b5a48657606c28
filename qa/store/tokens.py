"""Text -> BM25 tokens, the same for every store: lower-cased, English stopwords out, stemmed.

The local store's bm25s index (qa/store/local/keyword.py) and a Milvus collection's keyword field
(qa/store/milvus/, keyword_tokens "ours") both use it, so that a query scores alike in either.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

import bm25s

from qa import config

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer  # PyStemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # stemming helps ("trams" finds "tram") but is not essential
        logger.info("PyStemmer is not installed; keyword search runs without stemming")
        return None


@lru_cache(maxsize=1)
def _question_tokens() -> frozenset[str]:
    """config.QUESTION_WORDS as the tokenizer writes them (stemmed: "does" -> "doe")."""
    return frozenset(token for tokens in tokenize(sorted(config.QUESTION_WORDS)) for token in tokens)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, English stopwords removed, stemmed when PyStemmer is installed."""
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


def query_tokens(query: str, *, drop_question_words: bool = True) -> list[str]:
    """The tokens a query is scored with; question words go unless nothing else is left ("Who?")."""
    tokens = tokenize([query])[0]
    if drop_question_words:
        content = [t for t in tokens if t not in _question_tokens()]
        tokens = content if content else tokens
    return tokens
