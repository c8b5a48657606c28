"""Question + passages -> answer spans with a trained extractive QA model (transformers or ONNX Runtime)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa import config
from qa.answer.decision import SignalDecision
from qa.read.protocol import empty_result
from qa.read.rust_tokenizer import RustTokenizer
from qa.read.steps import (
    WindowLogits,
    Windows,
    WindowSettings,
    aggregate,
    decode_windows,
    prepare_windows,
)
from qa.types import Passage, Query, ReaderResult

logger = logging.getLogger(__name__)


def _require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a dependency of the project
        raise ImportError("the transformers reader needs torch: pip install torch") from exc
    return torch


class TransformersReader:
    """An extractive QA model (``AutoModelForQuestionAnswering``) with a fast tokenizer.

    Every window of every passage goes through one batched forward pass; passages longer than
    ``max_seq_len`` are read in overlapping windows (``doc_stride`` tokens of overlap) so that
    no answer is lost to truncation. ``read`` is four steps (qa/read/steps.py): prepare the
    windows, run the model on them, decode each window's spans, aggregate over windows.

    >>> reader = TransformersReader("deepset/tinyroberta-squad2")  # doctest: +SKIP
    >>> result = reader.read(Query("Who wrote it?"), passages)  # doctest: +SKIP
    >>> best = result.candidates[0]  # doctest: +SKIP
    >>> passage = next(p for p in passages if p.passage_id == best.passage_id)  # doctest: +SKIP
    >>> best.text == passage.text[best.start : best.end]  # doctest: +SKIP
    True
    """

    # Questions longer than this (in tokens) are cut, so that a window always has room for context.
    max_question_tokens = 64

    def __init__(
        self,
        model: str,
        *,
        max_seq_len: int = config.READER_MAX_SEQ_LEN,
        doc_stride: int = config.READER_DOC_STRIDE,
        max_answer_tokens: int = config.READER_MAX_ANSWER_TOKENS,
        n_best: int = config.READER_N_BEST,
        device: str = "cpu",
        local_files_only: bool = False,
        backend: str = config.DEFAULT_READER_BACKEND,
        name: str | None = None,
        no_answer_threshold: float | None = None,
        reads_headline: bool = False,
        no_answer_decision: SignalDecision | None = None,
    ) -> None:
        # The no-answer decision fitted for these weights where their folder ships one
        # (qa/answer/decision.py); the pipeline prefers it to the threshold where it applies.
        self.no_answer_decision = no_answer_decision
        if not model:
            raise ValueError("model must name a hub id or a local directory, got an empty string")
        if backend not in config.READER_BACKENDS:
            raise ValueError(
                f"unknown reader backend {backend!r}; valid names: {', '.join(config.READER_BACKENDS)}"
            )
        onnx_file = None
        if backend != "torch":
            from qa import onnx_export

            folder = Path(model) if Path(model).is_dir() else self._model_folder(model, local_files_only)
            onnx_file = onnx_export.cached_path(folder, "question-answering", quantize=backend == "onnx-int8")
            if onnx_file.is_file():  # exported (and its QA head checked) before: torch is not needed
                # Nor transformers: its import alone is 2-4 s of a cold `qa ask` (it imports torch).
                tokenizer = RustTokenizer.from_folder(folder)
                if tokenizer is None:
                    from transformers import AutoTokenizer

                    tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=local_files_only)
                self._setup(
                    None,
                    tokenizer,
                    name=name or f"transformers:{model}",
                    max_seq_len=max_seq_len,
                    no_answer_threshold=no_answer_threshold,
                    doc_stride=doc_stride,
                    max_answer_tokens=max_answer_tokens,
                    n_best=n_best,
                    device=device,
                    onnx_file=onnx_file,
                    reads_headline=reads_headline,
                )
                return
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=local_files_only)

        # fp32 whatever the file holds: the bundled reader ships in fp16, which CPUs run slowly
        # (or not at all), and transformers 5 would otherwise keep the file's dtype.
        qa_model, info = AutoModelForQuestionAnswering.from_pretrained(
            model, local_files_only=local_files_only, output_loading_info=True, dtype=torch.float32
        )
        # A checkpoint without a trained QA head loads with a random one and answers nonsense.
        prefix = getattr(qa_model, "base_model_prefix", "")
        head_missing = sorted(
            k for k in info.get("missing_keys", ()) if not (prefix and k.startswith(prefix + "."))
        )
        if head_missing:
            raise ValueError(
                f"{model!r} is not an extractive question-answering checkpoint: its QA head "
                f"({', '.join(head_missing)}) is missing; use a model fine-tuned on SQuAD, "
                "e.g. deepset/tinyroberta-squad2"
            )
        if onnx_file is not None:
            onnx_file = onnx_export.export(
                folder, "question-answering", quantize=backend == "onnx-int8", model=qa_model
            )
        self._setup(
            qa_model,
            tokenizer,
            name=name or f"transformers:{model}",
            no_answer_threshold=no_answer_threshold,
            max_seq_len=max_seq_len,
            doc_stride=doc_stride,
            max_answer_tokens=max_answer_tokens,
            n_best=n_best,
            device=device,
            onnx_file=onnx_file,
            reads_headline=reads_headline,
        )

    @classmethod
    def from_model(
        cls,
        model: Any,
        tokenizer: Any,
        *,
        name: str = "transformers:custom",
        max_seq_len: int = config.READER_MAX_SEQ_LEN,
        doc_stride: int = config.READER_DOC_STRIDE,
        max_answer_tokens: int = config.READER_MAX_ANSWER_TOKENS,
        n_best: int = config.READER_N_BEST,
        device: str = "cpu",
        reads_headline: bool = False,
    ) -> TransformersReader:
        """A reader around an already-built QA model and fast tokenizer (no loading)."""
        reader = cls.__new__(cls)
        reader._setup(
            model,
            tokenizer,
            name=name,
            max_seq_len=max_seq_len,
            doc_stride=doc_stride,
            max_answer_tokens=max_answer_tokens,
            n_best=n_best,
            device=device,
            reads_headline=reads_headline,
        )
        return reader

    def _setup(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        max_seq_len: int,
        doc_stride: int,
        max_answer_tokens: int,
        n_best: int,
        device: str,
        onnx_file: Path | None = None,
        no_answer_threshold: float | None = None,
        reads_headline: bool = False,
    ) -> None:
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"the reader needs a fast tokenizer (for offset mappings), got "
                f"{type(tokenizer).__name__}; use a model that ships a tokenizer.json"
            )
        if max_seq_len < 16:
            raise ValueError(f"max_seq_len must be at least 16, got {max_seq_len}")
        if not 0 <= doc_stride < max_seq_len:
            raise ValueError(f"doc_stride must be in [0, max_seq_len={max_seq_len}), got {doc_stride}")
        if max_answer_tokens < 1:
            raise ValueError(f"max_answer_tokens must be at least 1, got {max_answer_tokens}")
        if n_best < 1:
            raise ValueError(f"n_best must be at least 1, got {n_best}")
        self.name = name
        # Trained on "Headline. paragraph" (qa train-reader --headline): read passages the same way.
        self.reads_headline = reads_headline
        # The threshold the model was tuned with (the bundled reader's card), else None.
        self.no_answer_threshold = no_answer_threshold
        self.tokenizer = tokenizer
        # ONNX Runtime (onnx_file) reads one window at a time: no padding at all, work that stays
        # in cache, and with int8 no window's activation scale depends on another's.
        self.session = None
        if onnx_file is not None:
            from qa import onnx_export

            self.session = onnx_export.session(onnx_file)
            self.device, self.model = None, None
        else:
            torch = _require_torch()
            self.device = torch.device(device)
            self.model = model.to(self.device).eval()
        model_max = getattr(tokenizer, "model_max_length", None) or max_seq_len
        self.max_seq_len = min(max_seq_len, int(model_max)) if model_max < 10**6 else max_seq_len
        self.doc_stride = doc_stride
        self.max_answer_tokens = max_answer_tokens
        self.n_best = n_best
        # As in utils_qa: a tokenizer that pads on the left expects (context, question).
        self.question_first = tokenizer.padding_side == "right"

    @staticmethod
    def _model_folder(model: str, local_files_only: bool) -> Path:
        """The local folder of a hub model (the cache key of its ONNX export)."""
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=local_files_only))

    def window_settings(self) -> WindowSettings:
        return WindowSettings(
            max_seq_len=self.max_seq_len,
            doc_stride=self.doc_stride,
            max_question_tokens=self.max_question_tokens,
            reads_headline=self.reads_headline,
            question_first=self.question_first,
        )

    def run(self, windows: Windows) -> WindowLogits:
        """Start and end logits of every window, shape (windows, padded length): torch or ONNX Runtime."""
        names = set(getattr(self.tokenizer, "model_input_names", ("input_ids", "attention_mask")))
        keys = [k for k in windows.model_inputs if k in names]
        if self.session is None:
            torch = _require_torch()
            inputs = {k: torch.tensor(windows.model_inputs[k], device=self.device) for k in keys}
            with torch.inference_mode():
                out = self.model(**inputs)
            return WindowLogits(out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy())
        arrays = {k: np.asarray(windows.model_inputs[k], dtype=np.int64) for k in keys}
        mask = arrays["attention_mask"]
        if "token_type_ids" not in arrays:
            arrays["token_type_ids"] = np.zeros_like(mask)
        wanted = [i.name for i in self.session.get_inputs()]
        start = np.full(mask.shape, -1e4, dtype=np.float32)  # padding: masked by decode_spans
        end = start.copy()
        width = mask.shape[1]
        for f, length in enumerate(mask.sum(axis=1)):
            cols = (
                slice(0, length) if self.tokenizer.padding_side == "right" else slice(width - length, width)
            )
            feed = {k: arrays[k][f : f + 1, cols] for k in wanted}
            s, e = self.session.run(["start_logits", "end_logits"], feed)
            start[f, cols], end[f, cols] = s[0], e[0]
        return WindowLogits(start, end)

    def read(self, query: Query, passages: Sequence[Passage]) -> ReaderResult:
        """Answer spans for ``query`` in ``passages``, best first, with a null score.

        A follow-up's carried words follow its own question ("And in India? how many users
        targeted"): the model reads them as more question words, its own first.
        """
        windows = prepare_windows(self.tokenizer, query, passages, self.window_settings())
        if not len(windows):
            return empty_result(self.name)
        decoded = decode_windows(
            windows,
            self.run(windows),
            passages,
            max_answer_tokens=self.max_answer_tokens,
            n_best=self.n_best,
        )
        return aggregate(decoded, passages, reader=self.name, n_best=self.n_best)
