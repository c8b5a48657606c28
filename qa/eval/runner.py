"""End-to-end evaluation: a question set through the pipeline -> predictions.jsonl, metrics.json,
report.html."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.eval.metrics import (
    RETRIEVAL_DEPTH,
    answer_scores,
    classify_error,
    first_answer_rank,
    summarize,
)
from qa.eval.options import EvalOptions
from qa.eval.questions import (
    EvalInputError,
    Question,
    QuestionSet,
    load_questions,
    write_corpus,
)
from qa.eval.resume import (
    METRICS_FILE,
    PREDICTIONS_FILE,
    REPORT_FILE,
    answer_all,
    default_out_dir,
    prepare_out_dir,
    start_run,
    write_json,
)
from qa.provenance import provenance

if TYPE_CHECKING:
    from qa.pipeline import QAPipeline
    from qa.store.location import StoreLocation

# Settings that must match for --resume to append to an earlier run.
RESUME_KEYS = (
    "questions_sha256",
    "k",
    "mode",
    "reader",
    "no_answer_threshold",
    "embedder",
    "corpus_fingerprint",
)


# --------------------------------------------------------------------------------------------------
# One question


def _passage_ref(passage: Any) -> dict[str, Any]:
    return {"passage_id": passage.passage_id, "title": passage.title, "text": passage.text}


def _names_article(sources: Sequence[str], article_id: str, title: str, source: str, path: str = "") -> bool:
    """Whether one of a question's `sources` names this article: its id, title, URL or file."""
    path = (path or source).replace("\\", "/")
    return any(
        name in (article_id, title, source, path) or path.endswith("/" + name.lstrip("/")) for name in sources
    )


def _source_matches(passage: Any, sources: Sequence[str]) -> bool:
    return _names_article(sources, passage.article_id, passage.title, passage.source, passage.path)


def _cites_source(citations: Sequence[dict[str, Any]], sources: Sequence[str]) -> bool:
    """Whether the answer's span is cited from one of the named articles (a passage shown without
    the span is context, not the citation)."""
    return any(
        c["start"] is not None and _names_article(sources, c["article_id"], c["title"], c["source"])
        for c in citations
    )


def evaluate_question(pipeline: QAPipeline, question: Question, *, k: int, mode: str) -> dict[str, Any]:
    """Answer one question as `QAPipeline.ask` does, keeping what the metrics need besides the answer.

    The reader gets exactly what `ask` gives it: `search(question, k)`. Recall@10 needs a deeper
    list, and the top k of a deeper search are not always search(k) (the retriever's candidate
    pools grow with k), so for k < RETRIEVAL_DEPTH a second, untimed search ranks 10 deep.
    """
    from qa.pipeline import answer_from, clean_question
    from qa.types import Query

    text = clean_question(question.question)
    search_filter = question.search_filter
    threshold, source = pipeline.threshold(k, mode)
    answered = answer_from(
        pipeline.retriever,
        pipeline.reader,
        Query(text),
        k=k,
        mode=mode,
        no_answer_threshold=threshold,
        search_filter=search_filter,
        decision=pipeline.decision(k, mode, threshold_source=source),
    )
    answer, hits = answered.answer, answered.hits
    ranked = (
        hits
        if k >= RETRIEVAL_DEPTH
        else pipeline.retriever.search(text, RETRIEVAL_DEPTH, mode=mode, search_filter=search_filter)
    )

    answer_rank = first_answer_rank([hit.passage.text for hit in ranked], question.answers)
    read_rank = first_answer_rank([hit.passage.text for hit in hits], question.answers)
    holder = (
        hits[read_rank]
        if read_rank is not None
        else (ranked[answer_rank] if answer_rank is not None else None)
    )
    record: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "gold": list(question.answers),
        "has_answer": question.has_answer,
        **answer_scores(answer, answered.reader_result.no_answer_score, question.answers),
        "error_class": classify_error(answer.answer, question.answers, read_rank is not None),
        # 0-based rank of the first passage holding a gold answer: in the RETRIEVAL_DEPTH-deep
        # ranking (recall@k, MRR) and among the k passages read (error attribution); None: absent.
        "answer_rank": answer_rank,
        "read_answer_rank": read_rank,
        "answer_passage": _passage_ref(holder.passage) if holder is not None else None,
        "read": [hit.passage.passage_id for hit in hits],
        "retrieved": [hit.passage.passage_id for hit in ranked],
        "timings_ms": answer.timings_ms,
        "citations": answer.to_dict()["citations"],
    }
    if search_filter is not None:
        record["filter"] = {"from": search_filter.date_from, "to": search_filter.date_to}
    if question.sources:
        record["source"] = list(question.sources)
        # Any copy folded into a hit counts: the hit stands for every passage it folds.
        record["source_rank"] = next(
            (hit.rank for hit in ranked if any(_source_matches(p, question.sources) for p in hit.passages)),
            None,
        )
        record["cites_source"] = _cites_source(record["citations"], question.sources)
    return record


