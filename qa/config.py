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

# Embedding backends (qa/embed.py; bench/embed.py measures them). "onnx-int8": the same model in
# ONNX Runtime with int8 weights (per channel), read in small length-sorted batches; "onnx": the
# same in float32; "torch": sentence-transformers as published. "auto" is onnx-int8 where
# onnxruntime and onnx are installed, else torch. Vectors of the three differ slightly (cosine
# >= 0.98 on the SQuAD paragraphs) and an index built with one is searched with another at the
# same recall (docs/benchmarks.md), so the manifest names the model only.
EMBED_BACKENDS = ("auto", "onnx-int8", "onnx", "torch")
DEFAULT_EMBED_BACKEND = "auto"
# Tokens per ONNX Runtime batch (rows x longest row): small batches stay in cache and pad little;
# 256-512 measured fastest on the 2-core machine, 2048 about 1.5x slower.
EMBED_TOKEN_BUDGET = 256
# Exported ONNX models are cached here, keyed by the model's files (NEWSQA_CACHE overrides).
CACHE_DIR = Path.home() / ".cache" / "newsqa"
# Passages embedded and written per step while indexing: memory stays flat however big the corpus.
EMBED_CHUNK = 4096
# Reader backends (qa/transformers_reader.py TransformersReader; bench/reader.py measures them): "torch" runs the
# model as published, all windows in one batched forward; "onnx" and "onnx-int8" run its ONNX
# export (int8: weights per channel) one window at a time, unpadded.
READER_BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_READER_BACKEND = "torch"

# ---------------------------------------------------------------- Vector store (qa/store/dense.py)
# Below this many passages exact search is fast enough (about 3 ms at 50k on an idle 2-core
# machine) and always right.
EXACT_SEARCH_MAX_PASSAGES = 50_000
# Above it: IVF over 8-bit scalar codes, ~4 * sqrt(n) lists (4096 at 1M). Measured on clustered
# synthetic 384-d vectors (bench/ann.py, docs/benchmarks.md): at 1M, recall@10 against exact search
# 0.986 at nprobe 32 for 0.7 ms a query and 0.37 GiB (exact: 1.43 GiB); at 200k HNSW32,SQ8 reached
# only 0.89 at efSearch 128 and would take ~0.6 GiB at 1M. SQ8 keeps a vector in 384 bytes.
DEFAULT_NPROBE = 32
DEFAULT_EF_SEARCH = 128
# Vectors added to a FAISS index per call: bounds the temporary copies FAISS makes while adding.
DENSE_ADD_CHUNK = 65_536
# IVF training sample: FAISS wants >= 39 points a list; more only slows training.
TRAIN_POINTS_PER_LIST = 64

# ---------------------------------------------------------------- Keyword store (qa/store/keyword.py)
# Interrogatives and auxiliaries that shape a question but say nothing about its topic. They are
# dropped from the query only (the index keeps every word): "When did the Normans ..." should not
# favour passages that happen to say "when". Measured on the SQuAD 2.0 dev subset (bench/retrieval.py):
# BM25 recall@1 0.825 -> 0.852, hybrid recall@1 0.879 -> 0.890 (docs/retrieval.md).
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how whatever whoever do does did many much".split()
)
