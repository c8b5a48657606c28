"""The keyword index: BM25 (bm25s) over the same passages, in the same order, as the vector index."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from qa import config
from qa.store.local.npy import HEADER_LOCK
from qa.store.tokens import query_tokens, tokenize

logger = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import, which would print build chatter on every index run.
logging.getLogger("bm25s").setLevel(logging.WARNING)


def write_keyword_index(path: Path, texts: Sequence[str]) -> None:
    """BM25 over `texts` in their order (row i is passage i), with bm25s's defaults (k1 1.5, b 0.75).

    A grid over k1 (0.6-2.0), b (0.3-0.9) and the BM25 variants bm25s offers moved recall@1 by at
    most 0.01 either way on the SQuAD subset, which is noise at 473 questions: the defaults stay.
    """
    retriever = bm25s.BM25()
    # Tokenised a slice at a time and turned into vocabulary ids at once: the ids share the
    # vocabulary's int objects, while the stemmer's token strings are new objects each (about 1 GB
    # for a million passages, were they all held together).
    vocab: dict[str, int] = {}
    ids: list[list[int]] = []
    for start in range(0, len(texts), config.KEYWORD_TOKENIZE_BATCH):
        for tokens in tokenize(texts[start : start + config.KEYWORD_TOKENIZE_BATCH]):
            # bm25s needs at least one token per document to build its matrix; empty texts score zero.
            ids.append([vocab.setdefault(token, len(vocab)) for token in (tokens or [""])])
    if not ids:
        ids, vocab = [[0]], {"": 0}
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    retriever.save(str(path))


class KeywordIndex:
    """A saved BM25 index, opened for scoring.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "keyword"
        >>> write_keyword_index(folder, ["The tram line opened.", "Rates rose again."])
        >>> [round(float(s), 3) for s in KeywordIndex(folder).scores("When did the trams open?")]
        [0.555, 0.0]
    """

    def __init__(self, path: Path, *, mmap: bool = False):
        # mmap: the score matrix stays on disk and a query pages in its words' postings only.
        with HEADER_LOCK:  # bm25s reads .npy files: see qa/store/local/npy.py
            self.retriever = bm25s.BM25.load(str(path), mmap=mmap)

    @property
    def size(self) -> int:
        return int(self.retriever.scores["num_docs"])

    def scores(self, query: str, *, drop_question_words: bool = True) -> np.ndarray:
        """BM25 score of every passage for the query (0 where no query word occurs).

        BM25's IDF (Lucene's form, log(1 + (N - n + 0.5) / (n + 0.5))) stays above zero even for a
        word found in every passage, so a corpus of two articles still ranks (unlike DrQA's TF-IDF).
        """
        tokens = query_tokens(query, drop_question_words=drop_question_words)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)
