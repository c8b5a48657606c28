"""qa/read/rust_tokenizer.py gives the reader what transformers' fast tokenizer gives it, without
transformers."""

from __future__ import annotations

import pytest

from qa import config
from qa.read.rust_tokenizer import RustTokenizer

pytestmark = pytest.mark.slow

QUESTION = "How many customer accounts were broken into in the credential-stuffing attack on Bluewake?"
CONTEXTS = [
    "Bluewake, which runs the ferries, said some 2,600 customer accounts were broken into. "
    * 12,  # several windows
    "A short one: the Transport Minister spoke on Friday.",
    "Ünïcödé, émoji 🚢 and numbers like 4.25 euros a tonne (up 3%) survive tokenisation.",
]


@pytest.fixture(scope="module")
def tokenizers_pair():
    from transformers import AutoTokenizer

    folder = config.BUNDLED_READER_DIR
    return RustTokenizer(folder), AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def test_a_question_alone_has_the_same_ids_and_offsets(tokenizers_pair):
    ours, theirs = tokenizers_pair
    for options in (
        {"add_special_tokens": False, "return_offsets_mapping": True},
        {"add_special_tokens": False},
    ):
        got, want = ours(QUESTION, **options), theirs(QUESTION, **options)
        assert got["input_ids"] == want["input_ids"]
        if "return_offsets_mapping" in options:
            assert [tuple(o) for o in got["offset_mapping"]] == [tuple(o) for o in want["offset_mapping"]]
    assert ours.num_special_tokens_to_add(pair=True) == theirs.num_special_tokens_to_add(pair=True) == 3
    assert (ours.cls_token_id, ours.padding_side, ours.model_max_length) == (
        theirs.cls_token_id,
        theirs.padding_side,
        theirs.model_max_length,
    )


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_windows_of_question_context_pairs_are_the_same(tokenizers_pair, padding_side):
    ours, theirs = tokenizers_pair
    saved = (ours.padding_side, theirs.padding_side)
    ours.padding_side = theirs.padding_side = padding_side
    try:
        options = dict(
            truncation="only_second",
            max_length=64,
            stride=16,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
        )
        got = ours([QUESTION] * len(CONTEXTS), CONTEXTS, **options)
        want = theirs([QUESTION] * len(CONTEXTS), CONTEXTS, **options)
    finally:
        ours.padding_side, theirs.padding_side = saved
    assert len(got["input_ids"]) > len(CONTEXTS)  # the long context really was cut into windows
    assert list(got["overflow_to_sample_mapping"]) == list(want["overflow_to_sample_mapping"])
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        assert got[key] == [list(row) for row in want[key]], key
    assert [[tuple(o) for o in row] for row in got["offset_mapping"]] == [
        [tuple(o) for o in row] for row in want["offset_mapping"]
    ]
    assert [got.sequence_ids(i) for i in range(len(got["input_ids"]))] == [
        want.sequence_ids(i) for i in range(len(want["input_ids"]))
    ]


def test_the_truncation_of_one_call_does_not_leak_into_the_next(tokenizers_pair):
    ours, _ = tokenizers_pair
    ours(
        [QUESTION],
        [CONTEXTS[0]],
        truncation="only_second",
        max_length=32,
        stride=8,
        return_overflowing_tokens=True,
        padding="longest",
    )
    assert len(ours(CONTEXTS[0], add_special_tokens=False)["input_ids"]) > 32
