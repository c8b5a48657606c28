"""qa/calibration.py: `qa eval --save-threshold` tunes the no-answer threshold that `qa ask` then uses."""

from __future__ import annotations

import json
import logging

import pytest

from qa import config
from qa.answer.calibration import (
    THRESHOLD_FILE,
    SavedThreshold,
    load_threshold,
    resolve_threshold,
    save_threshold,
)
from qa.eval.questions import load_questions
from qa.eval.resume import METRICS_FILE
from qa.read.choose import load_reader


def saved(reader: str, threshold: float, k: int = 5, mode: str = "hybrid") -> SavedThreshold:
    return SavedThreshold(
        reader,
        k,
        mode,
        threshold,
        f1=61.0,
        f1_before=55.0,
        answered=9,
        questions=12,
        run="runs/mine",
        saved="2026-11-25T22:00:00+00:00",
    )


def test_thresholds_are_kept_per_reader_k_and_mode(tmp_path):
    save_threshold(tmp_path, saved("bundled:test", -0.25))
    save_threshold(tmp_path, saved("transformers:deepset/tinyroberta-squad2", 0.4))
    save_threshold(tmp_path, saved("bundled:test", -0.125))  # replaces the first
    save_threshold(tmp_path, saved("bundled:test", 0.3, k=20))
    save_threshold(tmp_path, saved("bundled:test", 0.1, mode="dense"))
    assert load_threshold(tmp_path, "bundled:test", 5, "hybrid").threshold == -0.125
    assert load_threshold(tmp_path, "bundled:test", 20, "hybrid").threshold == 0.3
    assert load_threshold(tmp_path, "bundled:test", 5, "dense").threshold == 0.1
    assert load_threshold(tmp_path, "transformers:deepset/tinyroberta-squad2", 5, "hybrid").threshold == 0.4
    assert load_threshold(tmp_path, "transformers:other", 5, "hybrid") is None
    assert load_threshold(tmp_path, "bundled:test", 3, "hybrid") is None  # tuned at another k: not used
    assert not list(tmp_path.glob(".*.tmp"))


def test_given_beats_saved_beats_the_readers_own_beats_default(tmp_path):
    assert resolve_threshold(tmp_path, "bundled:test", None) == (config.NO_ANSWER_THRESHOLD, "default")
    assert resolve_threshold(tmp_path, "bundled:test", None, -0.5) == (-0.5, "shipped with the reader")
    save_threshold(tmp_path, saved("bundled:test", -0.25))
    value, source = resolve_threshold(tmp_path, "bundled:test", None, -0.5)
    assert value == -0.25 and source == "tuned by qa eval (runs/mine, F1 55.0 -> 61.0)"
    assert resolve_threshold(tmp_path, "bundled:test", None, -0.5, k=10) == (-0.5, "shipped with the reader")
    assert resolve_threshold(tmp_path, "bundled:test", 0.5) == (0.5, "given")


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '["a list"]',
        '{"bundled:test k=5 hybrid": {"threshold": 1}}',
        '{"bundled:test k=5 hybrid": {"reader": "bundled:test", "k": 5, "mode": "hybrid", '
        '"threshold": "high", "f1": 1, "f1_before": 1, "answered": 1, "questions": 1, '
        '"run": "r", "saved": "s"}}',
    ],
)
def test_a_damaged_file_falls_back_to_the_default(tmp_path, caplog, content):
    (tmp_path / THRESHOLD_FILE).write_text(content, encoding="utf-8")
    caplog.set_level(logging.WARNING)
    assert resolve_threshold(tmp_path, "bundled:test", None) == (config.NO_ANSWER_THRESHOLD, "default")


@pytest.mark.slow
def test_eval_saves_the_best_threshold_and_the_pipeline_answers_by_it(tmp_path, capsys, embedder):
    from qa.cli import main
    from qa.pipeline import QAPipeline
    from qa.store.local.build import build_index

    index_dir, out = tmp_path / "index", tmp_path / "run"
    build_index(config.SAMPLE_ARTICLES_DIR, index_dir, embedder)
    status = main(
        [
            "eval",
            str(config.SAMPLE_QUESTIONS),
            "--index",
            str(index_dir),
            "--reader",
            "bundled",
            "--k",
            "3",
            "--out",
            str(out),
            "--save-threshold",
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0 and "Saved no-answer threshold" in printed
    best = json.loads((out / METRICS_FILE).read_text())["no_answer_threshold"]["best_f1"]
    entry = load_threshold(index_dir, load_reader("bundled").name, 3, "hybrid")
    assert (
        entry.threshold == best["threshold"] and entry.answered == best["answered"] and entry.questions == 12
    )

    pipeline = QAPipeline.load(index_dir, reader="bundled", embedder=embedder)
    threshold, source = pipeline.threshold(3, "hybrid")
    assert threshold == best["threshold"] and source.startswith("tuned by qa eval")
    assert pipeline.threshold(5, "hybrid")[1] != source  # tuned at k=3, so not used at k=5
    # The sweep's count of answered questions is what the pipeline now does with the saved threshold.
    questions = load_questions(config.SAMPLE_QUESTIONS).questions
    answered = sum(pipeline.ask(q.question, k=3).answer is not None for q in questions)
    assert answered == best["answered"]
    assert QAPipeline.load(index_dir, reader="bundled", embedder=embedder, no_answer_threshold=0.5).threshold(
        3, "hybrid"
    ) == (0.5, "given")
    # `qa ask` says which threshold decided, when it is a tuned one.
    assert (
        main(
            [
                "ask",
                "Who is the mayor of Valmora?",
                "--index",
                str(index_dir),
                "--reader",
                "bundled",
                "--k",
                "3",
            ]
        )
        == 0
    )
    assert (
        f"(no-answer threshold {best['threshold']:+.4f}, tuned by qa eval ({out}" in capsys.readouterr().out
    )


def test_save_threshold_refuses_an_interrupted_run(tmp_path):
    from qa.eval.questions import EvalInputError
    from qa.eval.runner import save_best_threshold

    metrics = {
        "partial": True,
        "f1": 1.0,
        "n": 1,
        "no_answer_threshold": {"best_f1": {"threshold": 0.1, "f1": 2.0, "answered": 1}},
    }
    with pytest.raises(EvalInputError, match="cut short"):
        save_best_threshold(metrics, tmp_path, "bundled:test", tmp_path / "run", k=5, mode="hybrid")
    assert not (tmp_path / THRESHOLD_FILE).exists()
