"""The keyword index: BM25 over the same passages, in the same order, as the vector index.

Each segment (qa/store/local/segments.py) stores term frequencies, not scores: its vocabulary
(terms.json), postings per term in CSC order (indptr.npy, docs.npy, tfs.npy) and each passage's
length in tokens (lengths.npy). BM25's statistics are then worked out over ALL live passages of
all segments at query time (global_scores): the document frequency of each query term, the
passage count and the average length, with tombstoned passages left out. A segmented index thus
ranks exactly as one index built over the same passages would.

Why not bm25s's own index: it stores score = idf * tf-part per posting, with the idf and the
average length of its own corpus baked in, so the scores of two bm25s indexes cannot be combined
into those of one (the tf-part depends on the average length non-linearly). The formula is bm25s's
"lucene" variant with its defaults (k1 1.5, b 0.75), so scores stay what they were to float rounding.
Format-2 indexes (bm25s under keyword/) are still read, as one segment (qa/store/local/bm25s_index.py).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from array import array
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa import config
from qa.store.local.npy import load_npy
from qa.store.tokens import query_tokens, tokenize

logger = logging.getLogger(__name__)

K1, B = 1.5, 0.75  # bm25s's defaults: a grid over k1 and b moved recall@1 by at most 0.01 (noise)
TERMS_FILE, INDPTR_FILE, DOCS_FILE, TFS_FILE, LENGTHS_FILE = (
    "terms.json",
    "indptr.npy",
    "docs.npy",
    "tfs.npy",
    "lengths.npy",
)


def write_keyword_index(path: Path, texts: Sequence[str]) -> None:
    """Term frequencies of `texts` in their order (row i is passage i), saved under `path`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab: dict[str, int] = {}
    terms, docs, tfs, lengths = array("i"), array("i"), array("H"), array("i")
    doc = 0
    # Tokenised a slice at a time: the stemmer's token strings are new objects each (about 1 GB
    # for a million passages, were they all held together).
    for start in range(0, len(texts), config.KEYWORD_TOKENIZE_BATCH):
        for tokens in tokenize(texts[start : start + config.KEYWORD_TOKENIZE_BATCH]):
            lengths.append(len(tokens))
            for token, count in Counter(tokens).items():
                terms.append(vocab.setdefault(token, len(vocab)))
                docs.append(doc)
                tfs.append(min(count, 65535))
            doc += 1
    term_ids = np.frombuffer(terms, dtype=np.int32) if len(terms) else np.zeros(0, np.int32)
    order = np.argsort(term_ids, kind="stable")  # by term, documents ascending within a term
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_ids, minlength=len(vocab)), out=indptr[1:])
    as_array = lambda values, dtype: np.frombuffer(values, dtype=dtype) if len(values) else np.zeros(0, dtype)  # noqa: E731
    np.save(path / DOCS_FILE, as_array(docs, np.int32)[order])
    np.save(path / TFS_FILE, as_array(tfs, np.uint16)[order])
    np.save(path / INDPTR_FILE, indptr)
    np.save(path / LENGTHS_FILE, as_array(lengths, np.int32))
    (path / TERMS_FILE).write_text(json.dumps(sorted(vocab, key=vocab.__getitem__)), encoding="utf-8")


def is_postings_index(path: Path) -> bool:
    return (Path(path) / TERMS_FILE).is_file()


