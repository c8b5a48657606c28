"""Every default in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The bundled sample corpus, written for this project; the default --articles.
SAMPLE_ARTICLES_DIR = Path(__file__).resolve().parent / "sample_articles"


def user_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """This user's folder for the project's data ($XDG_DATA_HOME/newsqa, else ~/.local/share/newsqa)."""
    return Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "newsqa"


def default_index_dir(environ: Mapping[str, str] = os.environ, package_root: Path = REPO_ROOT) -> Path:
    """Where `qa index` writes and `qa ask` reads when no --index is given.

    $NEWSQA_INDEX if set; in a source checkout (pip install -e) the checkout's index/; otherwise
    (an installed package, whose folder is site-packages) the user's data folder.
    """
    if environ.get("NEWSQA_INDEX"):
        return Path(environ["NEWSQA_INDEX"]).expanduser()
    if (package_root / "pyproject.toml").is_file() and (package_root / "qa" / "config.py").is_file():
        return package_root / "index"
    return user_data_dir(environ) / "index"


DEFAULT_INDEX_DIR = default_index_dir()

# Embedding
DEFAULT_EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"
EMBED_BATCH_SIZE = 64
# `--embedder static`: DEFAULT_EMBEDDER distilled with model2vec into a static model (a vector per
# word piece, PCA to 256 dimensions) in the user's data folder, once; its name in the manifest says
# what it was made from, so `qa ask` loads (or distils) the same. For archives where MiniLM's ~90
# passages/s is too slow (qa/embed/ StaticEmbedder; docs/benchmarks.md has its speed and recall).
STATIC_EMBEDDER = "static"
STATIC_EMBEDDER_DIMS = 256
STATIC_EMBEDDER_NAME = f"static-all-MiniLM-L6-v2-pca{STATIC_EMBEDDER_DIMS}"
STATIC_EMBED_BATCH = 4096  # texts tokenised at once (in parallel by tokenizers)

# Splitting: all-MiniLM-L6-v2 reads at most 256 word pieces; stay well under it in words.
MAX_PASSAGE_WORDS = 160
PASSAGE_OVERLAP_SENTENCES = 1
MIN_PARAGRAPH_WORDS = 8  # shorter paragraphs are merged into a neighbour

# Retrieval
DEFAULT_TOP_K = 5
# Passages one question may read (qa ask --k, the chat's slider, the API): more reads slowly, not better.
MAX_TOP_K = 20
MAX_SOURCE_FILTER_CHARS = 200
# Turns a chat session (or the API's history) keeps for follow-ups; a follow-up reads back only to
# the last self-contained question anyway (qa/retrieve/conversation.py).
MAX_FOLLOW_UP_TURNS = 20
RETRIEVAL_MODES = ("hybrid", "dense", "keyword")
DEFAULT_RETRIEVAL_MODE = "hybrid"

# Reader. deepset/tinyroberta-squad2: SQuAD 2.0 dev EM 78.9 / F1 82.0, about twice as fast as
# roberta-base-squad2 (EM 79.9 / F1 82.9); on a CPU the speed is worth one point.
DEFAULT_READER_MODEL = "deepset/tinyroberta-squad2"
# The reader trained for this project (qa train-reader) and shipped in the package: what `auto`
# answers with when the default model is not in the local Hugging Face cache.
BUNDLED_READER_DIR = Path(__file__).resolve().parent / "read" / "bundled_model"
# Beside a trained reader's weights: its name, steps and the no-answer threshold it ships with.
READER_INFO_FILE = "reader.json"
READER_MAX_SEQ_LEN = 384
READER_DOC_STRIDE = 128
READER_MAX_ANSWER_TOKENS = 30
READER_N_BEST = 20
# The pipeline answers null when no_answer_score - best_span_score exceeds this.
NO_ANSWER_THRESHOLD = 0.0
# Questions the sample corpus can answer (and two it cannot): examples for the chat and a smoke eval.
SAMPLE_QUESTIONS = Path(__file__).resolve().parent / "sample_questions.json"

# Embedding backends (qa/embed/; bench/embed.py measures them). "onnx-int8": the same model in
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
# Also the unit of a resumable build: each chunk's vectors are checkpointed under the index folder
# (RESUME_DIR) until the build commits, so a build stopped halfway redoes at most one chunk.
EMBED_CHUNK = 4096
RESUME_DIR = ".resume"
# A build records each article file's size and mtime (qa/ingest/listing.py) so that a status check
# of an unchanged folder reads no file; a file modified less than this before the folder was listed
# could change again within the same timestamp tick (coarse kernel clocks; 1-2 s on FAT and HFS+),
# so such a listing is not trusted and status compares contents instead.
LISTING_RACY_SECONDS = 2.0
# Reader backends (qa/read/transformers_reader.py TransformersReader; bench/reader.py measures
# them): "torch" runs the model as published, all windows in one batched forward; "onnx" and
# "onnx-int8" run its ONNX export (int8: weights per channel) one window at a time, unpadded.
# The default is "onnx" (float32): the same spans as torch (20 of 20 in bench/reader.py) at the
# same speed, and a process that finds its export cached never imports torch, so `qa ask` starts
# in a fifth of the time with half the memory (docs/benchmarks.md). The export runs once, on first use.
READER_BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_READER_BACKEND = "onnx"

# ---------------------------------------------------------------- Vector store (qa/store/local/dense.py)
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
# A filter letting through at least this many passages is handed to FAISS as a bitmap instead of a
# hash set of ids (qa/store/local/dense.py): a hash set of 500k ids costs tens of ms per question.
SELECTOR_BITMAP_MIN = 4096

# ---------------------------------------------------------------- Keyword store (qa/store/local/keyword.py)
# Interrogatives and auxiliaries that shape a question but say nothing about its topic. They are
# dropped from the query only (the index keeps every word): "When did the Normans ..." should not
# favour passages that happen to say "when". Measured on the SQuAD 2.0 dev subset (bench/retrieval.py):
# BM25 recall@1 0.825 -> 0.852, hybrid recall@1 0.879 -> 0.890 (docs/retrieval.md).
# Passages tokenised at a time while the keyword index is built (memory: see qa/store/local/keyword.py).
KEYWORD_TOKENIZE_BATCH = 50_000
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how whatever whoever do does did many much".split()
)

# -------------------------------------------------------- Milvus store (qa/store/milvus/, docs/scale-out.md)
# Every call to the server gives up after this many seconds (pymilvus retries an unreachable
# server until then): a dead server is a one-line error, not a hang. $QA_MILVUS_TIMEOUT overrides.
MILVUS_TIMEOUT_S = float(os.environ.get("QA_MILVUS_TIMEOUT", "30"))
# HNSW on the server (inner product of unit vectors = cosine): M and efConstruction as Milvus's own
# examples; ef at search is max(k, MILVUS_EF_SEARCH), like DEFAULT_EF_SEARCH for FAISS's HNSW.
MILVUS_HNSW_M = 16
MILVUS_HNSW_EF_CONSTRUCTION = 200
MILVUS_EF_SEARCH = DEFAULT_EF_SEARCH
# BM25 on the server with bm25s's constants (qa/store/local/keyword.py: k1 1.5, b 0.75), so both stores
# score alike; Milvus's own defaults are k1 1.2, b 0.75.
MILVUS_BM25_K1 = 1.5
MILVUS_BM25_B = 0.75
# Rows sent per insert (~10 MB of vectors and text at 384 dimensions; Milvus takes up to 64 MB).
MILVUS_INSERT_BATCH = 1000
# Rows asked for per query by primary key (Milvus returns at most 16,384 rows a query).
MILVUS_QUERY_BATCH = 4096
# Milvus caps a search's limit (topk) at 16,384.
MILVUS_MAX_TOPK = 16_384
# Passages and vectors of recently retrieved rows, kept per opened generation (~2 KiB a row): one
# question asks for the same rows' passages and vectors more than once.
MILVUS_ROW_CACHE = 8192
# VARCHAR fields hold at most 65,535 bytes; a longer passage is refused with its id.
MILVUS_MAX_TEXT_BYTES = 65_535
# In-memory replicas each new generation is loaded with before it goes live: more query nodes
# answering the same collection, for many readers (Milvus Distributed; Standalone has one query
# node, so 1). $QA_MILVUS_REPLICAS overrides.
MILVUS_REPLICAS = int(os.environ.get("QA_MILVUS_REPLICAS", "1"))
# A Milvus Lite server (qa/store/milvus/lite.py) answers within a second on an idle machine.
MILVUS_LITE_START_TIMEOUT_S = 60.0

# ---------------------------------------------------------------- Ray (qa/embed_ray.py)
# `qa index --ray auto` starts a local cluster with this many CPUs, one embedding actor each.
RAY_LOCAL_CPUS = 2
# Embedding actors (one CPU each) must be running within this long, or the build stops and says why.
RAY_ACTOR_START_TIMEOUT_S = 120.0

# ---------------------------------------------------------------- Hybrid ranking (qa/retrieve/fusion.py)
# "score": a convex combination of the two scores, each normalised over the candidate set
# (fuse_scores); "rrf": weighted reciprocal rank fusion (fuse_rankings).
# Measured with `python bench/retrieval.py --tune` on the SQuAD 2.0 dev subset (126 paragraphs, 473
# answerable questions, answer recall; docs/retrieval.md): score fusion at dense weight 0.55 gives
# recall@1 0.890 and @5 0.992 with either embedder backend (onnx-int8, the default, and torch),
# against 0.833 / 0.987 (0.839 / 0.985 with torch) for RRF with k=60 and equal weights. The weight
# was chosen on two of the three articles and checked on the third, each way round: 0.55, 0.55 and
# 0.40 with onnx-int8, 0.60 three times with torch, on a flat plateau (recall@1 0.88-0.89 from
# 0.40 to 0.65); score fusion matched or beat the grid's best RRF (k 1-100, dense weight 0.3-0.7)
# on every held-out article.
FUSION_METHODS = ("score", "rrf")
DEFAULT_FUSION = "score"
DENSE_WEIGHT = 0.55  # the keyword side gets 1 - DENSE_WEIGHT
# Models whose vectors rank worse than MiniLM's lean more on BM25. The static embedder (dense recall@5
# 0.852 against MiniLM's 0.960 on the same subset): hybrid recall@1/@5 0.841/0.970 at 0.55, below
# BM25 alone (0.852/0.975); 0.860/0.981 at 0.3, on a plateau from 0.2 to 0.4, best or tied on each
# of the three articles (`python -m bench.static`, docs/benchmarks.md).
DENSE_WEIGHTS = {STATIC_EMBEDDER_NAME: 0.3}
# Reciprocal rank fusion: score = sum over rankings of weight / (RRF_K + rank), rank from 1.
# 60 is the constant of Cormack et al. (2009); kept for fusion="rrf" and as the bench's baseline.
RRF_K = 60.0
# How deep each ranking is read before fusion, as a multiple of k (and at least CANDIDATES_MIN).
# Recall barely moves with depth (score fusion: 0.886 @1 at depth 20, 0.892 at 50, 0.888 at all).
CANDIDATES_PER_K = 8
CANDIDATES_MIN = 50
# A passage's ranking score is this share of its own score plus the rest of its article's best
# passage's score (qa/retrieve/fusion.py with_article_scores): the paragraph under a story's lead
# that holds the answer gets past other stories' leads. 1.0 ranks passages alone, and stays the
# default: on news questions over Reuters-21578 0.2 puts the answer's passage among the 5 read far
# more often (recall@5 29.6 -> 50.6 on the tuning half, 30.0 -> 47.1 on the measuring half) but the
# bundled reader turns that into F1 29.6 from 26.1 on the tuning half and 24.6 from 28.4 on the
# measuring half (the same over both), and it is neutral on held-out SQuAD articles (F1 64.9).
# docs/retrieval.md "A passage ranked with its article"; set it below 1 with a stronger reader.
PASSAGE_WEIGHT = 1.0

# ---------------------------------------------------------------- Near-duplicates (qa/retrieve/dedup.py)
# Near-duplicates (syndicated copies of one wire story) fold into one Hit. Two text tests, either
# one enough, and then a facts test that must also pass. Measured with `python bench/retrieval.py
# --duplicates` on 174 passages (the shared and sample articles, the SQuAD paragraphs) and copies
# of each made the way outlets make them (docs/retrieval.md):
# - cosine >= 0.95 between the stored vectors: every lightly reworded copy ("said" -> "stated",
#   "govt", "%") scored 0.96 or more, while the closest two different passages scored 0.909.
# - word 3-grams shared, as a share of the larger passage's, >= 0.6: the vector alone misses short
#   passages with "NEW DELHI (Reuters) - " put in front (cosine down to 0.79; 17-20% missed) and
#   passages with a new or dropped first sentence (about 80% missed). With both tests credit-line,
#   dateline and reworded copies fold (693 of 694; the one left is a 19-word passage given a 16-word
#   credit paragraph: cosine 0.946, overlap 0.59), and a new first sentence folds where it is under
#   about 40% of the passage (61% of passages of two sentences or more). The closest two
#   different passages share 0.457 (one repeats the other's quote but adds new facts: they must
#   stay apart).
# - and never when the two come from articles of different dates, or state different figures,
#   dates or names (qa/retrieve/facts.py): the reader sees only the passage kept, so a fold must
#   not hide a fact. The June and September rate reports in the sample corpus open with nearly the
#   same sentence (cosine 0.9605 in fp32, 3-gram overlap 0.34) and differ in the rate (issue 12).
NEAR_DUPLICATE_COSINE = 0.95
NEAR_DUPLICATE_OVERLAP = 0.6
SHINGLE_WORDS = 3
# The word test runs only for pairs at this cosine or above, which spares most of the set work: a
# copy sharing >= 0.6 of its 3-grams never scored under 0.61 in our samples.
NEAR_DUPLICATE_SCREEN = 0.5
# Word runs and facts of recently compared passages, kept between questions: about 7 KiB for a
# 75-word passage.
SHINGLE_CACHE_PASSAGES = 2048

# ------------------------------ Questions and follow-ups (qa/pipeline.py, qa/retrieve/conversation.py)
# Said when a library loaded on first use is missing: the command ran outside newsqa's environment.
INSTALL_HINT = (
    "run newsqa from the Python environment it was installed in, or install it there "
    "(README.md, 'Two commands')"
)
MAX_QUESTION_CHARS = 2000  # longer questions are refused with a message
# A question with fewer words of its own than this leans on the conversation.
FOLLOW_UP_SELF_CONTAINED_MIN_WORDS = 2
# With "it"/"that"/"there", a question needs this many words of its own to stand alone.
FOLLOW_UP_WEAK_POINTING_MIN_WORDS = 4
# Opened with "And ..." but asking its own question ("And in Santa Irena, how much water may people
# use?"), a question with this many words of its own stands alone.
FOLLOW_UP_OPENER_MIN_WORDS = 4
# At most this many words carried from earlier turns into a follow-up's query.
FOLLOW_UP_MAX_CONTEXT_WORDS = 12

# ---------------------------------------------------------------- Answers (qa/answer/)
MAX_ALTERNATIVES = 3  # other distinct answers kept beside the best one
# A newer article's answer counts as a rival (qa/answer/recency.py) when its confidence is at least
# this fraction of the best answer's.
RECENCY_MIN_CONFIDENCE_RATIO = 0.5
