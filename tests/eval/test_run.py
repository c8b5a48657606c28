"""qa/evaluate.py: question files, bad input, the run with a scripted pipeline, and the CLI end to end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from qa import config
from qa.eval.run import (
    METRICS_FILE,
    PREDICTIONS_FILE,
    REPORT_FILE,
    EvalInputError,
    evaluate_question,
    load_questions,
    run_questions,
    write_corpus,
    write_results,
)
from qa.types import Hit, Passage, ReaderResult, SpanCandidate


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, *records) -> Path:
    return _write(path, "".join(json.dumps(r) + "\n" for r in records))


# --------------------------------------------------------------------------------------------------
# Question files


def test_load_jsonl(tmp_path):
    path = _jsonl(
        tmp_path / "q.jsonl",
        {"id": "a", "question": "Who won?", "answers": ["Ana", "Ana Ribeiro", "Ana"], "source": "x.md"},
        {"id": 7, "question": "What is the population?", "answers": []},
    )
    qs = load_questions(path)
    assert qs.format == "jsonl"
    assert [q.id for q in qs.questions] == ["a", "7"]
    assert qs.questions[0].answers == ("Ana", "Ana Ribeiro")  # repeats folded
    assert qs.questions[0].source == "x.md" and qs.questions[0].has_answer
    assert not qs.questions[1].has_answer and qs.questions[1].source is None
    assert qs.contexts == ()


def test_jsonl_lines_are_split_on_newlines_only(tmp_path):
    # U+2028 is valid raw inside a JSON string; str.splitlines() would cut the record in two.
    path = _write(tmp_path / "q.jsonl", '{"id": "a", "question": "Who\u2028won?", "answers": ["Ana"]}\r\n')
    assert [q.id for q in load_questions(path).questions] == ["a"]


def test_load_json_array_like_the_bundled_sample_questions():
    qs = load_questions(config.REPO_ROOT / "qa" / "sample_questions.json")
    assert qs.format == "json"
    assert len(qs.questions) == 12 and qs.questions[0].id == "1"
    assert sum(not q.has_answer for q in qs.questions) == 2


SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Tiny_Town",
            "paragraphs": [
                {
                    "context": "Tiny Town was founded in 1820 by Mary Smith.",
                    "qas": [
                        {"id": "s1", "question": "Who founded Tiny Town?", "answers": [{"text": "Mary Smith", "answer_start": 34}], "is_impossible": False},
                        {"id": "s2", "question": "Who closed Tiny Town?", "answers": [], "plausible_answers": [{"text": "Mary Smith", "answer_start": 34}], "is_impossible": True},
                    ],
                },
                {"context": "The town has 300 people.", "qas": [{"id": "s3", "question": "How many people live in Tiny Town?", "answers": [{"text": "300", "answer_start": 13}]}]},
            ],
        }
    ],
}


def test_load_squad_with_contexts_and_sources(tmp_path):
    qs = load_questions(_write(tmp_path / "dev.json", json.dumps(SQUAD)))
    assert qs.format == "squad"
    assert [q.id for q in qs.questions] == ["s1", "s2", "s3"]
    assert qs.questions[0].answers == ("Mary Smith",)
    assert qs.questions[1].answers == ()  # plausible answers of an impossible question do not count
    assert [c.title for c in qs.contexts] == ["Tiny Town", "Tiny Town"]
    assert [q.source for q in qs.questions] == ["dev.jsonl#1", "dev.jsonl#1", "dev.jsonl#2"]


def test_corpus_from_squad_is_ingestible_and_sources_name_its_articles(tmp_path):
    from qa.ingest.articles import load_articles

    qs = load_questions(_write(tmp_path / "dev.json", json.dumps(SQUAD)))
    corpus = write_corpus(qs, tmp_path / "corpus")
    report = load_articles(corpus)
    assert not report.skipped
    ids = {a.article_id: a for a in report.articles}
    assert set(ids) == {"dev.jsonl#1", "dev.jsonl#2"}
    assert "Mary Smith" in " ".join(ids["dev.jsonl#1"].paragraphs)
    assert ids["dev.jsonl#2"].source == "https://en.wikipedia.org/wiki/Tiny_Town"


@pytest.mark.parametrize(
    "content, expected",
    [
        ("", "the file is empty"),
        ("  \n\n", "the file is empty"),
        ('{"id": "a", "question": "Q?", "answers": []}\nthis is not json\n', ":2: not valid JSON"),
        ('{"id": "a", "question": "Q?", "answers": []}\n{"id": "a", "question": "R?", "answers": ["x"]}\n', ":2: duplicate id 'a' (first used at"),
        ('{"id": "a", "question": "Q?", "answers": "Paris"}\n', ":1: 'answers' must be a list"),
        ('{"id": "a", "question": "Q?"}\n', ":1: no 'answers'"),
        ('\n{"id": "a", "answers": []}\n', ":2: 'question' must be a non-empty string"),
        ('{"id": "a", "question": "   ", "answers": []}\n', ":1: 'question' must be a non-empty string"),
        ('["a", "b"]\n', "item 1: expected a JSON object"),
        ('{"id": "a", "question": "Q?", "answers": [3]}\n', ":1: answers[0] must be a string"),
        ('{"id": null, "question": "Q?", "answers": []}\n', ":1: 'id' must be a non-empty string"),
        ('{"id": "a", "question": "Q?", "answers": [], "source": 5}\n', ":1: 'source' must be a string"),
        ('[]', "no questions"),
        ('{"version": "v2.0", "data": {}}', "'data' must be a list"),
        ('{"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [{"id": "x", "question": "Q?"}]}]}]}', "data[0].paragraphs[0].qas[0]: no 'answers'"),
        ('{\n  "questions": []\n}\n', "neither a SQuAD 2.0 file nor JSONL"),
    ],
)
def test_bad_question_files_name_the_file_and_line(tmp_path, content, expected):
    path = _write(tmp_path / "bad.jsonl", content)
    with pytest.raises(EvalInputError) as error:
        load_questions(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_unreadable_question_files(tmp_path):
    with pytest.raises(EvalInputError, match="no such file"):
        load_questions(tmp_path / "missing.jsonl")
    with pytest.raises(EvalInputError, match="is a folder"):
        load_questions(tmp_path)
    (tmp_path / "latin1.jsonl").write_bytes(b'{"id": "a", "question": "Q?", "answers": []}\n{"question": "caf\xe9"}\n')
    with pytest.raises(EvalInputError, match=r"latin1.jsonl:2: not UTF-8"):
        load_questions(tmp_path / "latin1.jsonl")


def test_input_errors_are_value_errors_the_cli_reports():
    assert issubclass(EvalInputError, ValueError)


def test_cli_bad_file_exits_2_with_one_line(tmp_path, capsys):
    from qa.cli import main

    path = _write(tmp_path / "q.jsonl", '{"id": "a", "question": "Q?", "answers": []}\n{"id": "a", "question": "R?", "answers": []}\n')
    assert main(["eval", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "q.jsonl:2: duplicate id 'a'" in err and "Traceback" not in err
    assert main(["eval", str(path), "--k", "0"]) == 2
    assert "--k must be greater than 0" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The run, with a scripted retriever and reader (no models)


def _passage(i: int, text: str) -> Passage:
    return Passage(f"doc{i}.md::0.0", f"doc{i}.md", f"Doc {i}", None, None, f"doc{i}.md", f"/c/doc{i}.md", 0, text)


PASSAGES = [
    _passage(0, "The bridge was opened in 1932 by Jack Lang."),
    _passage(1, "Its designer was John Bradfield, an engineer."),
    _passage(2, "The harbour is deep."),
    _passage(3, "Tourists climb the arch every day."),
]


class ScriptedReader:
    """Answers with a scripted span when it occurs in the passages it is given."""

    name = "scripted"

    def __init__(self, script: dict[str, tuple[str | None, float, float]], interrupt_on: str | None = None):
        self.script = script  # question -> (span text, span score, no-answer score)
        self.interrupt_on = interrupt_on
        self.seen: list[tuple[str, int]] = []

    def read(self, query, passages):
        question = query.question
        if question == self.interrupt_on:
            raise KeyboardInterrupt
        self.seen.append((question, len(passages)))
        span, score, no_answer = self.script[question]
        candidates = []
        for i, passage in enumerate(passages):
            start = passage.text.find(span) if span else -1
            if start >= 0:
                candidates.append(SpanCandidate(passage.passage_id, start, start + len(span), span, score))
        return ReaderResult(self.name, tuple(candidates), no_answer)


class ScriptedRetriever:
    def __init__(self, order: dict[str, list[int]], deep_order: dict[str, list[int]] | None = None):
        self.order = order  # question -> passage numbers, best first
        self.deep_order = deep_order or {}  # what a search deeper than 5 returns, when it differs
        self.calls: list[int] = []

    def search(self, query, k, *, mode="hybrid", search_filter=None):
        self.calls.append(k)
        ids = (self.deep_order.get(query, self.order[query]) if k > 5 else self.order[query])[:k]
        return [Hit(PASSAGES[i], 1.0 - rank / 10, rank) for rank, i in enumerate(ids)]


def _questions(tmp_path, *records):
    return load_questions(_jsonl(tmp_path / "q.jsonl", *records)).questions


def _pipeline(order, script, deep_order=None, **reader_options):
    return SimpleNamespace(
        retriever=ScriptedRetriever(order, deep_order), reader=ScriptedReader(script, **reader_options), no_answer_threshold=0.0
    )


QUESTIONS = [
    {"id": "right", "question": "Who designed the bridge?", "answers": ["John Bradfield"], "source": "doc1.md"},
    {"id": "miss", "question": "Who opened the bridge?", "answers": ["Jack Lang"]},
    {"id": "nullwrong", "question": "Who is the engineer?", "answers": ["John Bradfield"]},
    {"id": "falseans", "question": "How deep is the harbour?", "answers": []},
    {"id": "null", "question": "What colour is the arch?", "answers": []},
]
ORDER = {
    "Who designed the bridge?": [2, 1, 0],
    "Who opened the bridge?": [2, 3, 0],  # the answer is only at rank 3, beyond k=2
    "Who is the engineer?": [1, 0],
    "How deep is the harbour?": [2],
    "What colour is the arch?": [3],
}
SCRIPT = {
    "Who designed the bridge?": ("John Bradfield", 0.9, 0.1),
    "Who opened the bridge?": ("Tourists", 0.6, 0.2),
    "Who is the engineer?": ("John Bradfield", 0.3, 0.5),  # found but null: margin -0.2
    "How deep is the harbour?": ("deep", 0.7, 0.2),
    "What colour is the arch?": (None, 0.0, 0.9),
}


def test_evaluate_question_records_what_the_metrics_need(tmp_path):
    # A deeper search may order passages differently from search(k): the reader must see search(k).
    pipeline = _pipeline(ORDER, SCRIPT, deep_order={"Who designed the bridge?": [1, 3, 2, 0]})
    question = _questions(tmp_path, QUESTIONS[0])[0]
    record = evaluate_question(pipeline, question, k=2, mode="hybrid")
    assert pipeline.retriever.calls == [2, 10]  # what `qa ask` retrieves, then 10 deep for recall@10
    assert pipeline.reader.seen == [("Who designed the bridge?", 2)]
    assert record["read"] == ["doc2.md::0.0", "doc1.md::0.0"]
    assert record["retrieved"] == ["doc1.md::0.0", "doc3.md::0.0", "doc2.md::0.0", "doc0.md::0.0"]
    assert record["answer"] == "John Bradfield" and record["exact_match"] == 1.0 and record["error_class"] is None
    assert record["answer_rank"] == 0 and record["read_answer_rank"] == 1 and record["source_rank"] == 0
    assert record["answer_passage"]["passage_id"] == "doc1.md::0.0"
    assert record["margin"] == pytest.approx(0.8)
    citation = record["citations"][0]
    assert citation["text"][citation["start"] : citation["end"]] == "John Bradfield"
    assert set(record["timings_ms"]) == {"retrieve_ms", "read_ms", "total_ms"}
    json.dumps(record)  # one JSON line


def test_run_attributes_every_error_and_writes_results(tmp_path):
    questions = _questions(tmp_path, *QUESTIONS)
    records, partial = run_questions(_pipeline(ORDER, SCRIPT), questions, tmp_path / PREDICTIONS_FILE, k=2, mode="hybrid")
    assert not partial
    by_id = {r["id"]: r for r in records}
    assert by_id["right"]["error_class"] is None
    assert by_id["miss"]["error_class"] == "retrieval_miss" and by_id["miss"]["answer_rank"] == 2
    assert by_id["nullwrong"]["error_class"] == "false_no_answer"
    assert by_id["nullwrong"]["best_candidate"] == "John Bradfield" and by_id["nullwrong"]["margin"] == pytest.approx(-0.2)
    assert by_id["falseans"]["error_class"] == "false_answer"
    assert by_id["null"]["error_class"] is None and by_id["null"]["margin"] is None
    lines = (tmp_path / PREDICTIONS_FILE).read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [q.id for q in questions]

    run_config = {"k": 2, "no_answer_threshold": 0.0, "questions": "q.jsonl", "reader": "scripted", "mode": "hybrid", "retrieval_depth": 10}
    metrics = write_results(tmp_path, records, run_config, partial=False, total=5)
    saved = json.loads((tmp_path / METRICS_FILE).read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert saved["exact_match"] == 40.0 and saved["no_ans_accuracy"] == 50.0
    assert saved["retrieval_recall_at_k"]["2"] == pytest.approx(66.67) and saved["retrieval_recall_at_k"]["3"] == 100.0
    assert saved["source_recall_at_k"]["1"] == 0.0 and saved["source_recall_at_k"]["2"] == 100.0
    # answering only the confident right one (margin 0.8) and not the false answer (0.5) gives F1 60
    best = saved["no_answer_threshold"]["best_f1"]
    assert best["f1"] == 60.0 and -0.8 < best["threshold"] < -0.5
    assert not saved["partial"]
    report = (tmp_path / REPORT_FILE).read_text()
    assert "40.0" in report and "false_no_answer" in report and "<svg" in report


def test_interrupt_keeps_finished_predictions_and_resume_finishes(tmp_path):
    questions = _questions(tmp_path, *QUESTIONS)
    path = tmp_path / PREDICTIONS_FILE
    pipeline = _pipeline(ORDER, SCRIPT, interrupt_on="How deep is the harbour?")
    records, partial = run_questions(pipeline, questions, path, k=2, mode="hybrid")
    assert partial and [r["id"] for r in records] == ["right", "miss", "nullwrong"]
    assert len(path.read_text().splitlines()) == 3

    metrics = write_results(tmp_path, records, {"k": 2, "no_answer_threshold": 0.0}, partial=partial, total=len(questions))
    assert metrics["partial"] and metrics["n"] == 3
    assert "PARTIAL RUN" in (tmp_path / REPORT_FILE).read_text()

    # a kill mid-line leaves half a record: resume drops it and asks that question again
    with path.open("a") as file:
        file.write('{"id": "falseans", "question": "How dee')
    pipeline = _pipeline(ORDER, SCRIPT)
    records, partial = run_questions(pipeline, questions, path, k=2, mode="hybrid", resume=True)
    assert not partial and [r["id"] for r in records] == [q.id for q in questions]
    assert [q for q, _ in pipeline.reader.seen] == ["How deep is the harbour?", "What colour is the arch?"]
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == [q.id for q in questions]


def test_resume_refuses_a_different_run(tmp_path):
    from qa.eval.run import RUN_FILE, _check_resume

    previous = {"questions_sha256": "abc", "k": 5, "mode": "hybrid", "reader": "fallback", "no_answer_threshold": 0.0, "embedder": "e", "corpus_fingerprint": "f"}
    (tmp_path / RUN_FILE).write_text(json.dumps(previous))
    _check_resume(tmp_path, {**previous, "limit": 99}, resume=True)  # a longer --limit may continue
    with pytest.raises(EvalInputError, match=r"k 5 -> 3"):
        _check_resume(tmp_path, {**previous, "k": 3}, resume=True)
    _check_resume(tmp_path, {**previous, "k": 3}, resume=False)


# --------------------------------------------------------------------------------------------------
# End to end through the CLI


@pytest.mark.slow
def test_cli_indexes_an_articles_folder_and_evaluates_json_questions(tmp_path, capsys):
    from qa.cli import main

    out = tmp_path / "run"
    questions = config.REPO_ROOT / "qa" / "sample_questions.json"
    status = main(["eval", str(questions), "--articles", str(config.SAMPLE_ARTICLES_DIR), "--reader", "fallback", "--k", "3", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    metrics = json.loads((out / METRICS_FILE).read_text())
    assert metrics["n"] == 12 and metrics["n_no_answer"] == 2
    assert metrics["config"]["corpus"] == str(config.SAMPLE_ARTICLES_DIR) and metrics["config"]["index"] == str(out / "index")
    assert set(metrics["retrieval_recall_at_k"]) == {"1", "3", "5", "10"}
    assert len((out / PREDICTIONS_FILE).read_text().splitlines()) == 12


@pytest.mark.slow
def test_cli_end_to_end_on_squad_subset(tmp_path, squad_path, repo_root):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    command = [sys.executable, "-m", "qa.cli", "eval", str(squad_path), "--corpus-from-dataset", "--limit", "40", "--k", "5", "--reader", "fallback", "--out", str(out)]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "Evaluated 40 of 40 questions" in done.stdout

    predictions = [json.loads(line) for line in (out / PREDICTIONS_FILE).read_text().splitlines()]
    assert len(predictions) == 40
    for record in predictions:
        assert {"id", "question", "answer", "confidence", "no_answer_score", "reader", "citations", "gold", "timings_ms", "error_class"} <= set(record)
        assert record["reader"] == "fallback"
        for citation in record["citations"]:
            if record["answer"] is not None and citation["start"] >= 0:
                assert citation["text"][citation["start"] : citation["end"]] == record["answer"]
    metrics = json.loads((out / METRICS_FILE).read_text())
    for key in ("n", "exact_match", "f1", "has_ans_exact_match", "has_ans_f1", "no_ans_accuracy", "mrr", "retrieval_recall_at_k", "latency_ms", "no_answer_threshold"):
        assert key in metrics
    assert metrics["n"] == 40 and not metrics["partial"]
    assert set(metrics["retrieval_recall_at_k"]) == {"1", "3", "5", "10"}
    assert set(metrics["latency_ms"]) == {"retrieve", "read", "total"}
    cfg = metrics["config"]
    assert cfg["reader"] == "fallback" and cfg["k"] == 5 and cfg["index_articles"] > 100
    assert (out / "corpus").is_dir() and (out / "index").is_dir()
    report = (out / REPORT_FILE).read_text()
    assert f"{metrics['exact_match']:.1f}" in report and "retrieval_miss" in report

    # `python -m qa.eval.run` is the same command; --resume finds all 40 done and only rescoring happens.
    again = subprocess.run(
        [sys.executable, "-m", "qa.eval.run", *command[4:], "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert again.returncode == 0, again.stderr
    assert json.loads((out / METRICS_FILE).read_text())["exact_match"] == metrics["exact_match"]
    refused = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert refused.returncode == 2 and "pass --resume" in refused.stderr
