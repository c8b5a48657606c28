"""Every default in one place."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The bundled sample corpus, written for this project; the default --articles.
SAMPLE_ARTICLES_DIR = Path(__file__).resolve().parent / "sample_articles"
DEFAULT_INDEX_DIR = REPO_ROOT / "index"

# Embedding
DEFAULT_EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"
EMBED_BATCH_SIZE = 64

# Splitting: all-MiniLM-L6-v2 reads at most 256 word pieces; stay well under it in words.
MAX_PASSAGE_WORDS = 160
PASSAGE_OVERLAP_SENTENCES = 1
MIN_PARAGRAPH_WORDS = 8  # shorter paragraphs are merged into a neighbour

# Retrieval
DEFAULT_TOP_K = 5
RETRIEVAL_MODES = ("hybrid", "dense", "keyword")
DEFAULT_RETRIEVAL_MODE = "hybrid"

# Reader. deepset/tinyroberta-squad2: SQuAD 2.0 dev EM 78.9 / F1 82.0, about twice as fast as
# roberta-base-squad2 (EM 79.9 / F1 82.9); on a CPU the speed is worth one point.
DEFAULT_READER_MODEL = "deepset/tinyroberta-squad2"
READER_MAX_SEQ_LEN = 384
READER_DOC_STRIDE = 128
READER_MAX_ANSWER_TOKENS = 30
READER_N_BEST = 20
# The pipeline answers null when no_answer_score - best_span_score exceeds this.
NO_ANSWER_THRESHOLD = 0.0
# Questions the sample corpus can answer (and two it cannot): examples for the chat and a smoke eval.
SAMPLE_QUESTIONS = Path(__file__).resolve().parent / "sample_questions.json"
