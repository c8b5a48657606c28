"""The reader alone: each question read with its own (gold) paragraph, no index, no retrieval."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa import config
from qa.answer.calibration import resolve_threshold
from qa.eval.metrics import (
    answer_figures,
    answer_scores,
    classify_error,
    error_counts,
    latency_figures,
    percent,
    threshold_figures,
)
from qa.eval.options import EvalOptions
from qa.eval.questions import EvalInputError, Question, QuestionSet, load_questions
from qa.eval.resume import (
    METRICS_FILE,
    PREDICTIONS_FILE,
    answer_all,
    default_out_dir,
    prepare_out_dir,
    start_run,
    write_json,
)
from qa.provenance import provenance
from qa.types import Hit, Passage, Query

# Settings that must match for --resume to append to an earlier reader-only run. "reader_only"
# is there so that an end-to-end run in the same folder is never continued as this one, nor back.
RESUME_KEYS = ("reader_only", "questions_sha256", "reader", "no_answer_threshold")


@dataclass(frozen=True)
class ReaderQuestion:
    """A question with the paragraph it was asked about: all the reader gets in this measurement."""

    question: Question
    passage: Passage

    @property
    def id(self) -> str:
        return self.question.id


def gold_paragraphs(question_set: QuestionSet) -> tuple[ReaderQuestion, ...]:
    """Each question of a SQuAD set with its paragraph, as a passage with the ids the corpus of
    `--corpus-from-dataset` gives it ("<file>.jsonl#<line>")."""
    if not question_set.contexts:
        raise EvalInputError(
            f"{question_set.path}: --reader-only reads each question with its own paragraph, and this "
            f"{question_set.format.upper()} question file has none: give a SQuAD JSON file "
            "(data[].paragraphs[].context and qas)"
        )
    items = []
    for question in question_set.questions:
        context = question_set.context_of(question)
        if context is None or question.source is None:
            raise EvalInputError(
                f"{question_set.path}: question {question.id!r} has an empty paragraph to read ('context')"
            )
        passage = Passage(
            passage_id=f"{question.source}::0.0",
            article_id=question.source,
            title=context.title,
            date=None,
            place=None,
            source=context.url,
            path=str(question_set.path),
            paragraph=0,
            text=context.text,
        )
        items.append(ReaderQuestion(question, passage))
    return tuple(items)


def read_question(reader: Any, item: ReaderQuestion, *, threshold: float) -> dict[str, Any]:
    """Read one question with its paragraph; the answer is decided as `qa ask` decides it.

    The paragraph goes in as the one Hit of a retrieval, through the pipeline's own compose step,
    so the no-answer rule (null when no-answer score minus best span score > threshold) is the
    pipeline's. The best span is kept even when the answer is null: the forced-answer figures and
    the threshold sweep use it.
    """
    from qa.pipeline import clean_question, compose_answer

    question = item.question
    text = clean_question(question.question)
    started = time.perf_counter()
    result = reader.read(Query(text), [item.passage])
    read_ms = round((time.perf_counter() - started) * 1000, 2)
    answer = compose_answer(
        text, [Hit(item.passage, 1.0, 0)], result, no_answer_threshold=threshold, search_query=text
    )

    best = answer if answer.answer is not None else (answer.alternatives[0] if answer.alternatives else None)
    span = best.citations[0] if best is not None else None
    return {
        "id": question.id,
        "question": question.question,
        "gold": list(question.answers),
        "has_answer": question.has_answer,
        **answer_scores(answer, result.no_answer_score, question.answers),
        # The paragraph is the gold one: a wrong answer is the reader's (or the threshold's).
        "error_class": classify_error(answer.answer, question.answers, True),
        "best_candidate_span": [span.start, span.end] if span is not None else None,
        "passage_id": item.passage.passage_id,
        "timings_ms": {"read_ms": read_ms},
    }


def summarize_reader(records: Sequence[dict[str, Any]], *, threshold: float) -> dict[str, Any]:
    """The reader-alone metrics of read_question records. EM, F1 and accuracies are percentages.

    exact_match/f1 and the has-answer and no-answer figures score the answer after the no-answer
    decision (SQuAD 2.0). forced_exact_match/forced_f1 take the best span whatever the no-answer
    score says, over the answerable questions only: SQuAD 1.1's scoring (over a SQuAD 1.1 file,
    where every question has an answer, they are its EM and F1).
    """
    answerable = [r for r in records if r["has_answer"]]
    return {
        **answer_figures(records),
        "forced_exact_match": percent([r["candidate_exact_match"] or 0.0 for r in answerable]),
        "forced_f1": percent([r["candidate_f1"] or 0.0 for r in answerable]),
        "no_answer_threshold": threshold_figures(records, threshold),
        "latency_ms": latency_figures(records, ("read",)),
        "errors": error_counts(records),
    }


def evaluate_reader(
    reader: Any, questions: Sequence[ReaderQuestion], *, threshold: float = config.NO_ANSWER_THRESHOLD
) -> dict[str, Any]:
    """Reader-alone metrics (summarize_reader) of `reader` over questions read with their paragraphs.

    Example (a SQuAD file; training code can build ReaderQuestion from its own examples):
        >>> from qa.read.choose import load_reader
        >>> questions = gold_paragraphs(load_questions("dev-v2.0.json"))  # doctest: +SKIP
        >>> evaluate_reader(load_reader("bundled"), questions, threshold=0.0)["forced_f1"]  # doctest: +SKIP
    """
    return summarize_reader(
        [read_question(reader, item, threshold=threshold) for item in questions], threshold=threshold
    )


def run_reader_eval(options: EvalOptions) -> int:
    """`qa eval --reader-only`: 0 when done, 130 when interrupted (what was finished is still scored)."""
    question_set = load_questions(options.questions)
    items = gold_paragraphs(question_set)  # a file without paragraphs is refused before any loading
    out_dir = options.out if options.out is not None else default_out_dir()
    prepare_out_dir(out_dir, resume=options.resume, overwrite=options.overwrite)

    from qa.read.choose import load_reader

    reader = load_reader(options.reader)
    # No index here, so no threshold saved beside one: given, the reader's own, or the default.
    threshold, source = resolve_threshold(None, reader.name, options.threshold, reader.no_answer_threshold)
    run_config = {
        "reader_only": True,
        "questions": str(question_set.path),
        "questions_format": question_set.format,
        "questions_sha256": hashlib.sha256(question_set.path.read_bytes()).hexdigest(),
        "limit": options.limit,
        "reader": reader.name,
        "no_answer_threshold": threshold,
        "no_answer_threshold_source": source,
        **provenance(options.command),
    }
    start_run(out_dir, run_config, RESUME_KEYS, resume=options.resume)

    items = items[: options.limit] if options.limit is not None else items
    records, partial = answer_all(
        items,
        lambda item: read_question(reader, item, threshold=threshold),
        out_dir / PREDICTIONS_FILE,
        key=lambda item: item.id,
        resume=options.resume,
    )
    metrics = {
        **summarize_reader(records, threshold=threshold),
        "partial": partial or len(records) < len(items),
        "questions_in_run": len(items),
        "config": run_config,
    }
    write_json(out_dir / METRICS_FILE, metrics)
    print(format_reader_summary(metrics, out_dir))
    return 130 if partial else 0


def format_reader_summary(metrics: dict[str, Any], out_dir: Path) -> str:
    def num(value: Any, digits: int = 1) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    cfg = metrics["config"]
    best = metrics["no_answer_threshold"]["best_f1"]
    read = metrics["latency_ms"].get("read", {})
    return "\n".join(
        [
            f"{'PARTIAL: ' if metrics['partial'] else ''}"
            f"Read {metrics['n']} of {metrics['questions_in_run']} questions, "
            f"each with its own paragraph (reader {cfg['reader']}, no retrieval) -> {out_dir}",
            f"  EM {num(metrics['exact_match'])}  F1 {num(metrics['f1'])}  "
            f"(has-answer EM {num(metrics['has_ans_exact_match'])} "
            f"F1 {num(metrics['has_ans_f1'])}; no-answer accuracy {num(metrics['no_ans_accuracy'])}; "
            f"threshold {cfg['no_answer_threshold']})",
            f"  forced answer (best span always taken, SQuAD 1.1 scoring, "
            f"{metrics['n_has_answer']} answerable): "
            f"EM {num(metrics['forced_exact_match'])}  F1 {num(metrics['forced_f1'])}",
            f"  best no-answer threshold {best['threshold']:+.4f}: "
            f"F1 {num(best['f1'])} ({best['answered']} answered)",
            f"  read p50 {num(read.get('p50'), 0)} ms, p95 {num(read.get('p95'), 0)} ms",
            f"  predictions: {out_dir / PREDICTIONS_FILE}",
        ]
    )
