"""A model folder's tokenizer.json through `tokenizers` alone, answering the calls the reader makes of a
transformers fast tokenizer: importing transformers (and with it torch) costs 2-4 s of every `qa ask`.

Only what TransformersReader uses: a question alone (offsets), and question/context pairs cut into
overlapping windows (truncation of one side, a stride, the windows of every pair flattened with
`overflow_to_sample_mapping`, padded to the longest). The same Rust encodings transformers reads, so
the same ids, offsets and sequence ids (tests/read/test_rust_tokenizer.py compares them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class RustTokenizer:
    """tokenizer.json + tokenizer_config.json of a folder, called like a transformers fast tokenizer.

    >>> tok = RustTokenizer.from_folder("qa/read/bundled_model")  # doctest: +SKIP
    >>> tok("Who won?", add_special_tokens=False)["input_ids"]  # doctest: +SKIP
    [2040, 2180, 1029]
    """

    is_fast = True

    def __init__(self, folder: Path | str):
        from tokenizers import Tokenizer

        folder = Path(folder)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        settings_file = folder / "tokenizer_config.json"
        settings = json.loads(settings_file.read_text(encoding="utf-8")) if settings_file.is_file() else {}
        self.padding_side = settings.get("padding_side", "right")
        self.truncation_side = settings.get("truncation_side", "right")
        self.model_max_length = int(settings.get("model_max_length") or 512)
        self.model_input_names = list(
            settings.get("model_input_names") or ("input_ids", "token_type_ids", "attention_mask")
        )
        self.cls_token_id = self._token_id(settings.get("cls_token"))
        self.pad_token_id = self._token_id(settings.get("pad_token"))
        self.pad_token_id = self.pad_token_id if self.pad_token_id is not None else 0
        self.pad_token_type_id = int(settings.get("pad_token_type_id", 0))

    @classmethod
    def from_folder(cls, folder: Path | str) -> RustTokenizer | None:
        """The tokenizer of a folder that has a tokenizer.json, else None."""
        return cls(folder) if (Path(folder) / "tokenizer.json").is_file() else None

    def _token_id(self, token: Any) -> int | None:
        if isinstance(token, dict):  # {"content": "[CLS]", ...} in some configs
            token = token.get("content")
        return self._tokenizer.token_to_id(token) if isinstance(token, str) else None

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return self._tokenizer.num_special_tokens_to_add(pair)

    def __call__(
        self,
        first: str | Sequence[str],
        second: str | Sequence[str] | None = None,
        *,
        add_special_tokens: bool = True,
        truncation: str | bool | None = None,
        max_length: int | None = None,
        stride: int = 0,
        return_overflowing_tokens: bool = False,
        return_offsets_mapping: bool = False,
        padding: str | bool = False,
    ) -> Encoded:
        single = isinstance(first, str)
        firsts = [first] if single else list(first)
        seconds = None if second is None else ([second] if isinstance(second, str) else list(second))
        inputs = firsts if seconds is None else list(zip(firsts, seconds))
        if truncation:
            strategy = truncation if isinstance(truncation, str) else "longest_first"
            self._tokenizer.enable_truncation(
                max_length or self.model_max_length,
                stride=stride,
                strategy=strategy,
                direction=self.truncation_side,
            )
        try:
            encodings = self._tokenizer.encode_batch(inputs, add_special_tokens=add_special_tokens)
        finally:
            self._tokenizer.no_truncation()
        windows, samples = [], []
        for sample, encoding in enumerate(encodings):
            for window in [encoding, *(encoding.overflowing if return_overflowing_tokens else ())]:
                windows.append(window)
                samples.append(sample)
        encoded = Encoded(
            windows,
            samples,
            self,
            pad=bool(padding) and padding != "do_not_pad",
            offsets=return_offsets_mapping,
            overflow=return_overflowing_tokens,
        )
        return encoded.first() if single and not return_overflowing_tokens else encoded


class Encoded(dict):
    """What a fast tokenizer's BatchEncoding gives the reader: lists by key, and sequence_ids(i)."""

    def __init__(
        self,
        windows: list,
        samples: list[int],
        tokenizer: RustTokenizer,
        *,
        pad: bool,
        offsets: bool,
        overflow: bool,
    ):
        width = max((len(w.ids) for w in windows), default=0) if pad else None
        self._sequence_ids: list[list[int | None]] = []
        columns: dict[str, list] = {"input_ids": [], "token_type_ids": [], "attention_mask": []}
        if offsets:
            columns["offset_mapping"] = []
        for window in windows:
            gap = (width - len(window.ids)) if width is not None else 0
            rows = {
                "input_ids": (list(window.ids), [tokenizer.pad_token_id] * gap),
                "token_type_ids": (list(window.type_ids), [tokenizer.pad_token_type_id] * gap),
                "attention_mask": (list(window.attention_mask), [0] * gap),
                "offset_mapping": ([tuple(o) for o in window.offsets], [(0, 0)] * gap),
            }
            sequence_ids = (list(window.sequence_ids), [None] * gap)
            left = tokenizer.padding_side == "left"
            for key in columns:
                body, padding = rows[key]
                columns[key].append(padding + body if left else body + padding)
            self._sequence_ids.append(
                sequence_ids[1] + sequence_ids[0] if left else sequence_ids[0] + sequence_ids[1]
            )
        super().__init__(columns)
        if overflow:
            self["overflow_to_sample_mapping"] = samples

    def sequence_ids(self, index: int = 0) -> list[int | None]:
        return self._sequence_ids[index]

    def first(self) -> dict[str, list]:
        """A single text's encoding: each key's one row."""
        return {key: rows[0] for key, rows in self.items()}
