"""What one `qa eval` run is asked to do: EvalOptions, checked when it is made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa import config
from qa.checks import CLI_LABELS, UserError, check_k, check_mode, check_threshold
from qa.eval.questions import EvalInputError

if TYPE_CHECKING:
    from qa.store.location import StoreLocation


@dataclass(frozen=True)
class EvalOptions:
    """The options of `qa eval`, one field per command-line option (qa/cli.py fills it).

    Example:
        >>> EvalOptions(Path("questions.jsonl"), articles=Path("news/"), k=3).k
        3
    """

    questions: Path  # JSONL, a JSON array or a SQuAD 2.0 file
    out: Path | None = None  # None: runs/eval-<timestamp>
    store: StoreLocation | None = None  # None: config.DEFAULT_INDEX_DIR, or OUT/index when a corpus is built
    articles: Path | None = None  # build (incrementally) an index of this folder first
    corpus_from_dataset: bool = False  # build an index of the SQuAD file's own paragraphs first
    reader_only: bool = False  # no retrieval: each question read with its gold paragraph
    k: int = config.DEFAULT_TOP_K
    mode: str = config.DEFAULT_RETRIEVAL_MODE
    passage_weight: float | None = None  # None: config.PASSAGE_WEIGHT (qa/retrieve/fusion.py)
    reader: str = "auto"
    threshold: float | None = None  # None: the one saved for index and reader, else the default
    save_threshold: bool = False
    limit: int | None = None  # only the first N questions
    resume: bool = False
    overwrite: bool = False
    examples: int = 30  # examples per error class in the report
    command: str = ""  # the command line, recorded in run.json

    def __post_init__(self) -> None:
        # Named as on the command line: that is where nearly every EvalOptions comes from.
        # k, mode and threshold in the words every door uses (qa/checks.py).
        try:
            check_k(self.k, CLI_LABELS)
            check_mode(self.mode, CLI_LABELS)
            check_threshold(self.threshold, CLI_LABELS)
        except UserError as error:
            raise EvalInputError(str(error)) from None
        if self.passage_weight is not None and not 0.0 <= self.passage_weight <= 1.0:
            raise EvalInputError(f"--passage-weight must be between 0 and 1, got {self.passage_weight}")
        if self.limit is not None and self.limit <= 0:
            raise EvalInputError(f"--limit must be greater than 0, got {self.limit}")
        if self.examples < 0:
            raise EvalInputError(f"--examples must be 0 or more, got {self.examples}")
        if self.articles is not None and self.corpus_from_dataset:
            raise EvalInputError("--articles and --corpus-from-dataset both name the corpus; give one")
        if self.reader_only:
            # The reader alone needs no index: options about one would be silently ignored.
            given = [
                name
                for name, on in (
                    ("--store", self.store is not None),
                    ("--articles", self.articles is not None),
                    ("--corpus-from-dataset", self.corpus_from_dataset),
                    ("--save-threshold", self.save_threshold),
                    ("--passage-weight", self.passage_weight is not None),
                )
                if on
            ]
            if given:
                raise EvalInputError(
                    f"--reader-only reads each question's own paragraph, with no index or retrieval; "
                    f"drop {', '.join(given)}"
                )