# --------------------------------------------------------------------------------------------------
# The run


def run_eval(options: EvalOptions) -> int:
    """`qa eval`: 0 when done, 130 when interrupted (what was finished is still scored and reported)."""
    from qa import service

    question_set = load_questions(options.questions)
    out_dir = options.out if options.out is not None else default_out_dir()
    prepare_out_dir(out_dir, resume=options.resume, overwrite=options.overwrite)
    articles_dir = _corpus_to_index(options, question_set, out_dir)  # refuses a bad pairing before loading
    location = _store_location(options, out_dir, building=articles_dir is not None)

    embedder = service.index_embedder(location)  # `qa eval` has no --embedder: the one that built it
    if articles_dir is not None:
        _build_index(articles_dir, location, embedder, own_index=options.store is None)
    pipeline = service.open_pipeline(
        location,
        reader=options.reader,
        threshold=options.threshold,
        embedder=embedder,
        passage_weight=options.passage_weight,
    )
    run_config = _run_config(options, question_set, pipeline, location)
    start_run(out_dir, run_config, RESUME_KEYS, resume=options.resume)

    questions = (
        question_set.questions[: options.limit] if options.limit is not None else question_set.questions
    )
    records, partial = run_questions(
        pipeline, questions, out_dir / PREDICTIONS_FILE, k=options.k, mode=options.mode, resume=options.resume
    )
    metrics = write_results(
        out_dir, records, run_config, partial=partial, total=len(questions), examples=options.examples
    )
    print(format_summary(metrics, out_dir))
    if options.save_threshold:
        print(
            save_best_threshold(
                metrics, location, pipeline.reader.name, out_dir, k=options.k, mode=options.mode
            )
        )
    return 130 if partial else 0


