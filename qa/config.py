"""Every default in one place."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
# The bundled sample corpus, written for this project; the default --articles.
SAMPLE_ARTICLES_DIR = Path(__file__).resolve().parent / "sample_articles"


def default_index_dir(environ: Mapping[str, str] = os.environ, package_root: Path = REPO_ROOT) -> Path:
    """Where `qa index` writes and `qa ask` reads when no --index is given.

    $NEWSQA_INDEX if set; in a source checkout (pip install -e) the checkout's index/; otherwise
    (an installed package, whose folder is site-packages) the user's data folder.
    """
    if environ.get("NEWSQA_INDEX"):
        return Path(environ["NEWSQA_INDEX"]).expanduser()
    if (package_root / "pyproject.toml").is_file() and (package_root / "qa" / "config.py").is_file():
        return package_root / "index"
    data_home = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "newsqa" / "index"


DEFAULT_INDEX_DIR = default_index_dir()

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
# The reader trained for this project (qa train-reader) and shipped in the package: what `auto`
# answers with when the default model is not in the local Hugging Face cache.
BUNDLED_READER_DIR = Path(__file__).resolve().parent / "read" / "bundled_model"
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
