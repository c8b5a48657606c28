"""qa/eval/resume.py: the run folder, run.json and the predictions a killed run resumes from."""

from __future__ import annotations

import json

import pytest

from qa.eval.questions import EvalInputError
from qa.eval.resume import (
    PREDICTIONS_FILE,
    RUN_FILE,
    answer_all,
    prepare_out_dir,
    read_predictions,
    start_run,
)

KEYS = ("questions_sha256", "k", "mode", "reader", "no_answer_threshold", "embedder", "corpus_fingerprint")


def test_resume_refuses_a_different_run(tmp_path):
    previous = {
        "questions_sha256": "abc",
        "k": 5,
        "mode": "hybrid",
        "reader": "bundled:test",
        "no_answer_threshold": 0.0,
        "embedder": "e",
        "corpus_fingerprint": "f",
    }
    (tmp_path / RUN_FILE).write_text(json.dumps(previous))
    start_run(tmp_path, {**previous, "limit": 99}, KEYS, resume=True)  # a longer --limit may continue
    assert json.loads((tmp_path / RUN_FILE).read_text())["limit"] == 99
    with pytest.raises(EvalInputError, match=r"k 5 -> 3"):
        start_run(tmp_path, {**previous, "k": 3}, KEYS, resume=True)
    start_run(tmp_path, {**previous, "k": 3}, KEYS, resume=False)  # a fresh run replaces it
    assert json.loads((tmp_path / RUN_FILE).read_text())["k"] == 3


def test_out_dir_holding_a_run_needs_resume_or_overwrite(tmp_path):
    (tmp_path / PREDICTIONS_FILE).write_text("")
    with pytest.raises(EvalInputError, match="pass --resume"):
        prepare_out_dir(tmp_path, resume=False, overwrite=False)
    prepare_out_dir(tmp_path, resume=True, overwrite=False)
    prepare_out_dir(tmp_path, resume=False, overwrite=True)
    with pytest.raises(EvalInputError, match="is a file"):
        prepare_out_dir(tmp_path / PREDICTIONS_FILE, resume=False, overwrite=False)


def test_answer_all_skips_what_is_done_and_asks_a_cut_line_again(tmp_path):
    path = tmp_path / PREDICTIONS_FILE
    asked = []

    def evaluate(item: str) -> dict:
        asked.append(item)
        return {"id": item, "exact_match": 1.0, "f1": 1.0}

    path.write_text(
        '{"id": "a", "exact_match": 0.0, "f1": 0.5}\n'
        '{"id": "gone", "exact_match": 1.0, "f1": 1.0}\n'
        '{"id": "b", "exa'
    )
    records, partial = answer_all(["a", "b", "c"], evaluate, path, key=str, resume=True)
    assert not partial and asked == ["b", "c"]
    assert [r["id"] for r in records] == ["a", "b", "c"] and records[0]["f1"] == 0.5
    assert [r["id"] for r in read_predictions(path)] == ["a", "b", "c"]  # "gone" and the cut line dropped