class KeywordIndex:
    """One segment's term frequencies, opened for scoring.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "keyword"
        >>> write_keyword_index(folder, ["The tram line opened.", "Rates rose again."])
        >>> [round(float(s), 3) for s in KeywordIndex(folder).scores("When did the trams open?")]
        [0.555, 0.0]
    """

    def __init__(self, path: Path, *, mmap: bool = False):
        mode = "r" if mmap else None  # mmap: a query pages in its words' postings only
        self.path = Path(path)
        # Plain ndarray views of the maps: np.memmap's slicing costs ~10 us a call, and a question
        # slices each of its words in each segment.
        self.indptr, self.docs, self.tfs, self.lengths = (
            load_npy(self.path / name, mmap_mode=mode).view(np.ndarray)
            for name in (INDPTR_FILE, DOCS_FILE, TFS_FILE, LENGTHS_FILE)
        )
        if len(self.indptr) < 1 or int(self.indptr[-1]) != len(self.docs) or len(self.docs) != len(self.tfs):
            raise ValueError(f"the keyword index in {self.path} is out of step with itself")
        self._vocab: dict[str, int] | None = None
        self._lock = threading.Lock()
        self._total_length: int | None = None

    @property
    def total_length(self) -> int:
        """Tokens in all passages (tombstoned ones included), summed once."""
        if self._total_length is None:
            self._total_length = int(np.asarray(self.lengths, dtype=np.int64).sum())
        return self._total_length

    @property
    def size(self) -> int:
        return len(self.lengths)

    def _term(self, token: str) -> int | None:
        if self._vocab is None:  # read on the first question: a load that asks nothing pays nothing
            with self._lock:
                if self._vocab is None:
                    terms = json.loads((self.path / TERMS_FILE).read_text(encoding="utf-8"))
                    self._vocab = {term: i for i, term in enumerate(terms)}
        return self._vocab.get(token)

    def postings(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(passage rows, term frequencies) of the passages holding `token`; None when none does."""
        term = self._term(token)
        if term is None:
            return None
        start, stop = int(self.indptr[term]), int(self.indptr[term + 1])
        return np.asarray(self.docs[start:stop]), np.asarray(self.tfs[start:stop])

    def scores(self, query: str, *, drop_question_words: bool = True) -> np.ndarray:
        """BM25 score of every passage for the query (0 where no query word occurs), over this index alone.

        BM25's IDF (Lucene's form, log(1 + (N - n + 0.5) / (n + 0.5))) stays above zero even for a
        word found in every passage, so a corpus of two articles still ranks (unlike DrQA's TF-IDF).
        """
        return global_scores([(self, None)], query, drop_question_words=drop_question_words)[0]


def global_scores(
    parts: Sequence[tuple[KeywordIndex, np.ndarray | None]], query: str, *, drop_question_words: bool = True
) -> list[np.ndarray]:
    """BM25 of every passage of every segment, with statistics over all live passages.

    `parts`: each segment's index and its tombstones (a bool mask per passage, True = deleted; None
    when none). Returns one float32 array per segment, a score per passage (deleted ones included:
    the caller drops them). Each passage's score is the same float32 sum, term by term in query
    order, whatever the segmentation: a fresh single build and a segmented index rank alike.
    """
    out = [np.zeros(index.size, dtype=np.float32) for index, _ in parts]
    tokens = query_tokens(query, drop_question_words=drop_question_words)
    if not tokens:
        return out
    live = sum(index.size - (int(mask.sum()) if mask is not None else 0) for index, mask in parts)
    total_length = sum(_live_length(index, mask) for index, mask in parts)
    if live == 0:
        return out
    average = total_length / live
    for token in tokens:
        found = [(i, index.postings(token)) for i, (index, _) in enumerate(parts)]
        found = [(i, p) for i, p in found if p is not None and len(p[0])]
        df = sum(
            len(docs) - (int(parts[i][1][docs].sum()) if parts[i][1] is not None else 0)
            for i, (docs, _) in found
        )
        if df == 0:
            continue
        idf = math.log(1 + (live - df + 0.5) / (df + 0.5))
        for i, (docs, tfs) in found:
            tf = tfs.astype(np.float64)
            length = parts[i][0].lengths[docs].astype(np.float64)
            out[i][docs] += (idf * tf / (K1 * ((1 - B) + B * length / average) + tf)).astype(np.float32)
    for scores, (_, mask) in zip(out, parts):
        if mask is not None:
            scores[mask] = 0.0
    return out


def _live_length(index: KeywordIndex, mask: np.ndarray | None) -> int:
    return index.total_length - (
        int(np.asarray(index.lengths)[mask].astype(np.int64).sum()) if mask is not None else 0
    )