def save_best_threshold(
    metrics: dict[str, Any], location: StoreLocation, reader: str, out_dir: Path, *, k: int, mode: str
) -> str:
    """Save the run's best-F1 threshold in the store's settings folder; the line to print about it."""
    from qa.answer.calibration import SavedThreshold, save_threshold

    if metrics["partial"]:
        raise EvalInputError(
            "--save-threshold: the run was cut short; nothing saved (finish it with --resume)"
        )
    best = metrics["no_answer_threshold"]["best_f1"]
    saved = SavedThreshold(
        reader=reader,
        k=k,
        mode=mode,
        threshold=best["threshold"],
        f1=best["f1"],
        f1_before=metrics["f1"],
        answered=best["answered"],
        questions=metrics["n"],
        run=str(out_dir),
        saved=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    location.state_dir.mkdir(parents=True, exist_ok=True)
    path = save_threshold(location.state_dir, saved)
    return (
        f"Saved no-answer threshold {saved.threshold:+.4f} for reader {reader} at k={k}, {mode} retrieval, "
        f"in {path}: it answers {saved.answered} of {saved.questions} of these questions "
        f"(F1 {saved.f1_before:.1f} -> {saved.f1:.1f}). "
        f"`qa ask --store {location}` and the chat use it; --threshold overrides it."
    )


def run_questions(
    pipeline: QAPipeline,
    questions: Sequence[Question],
    predictions_path: Path,
    *,
    k: int,
    mode: str,
    resume: bool = False,
) -> tuple[list[dict[str, Any]], bool]:
    """Evaluate questions, appending each record to predictions_path as it is done (flushed).

    Returns the records in question order and whether the run was cut short by Ctrl-C.
    """
    return answer_all(
        questions,
        lambda question: evaluate_question(pipeline, question, k=k, mode=mode),
        predictions_path,
        key=lambda question: question.id,
        resume=resume,
    )


def write_results(
    out_dir: Path,
    records: Sequence[dict[str, Any]],
    run_config: dict[str, Any],
    *,
    partial: bool,
    total: int,
    examples: int = 30,
) -> dict[str, Any]:
    """metrics.json and report.html for the records; returns the metrics."""
    from qa.eval.report import write_report

    metrics = {
        **summarize(records, k=run_config["k"], no_answer_threshold=run_config["no_answer_threshold"]),
        "partial": partial or len(records) < total,
        "questions_in_run": total,
        "config": run_config,
    }
    write_json(out_dir / METRICS_FILE, metrics)
    write_report(out_dir / REPORT_FILE, records, metrics, examples=examples)
    return metrics


def format_summary(metrics: dict[str, Any], out_dir: Path) -> str:
    def num(value: Any, digits: int = 1) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    cfg = metrics["config"]
    recall = "/".join(num(v) for v in metrics["retrieval_recall_at_k"].values())
    total = metrics["latency_ms"].get("total", {})
    best = metrics["no_answer_threshold"]["best_f1"]
    lines = [
        f"{'PARTIAL: ' if metrics['partial'] else ''}Evaluated {metrics['n']} of "
        f"{metrics['questions_in_run']} questions "
        f"(reader {cfg['reader']}, k={cfg['k']}, {cfg['mode']}) -> {out_dir}",
        f"  EM {num(metrics['exact_match'])}  F1 {num(metrics['f1'])}  "
        f"(has-answer EM {num(metrics['has_ans_exact_match'])} "
        f"F1 {num(metrics['has_ans_f1'])}; no-answer accuracy {num(metrics['no_ans_accuracy'])})",
        f"  retrieval recall@{'/'.join(metrics['retrieval_recall_at_k'])}: {recall}  "
        f"MRR {num(metrics['mrr'], 3)}",
        f"  latency total p50 {num(total.get('p50'), 0)} ms, p95 {num(total.get('p95'), 0)} ms",
        f"  best no-answer threshold {best['threshold']:+.4f}: F1 {num(best['f1'])} "
        + (
            "(now the reader's decision over several signals decides, not a threshold)"
            if cfg.get("no_answer_decision")
            else f"(now {cfg['no_answer_threshold']})"
        ),
        *([_citation_line(metrics["citations"])] if "citations" in metrics else []),
        f"  report: {out_dir / REPORT_FILE}",
    ]
    return "\n".join(lines)


def _citation_line(figures: dict[str, int]) -> str:
    return (
        f"  answered with the right citation: {figures['right']} of {figures['of']} answerable questions "
        f"({figures['right_words']} with the right words); {figures['no_answer_right']} of "
        f"{figures['no_answer_of']} without an answer left unanswered"
    )


def _corpus_to_index(options: EvalOptions, question_set: QuestionSet, out_dir: Path) -> Path | None:
    """The articles folder to index before evaluating (--articles, --corpus-from-dataset), else None."""
    if options.corpus_from_dataset:
        if not question_set.contexts:
            raise EvalInputError(
                f"{question_set.path}: --corpus-from-dataset needs a SQuAD 2.0 JSON file (with paragraphs); "
                f"this is a {question_set.format.upper()} question file: use --articles DIR or --index DIR"
            )
        return write_corpus(question_set, out_dir / "corpus")
    return options.articles


def _store_location(options: EvalOptions, out_dir: Path, *, building: bool) -> StoreLocation:
    from qa.store.location import LocalLocation, parse_location

    if options.store is not None:
        return options.store
    return LocalLocation(out_dir / "index") if building else parse_location(None)


def _build_index(articles_dir: Path, location: StoreLocation, embedder: Any, *, own_index: bool) -> None:
    """Bring the index of articles_dir up to date (only new or changed articles are embedded); the
    run's own OUT/index follows its corpus wherever it goes, a named --store is guarded as `qa index`."""
    from qa import service

    print(f"Indexing {articles_dir} -> {location} ...", file=sys.stderr)
    report = service.update_index(
        location, articles_dir, embedder, allow_shrink=own_index, show_progress=sys.stderr.isatty()
    )
    for skipped in report.status.skipped:
        print(f"warning: not indexed: {skipped.path} ({skipped.reason})", file=sys.stderr)


def _run_config(
    options: EvalOptions, question_set: QuestionSet, pipeline: Any, location: StoreLocation
) -> dict[str, Any]:
    from qa.store.report import corpus_fingerprint

    threshold, threshold_source = pipeline.threshold(options.k, options.mode)
    summary = pipeline.store.summary(max_titles=0)
    return {
        "questions": str(question_set.path),
        "questions_format": question_set.format,
        "questions_sha256": hashlib.sha256(question_set.path.read_bytes()).hexdigest(),
        "limit": options.limit,
        "k": options.k,
        "retrieval_depth": max(RETRIEVAL_DEPTH, options.k),
        "mode": options.mode,
        "passage_weight": pipeline.retriever.passage_weight,
        "reader": pipeline.reader.name,
        "embedder": pipeline.embedder.name,
        "no_answer_threshold": threshold,
        "no_answer_threshold_source": threshold_source,
        # Where the reader's decision over several signals decides instead (qa/answer/decision.py).
        "no_answer_decision": decision.tuned_on
        if (decision := pipeline.decision(options.k, options.mode))
        else None,
        "index": str(location),
        "index_passages": summary.passage_count,
        "index_articles": summary.article_count,
        "corpus_fingerprint": corpus_fingerprint(dict(pipeline.store.indexed_articles())),
        "corpus": "dataset"
        if options.corpus_from_dataset
        else (str(options.articles) if options.articles else "index"),
        **provenance(options.command),
    }
