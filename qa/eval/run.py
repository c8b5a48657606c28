"""Batch evaluation: a question set through the pipeline -> predictions.jsonl, metrics.json, report.html."""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from qa import config
from qa.eval.metrics import (
    RETRIEVAL_DEPTH,
    classify_error,
    exact_match,
    f1_score,
    first_answer_rank,
    gold_answers,
    summarize,
)

logger = logging.getLogger(__name__)

PREDICTIONS_FILE = "predictions.jsonl"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
RUN_FILE = "run.json"  # the configuration, written first, so --resume can refuse a different run
# Settings that must match for --resume to append to an earlier run.
RESUME_KEYS = ("questions_sha256", "k", "mode", "reader", "no_answer_threshold", "embedder", "corpus_fingerprint")


# --------------------------------------------------------------------------------------------------
# Question sets


class EvalInputError(ValueError):
    """A question file or option the evaluation cannot use; the message names the file and line or item."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # acceptable answers; empty when the articles cannot answer it
    source: str | None = None  # the article that holds the answer, when the set names one

    @property
    def has_answer(self) -> bool:
        return bool(gold_answers(self.answers))


@dataclass(frozen=True)
class Context:
    """A SQuAD paragraph: with --corpus-from-dataset each one becomes an article."""

    title: str
    text: str


@dataclass(frozen=True)
class QuestionSet:
    path: Path
    format: str  # "jsonl", "json" (an array of question objects) or "squad"
    questions: tuple[Question, ...]
    contexts: tuple[Context, ...] = ()  # SQuAD only; Question.source is "{corpus_name}#{line}"

    @property
    def corpus_name(self) -> str:
        """File name of the corpus written from the contexts; sources refer to its lines."""
        return f"{self.path.stem}.jsonl"


_SCHEMA = "one JSON object per line with 'id', 'question' and 'answers' (a list, [] when unanswerable)"


def load_questions(path: Path | str) -> QuestionSet:
    """Read a question file, telling JSONL from SQuAD 2.0 JSON by its content.

    Example:
        >>> load_questions("questions.jsonl").questions[0].answers  # doctest: +SKIP
        ('412 million euros',)
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise EvalInputError(f"{path}: the file is empty; expected {_SCHEMA}, or a SQuAD 2.0 JSON file")
    try:
        whole: Any = json.loads(text)
    except json.JSONDecodeError:
        whole = None  # not one JSON document: JSONL (or broken, which the line parser reports)
    if isinstance(whole, dict) and "data" in whole:
        return _squad(path, whole)
    if isinstance(whole, list):
        records = [(f"{path}: item {i}", f"{i}", record) for i, record in enumerate(whole, start=1)]
        return QuestionSet(path, "json", _questions(path, records))
    if isinstance(whole, dict) and "question" not in whole and "\n" in text.strip():
        raise EvalInputError(
            f"{path}: a JSON object without 'data' is neither a SQuAD 2.0 file nor JSONL questions ({_SCHEMA})"
        )
    records = []
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other characters it splits on.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvalInputError(
                f"{path}:{number}: not valid JSON ({error.msg}, column {error.colno}); expected {_SCHEMA}, "
                "or a SQuAD 2.0 JSON file"
            ) from None
        records.append((f"{path}:{number}", f"{number}", record))
    return QuestionSet(path, "jsonl", _questions(path, records))


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EvalInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise EvalInputError(f"{path}: is a folder; give a JSONL or SQuAD 2.0 JSON question file") from None
    except OSError as error:
        raise EvalInputError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise EvalInputError(f"{path}:{line}: not UTF-8 text (byte {error.start})") from None


def _questions(path: Path, records: list[tuple[str, str, Any]]) -> tuple[Question, ...]:
    """Questions from (where, default id, record) triples, refusing bad records and duplicate ids."""
    questions: list[Question] = []
    first_seen: dict[str, str] = {}
    for where, default_id, record in records:
        question = _question(record, where, default_id)
        if question.id in first_seen:
            raise EvalInputError(f"{where}: duplicate id {question.id!r} (first used at {first_seen[question.id]})")
        first_seen[question.id] = where
        questions.append(question)
    if not questions:
        raise EvalInputError(f"{path}: no questions in the file")
    return tuple(questions)


def _question(record: Any, where: str, default_id: str) -> Question:
    if not isinstance(record, dict):
        raise EvalInputError(f"{where}: expected a JSON object with 'id', 'question' and 'answers', got {_kind(record)}")
    qid = record.get("id", default_id)
    if isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
        raise EvalInputError(f"{where}: 'id' must be a non-empty string or a number, got {qid!r}")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalInputError(f"{where}: 'question' must be a non-empty string, got {_kind(question)}")
    _check_question(question, where)
    if "answers" not in record:
        raise EvalInputError(f"{where}: no 'answers': give a list of acceptable answers, [] when the articles cannot answer it")
    source = record.get("source")
    if source is not None and not isinstance(source, str):
        raise EvalInputError(f"{where}: 'source' must be a string naming the article, got {_kind(source)}")
    return Question(str(qid), question, _answers(record["answers"], where), source or None)


def _answers(answers: Any, where: str) -> tuple[str, ...]:
    if not isinstance(answers, list):
        raise EvalInputError(f"{where}: 'answers' must be a list of strings ([] when unanswerable), got {_kind(answers)}")
    texts: list[str] = []
    for i, answer in enumerate(answers):
        text = answer.get("text") if isinstance(answer, dict) else answer  # SQuAD-style {"text": ...}
        if not isinstance(text, str):
            raise EvalInputError(f"{where}: answers[{i}] must be a string, got {_kind(answer)}")
        if text not in texts:
            texts.append(text)
    return tuple(texts)


def _check_question(question: str, where: str) -> None:
    from qa.pipeline import QuestionError, clean_question

    try:
        clean_question(question)
    except QuestionError as error:
        raise EvalInputError(f"{where}: {error}") from None


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a JSON {type(value).__name__.replace('dict', 'object').replace('list', 'array')}"


def _squad(path: Path, document: dict[str, Any]) -> QuestionSet:
    """SQuAD 2.0: data[].paragraphs[].{context, qas[].{id, question, answers, is_impossible}}."""
    data = document["data"]
    if not isinstance(data, list):
        raise EvalInputError(f"{path}: 'data' must be a list of articles (SQuAD 2.0), got {_kind(data)}")
    corpus_name = f"{path.stem}.jsonl"
    contexts: list[Context] = []
    line_of: dict[str, int] = {}
    records: list[tuple[str, str, Any]] = []
    for i, article in enumerate(data):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise EvalInputError(f"{path}: data[{i}] must be an object with a 'paragraphs' list (SQuAD 2.0)")
        title = str(article.get("title") or f"Article {i + 1}").replace("_", " ")
        for j, paragraph in enumerate(paragraphs):
            where = f"{path}: data[{i}].paragraphs[{j}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
                raise EvalInputError(f"{where}: expected an object with a 'context' string and a 'qas' list")
            qas = paragraph.get("qas")
            if not isinstance(qas, list):
                raise EvalInputError(f"{where}: 'qas' must be a list of questions, got {_kind(qas)}")
            context = paragraph["context"]
            if context.strip() and context not in line_of:
                contexts.append(Context(title, context))
                line_of[context] = len(contexts)  # 1-based, as ingest numbers JSONL lines
            source = f"{corpus_name}#{line_of[context]}" if context in line_of else None
            for m, qa in enumerate(qas):
                if isinstance(qa, dict):
                    # SQuAD 2.0 keeps plausible answers of impossible questions apart; answers is [].
                    impossible = bool(qa.get("is_impossible"))
                    qa = {**qa, "source": source, **({"answers": []} if impossible else {})}
                records.append((f"{where}.qas[{m}]", f"{i}.{j}.{m}", qa))
    if not records:
        raise EvalInputError(f"{path}: no questions in the SQuAD file")
    return QuestionSet(path, "squad", _questions(path, records), tuple(contexts))


# --------------------------------------------------------------------------------------------------
# One question


def _passage_ref(passage: Any) -> dict[str, Any]:
    return {"passage_id": passage.passage_id, "title": passage.title, "text": passage.text}


def _source_matches(passage: Any, source: str) -> bool:
    """Whether a question's `source` names this passage's article: its id, title, URL or file."""
    path = passage.path.replace("\\", "/")
    return source in (passage.article_id, passage.title, passage.source, path) or path.endswith("/" + source.lstrip("/"))


def evaluate_question(pipeline: Any, question: Question, *, k: int, mode: str) -> dict[str, Any]:
    """Answer one question as `QAPipeline.ask` does, keeping what the metrics need besides the answer.

    The reader gets exactly what `ask` gives it: `search(question, k)`. Recall@10 needs a deeper
    list, and the top k of a deeper search are not always search(k) (the retriever's candidate
    pools grow with k), so for k < RETRIEVAL_DEPTH a second, untimed search ranks 10 deep.
    """
    from qa.pipeline import answer_from, clean_question
    from qa.types import Query

    text = clean_question(question.question)
    answer, hits, result = answer_from(
        pipeline.retriever, pipeline.reader, Query(text), k=k, mode=mode, no_answer_threshold=pipeline.no_answer_threshold
    )
    ranked = hits if k >= RETRIEVAL_DEPTH else pipeline.retriever.search(text, RETRIEVAL_DEPTH, mode=mode)

    # The best non-null answer, even when the pipeline said null: the threshold sweep flips to it.
    best = answer if answer.answer is not None else (answer.alternatives[0] if answer.alternatives else None)
    candidate = best.answer if best is not None else None
    margin = round(best.confidence - result.no_answer_score, 6) if best is not None else None
    answer_rank = first_answer_rank([hit.passage.text for hit in ranked], question.answers)
    read_rank = first_answer_rank([hit.passage.text for hit in hits], question.answers)
    holder = hits[read_rank] if read_rank is not None else (ranked[answer_rank] if answer_rank is not None else None)
    record: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "gold": list(question.answers),
        "has_answer": question.has_answer,
        "answer": answer.answer,
        "confidence": answer.confidence,
        "reader": answer.reader,
        "error_class": classify_error(answer.answer, question.answers, read_rank is not None),
        "exact_match": exact_match(answer.answer, question.answers),
        "f1": round(f1_score(answer.answer, question.answers), 6),
        "no_answer_score": round(result.no_answer_score, 6),
        "best_candidate": candidate,
        "best_candidate_confidence": best.confidence if best is not None else None,
        "margin": margin,
        "candidate_exact_match": exact_match(candidate, question.answers) if candidate is not None else None,
        "candidate_f1": round(f1_score(candidate, question.answers), 6) if candidate is not None else None,
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
    if question.source is not None:
        record["source"] = question.source
        record["source_rank"] = next(
            (hit.rank for hit in ranked if _source_matches(hit.passage, question.source)), None
        )
    return record


# --------------------------------------------------------------------------------------------------
# The run


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `qa eval` (qa/cli.py registers the subcommand with these)."""
    parser.add_argument("questions", type=Path, help="JSONL questions ({id, question, answers, source?}) or a SQuAD 2.0 JSON file")
    parser.add_argument("--index", type=Path, default=None, help=f"index directory (default: {config.DEFAULT_INDEX_DIR}; with --articles or --corpus-from-dataset: OUT/index)")
    corpus = parser.add_mutually_exclusive_group()
    corpus.add_argument("--articles", type=Path, help="index this folder of articles first (incrementally) and evaluate on it")
    corpus.add_argument("--corpus-from-dataset", action="store_true", help="index the SQuAD file's own paragraphs (one article each) and evaluate open-domain over them")
    parser.add_argument("--k", type=int, default=config.DEFAULT_TOP_K, help="passages read per question (default: %(default)s)")
    parser.add_argument("--mode", choices=config.RETRIEVAL_MODES, default=config.DEFAULT_RETRIEVAL_MODE, help="retrieval: %(choices)s (default: %(default)s)")
    parser.add_argument("--reader", default="auto", help="'auto' (default QA model, else fallback), 'fallback', or a QA model id or folder")
    parser.add_argument("--threshold", type=float, default=None, help="no-answer threshold, as for `qa ask` (default: a saved one, else %s)" % config.NO_ANSWER_THRESHOLD)
    parser.add_argument("--save-threshold", action="store_true", help="save the threshold with the best F1 beside the index: `qa ask` and the chat then use it with this reader")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N questions")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: runs/eval-<timestamp>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out, skipping questions already in its predictions.jsonl")
    parser.add_argument("--overwrite", action="store_true", help="replace the results already in --out")
    parser.add_argument("--examples", type=int, default=30, help="example questions listed per error class in the report (default: %(default)s)")


def run_eval(args: argparse.Namespace) -> int:
    """`qa eval`: 0 when done, 130 when interrupted (what was finished is still scored and reported)."""
    from qa.embed import load_embedder
    from qa.pipeline import QAPipeline

    for name, value in (("k", args.k), ("limit", args.limit)):
        if value is not None and value <= 0:
            raise EvalInputError(f"--{name} must be greater than 0, got {value}")
    if args.examples < 0:
        raise EvalInputError(f"--examples must be 0 or more, got {args.examples}")
    question_set = load_questions(args.questions)
    out_dir = args.out if args.out is not None else Path("runs") / f"eval-{dt.datetime.now():%Y%m%d-%H%M%S}"
    _prepare_out_dir(out_dir, resume=args.resume, overwrite=args.overwrite)

    embedder = load_embedder()
    index_dir = _prepare_index(args, question_set, out_dir, embedder)
    pipeline = QAPipeline.load(index_dir, reader=args.reader, embedder=embedder, no_answer_threshold=args.threshold)
    run_config = _run_config(args, question_set, pipeline, index_dir)
    _check_resume(out_dir, run_config, resume=args.resume)
    (out_dir / RUN_FILE).write_text(json.dumps(run_config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    questions = question_set.questions[: args.limit] if args.limit is not None else question_set.questions
    records, partial = run_questions(pipeline, questions, out_dir / PREDICTIONS_FILE, k=args.k, mode=args.mode, resume=args.resume)
    metrics = write_results(out_dir, records, run_config, partial=partial, total=len(questions), examples=args.examples)
    print(format_summary(metrics, out_dir))
    if args.save_threshold:
        print(_save_best_threshold(metrics, index_dir, pipeline.reader.name, out_dir))
    return 130 if partial else 0


def _save_best_threshold(metrics: dict[str, Any], index_dir: Path, reader: str, out_dir: Path) -> str:
    """Save the run's best-F1 threshold beside the index; the line to print about it."""
    from qa.answer.calibration import SavedThreshold, save_threshold

    if metrics["partial"]:
        raise EvalInputError("--save-threshold: the run was cut short; nothing saved (finish it with --resume)")
    best = metrics["no_answer_threshold"]["best_f1"]
    saved = SavedThreshold(
        reader=reader, threshold=best["threshold"], f1=best["f1"], f1_before=metrics["f1"],
        answered=best["answered"], questions=metrics["n"], run=str(out_dir),
        saved=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    path = save_threshold(index_dir, saved)
    return (
        f"Saved no-answer threshold {saved.threshold:+.4f} for reader {reader} in {path}: it answers "
        f"{saved.answered} of {saved.questions} of these questions (F1 {saved.f1_before:.1f} -> {saved.f1:.1f}). "
        f"`qa ask --index {index_dir}` and the chat use it; --threshold overrides it."
    )


def run_questions(
    pipeline: Any, questions: Sequence[Question], predictions_path: Path, *, k: int, mode: str, resume: bool = False
) -> tuple[list[dict[str, Any]], bool]:
    """Evaluate questions, appending each record to predictions_path as it is done (flushed).

    Returns the records in question order and whether the run was cut short by Ctrl-C.
    """
    from tqdm.auto import tqdm

    wanted = {q.id for q in questions}
    done = {r["id"]: r for r in _read_predictions(predictions_path) if r["id"] in wanted} if resume else {}
    # Rewritten first: drops a line cut in half by a kill and records of questions no longer asked.
    with predictions_path.open("w", encoding="utf-8") as file:
        file.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in done.values())
    todo = [q for q in questions if q.id not in done]
    partial = False
    fresh: dict[str, dict[str, Any]] = {}
    em_sum = f1_sum = 0.0  # running figures for the progress bar, over this session's questions
    progress = tqdm(total=len(questions), initial=len(done), unit="q", desc="eval", disable=None, file=sys.stderr)
    try:
        with predictions_path.open("a", encoding="utf-8") as file:
            for question in todo:
                record = evaluate_question(pipeline, question, k=k, mode=mode)
                fresh[question.id] = record
                file.write(json.dumps(record, ensure_ascii=False) + "\n")
                file.flush()
                em_sum += record["exact_match"]
                f1_sum += record["f1"]
                progress.set_postfix(EM=f"{100 * em_sum / len(fresh):.1f}", F1=f"{100 * f1_sum / len(fresh):.1f}", refresh=False)
                progress.update(1)
    except KeyboardInterrupt:
        partial = True
        print(f"\nInterrupted: scoring the {len(done) + len(fresh)} questions finished so far.", file=sys.stderr)
    finally:
        progress.close()
    return [r for q in questions if (r := done.get(q.id) or fresh.get(q.id)) is not None], partial


def write_results(
    out_dir: Path, records: Sequence[dict[str, Any]], run_config: dict[str, Any], *, partial: bool, total: int, examples: int = 30
) -> dict[str, Any]:
    """metrics.json and report.html for the records; returns the metrics."""
    from qa.eval.report import write_report

    metrics = {
        **summarize(records, k=run_config["k"], no_answer_threshold=run_config["no_answer_threshold"]),
        "partial": partial or len(records) < total,
        "questions_in_run": total,
        "config": run_config,
    }
    _write_json(out_dir / METRICS_FILE, metrics)
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
        f"{'PARTIAL: ' if metrics['partial'] else ''}Evaluated {metrics['n']} of {metrics['questions_in_run']} questions "
        f"(reader {cfg['reader']}, k={cfg['k']}, {cfg['mode']}) -> {out_dir}",
        f"  EM {num(metrics['exact_match'])}  F1 {num(metrics['f1'])}  (has-answer EM {num(metrics['has_ans_exact_match'])} "
        f"F1 {num(metrics['has_ans_f1'])}; no-answer accuracy {num(metrics['no_ans_accuracy'])})",
        f"  retrieval recall@{'/'.join(metrics['retrieval_recall_at_k'])}: {recall}  MRR {num(metrics['mrr'], 3)}",
        f"  latency total p50 {num(total.get('p50'), 0)} ms, p95 {num(total.get('p95'), 0)} ms",
        f"  best no-answer threshold {best['threshold']:+.4f}: F1 {num(best['f1'])} (now {cfg['no_answer_threshold']})",
        f"  report: {out_dir / REPORT_FILE}",
    ]
    return "\n".join(lines)


def _prepare_out_dir(out_dir: Path, *, resume: bool, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise EvalInputError(f"--out {out_dir} is a file, not a folder")
    if (out_dir / PREDICTIONS_FILE).exists() and not (resume or overwrite):
        raise EvalInputError(
            f"{out_dir} already holds {PREDICTIONS_FILE}: pass --resume to continue that run, "
            "--overwrite to replace it, or choose another --out"
        )
    if resume and not (out_dir / PREDICTIONS_FILE).exists():
        logger.warning("Nothing to resume in %s; starting afresh", out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def _prepare_index(args: argparse.Namespace, question_set: QuestionSet, out_dir: Path, embedder: Any) -> Path:
    """The index to evaluate on, built (incrementally) first for --articles and --corpus-from-dataset."""
    from qa.store.build import build_index

    if args.corpus_from_dataset:
        if not question_set.contexts:
            raise EvalInputError(
                f"{question_set.path}: --corpus-from-dataset needs a SQuAD 2.0 JSON file (with paragraphs); "
                f"this is a {question_set.format.upper()} question file: use --articles DIR or --index DIR"
            )
        articles_dir = write_corpus(question_set, out_dir / "corpus")
    elif args.articles is not None:
        articles_dir = args.articles
    else:
        return args.index if args.index is not None else config.DEFAULT_INDEX_DIR
    index_dir = args.index if args.index is not None else out_dir / "index"
    print(f"Indexing {articles_dir} -> {index_dir} ...", file=sys.stderr)
    report = build_index(articles_dir, index_dir, embedder, show_progress=sys.stderr.isatty())
    for skipped in report.status.skipped:
        print(f"warning: not indexed: {skipped.path} ({skipped.reason})", file=sys.stderr)
    return index_dir


def write_corpus(question_set: QuestionSet, corpus_dir: Path) -> Path:
    """The SQuAD paragraphs as one JSONL corpus file (one article per paragraph); returns its folder.

    Question.source of each question is "<file>#<line>", the article id ingest gives that line.
    """
    corpus_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for number, context in enumerate(question_set.contexts, start=1):
        record = {
            "title": f"{context.title} ({number})",
            "date": None,
            # SQuAD paragraphs are from the Wikipedia article of that title.
            "url": f"https://en.wikipedia.org/wiki/{context.title.replace(' ', '_')}",
            "text": context.text,
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    path = corpus_dir / question_set.corpus_name
    content = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != content:
        path.write_text(content, encoding="utf-8")
    return corpus_dir


def _run_config(args: argparse.Namespace, question_set: QuestionSet, pipeline: Any, index_dir: Path) -> dict[str, Any]:
    manifest = pipeline.index.manifest
    commit, dirty = _git_state()
    return {
        "questions": str(question_set.path),
        "questions_format": question_set.format,
        "questions_sha256": hashlib.sha256(question_set.path.read_bytes()).hexdigest(),
        "limit": args.limit,
        "k": args.k,
        "retrieval_depth": max(RETRIEVAL_DEPTH, args.k),
        "mode": args.mode,
        "reader": pipeline.reader.name,
        "embedder": pipeline.embedder.name,
        "no_answer_threshold": pipeline.no_answer_threshold,
        "no_answer_threshold_source": getattr(pipeline, "threshold_source", "given"),
        "index": str(index_dir),
        "index_passages": manifest.passage_count,
        "index_articles": manifest.article_count,
        "corpus_fingerprint": manifest.corpus_fingerprint,
        "corpus": "dataset" if args.corpus_from_dataset else (str(args.articles) if args.articles else "index"),
        "git_commit": commit,
        "git_dirty": dirty,
        "command": shlex.join(["qa", "eval", *(sys.argv[2:] if sys.argv[1:2] == ["eval"] else sys.argv[1:])]),
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
    }


def _git_state() -> tuple[str | None, bool | None]:
    try:
        run = lambda *cmd: subprocess.run(["git", *cmd], cwd=config.REPO_ROOT, capture_output=True, text=True, timeout=10, check=True).stdout.strip()  # noqa: E731
        return run("rev-parse", "HEAD"), bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None, None


def _check_resume(out_dir: Path, run_config: dict[str, Any], *, resume: bool) -> None:
    previous_path = out_dir / RUN_FILE
    if not resume or not previous_path.exists():
        return
    try:
        previous = json.loads(previous_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    changed = [f"{key} {previous.get(key)!r} -> {run_config[key]!r}" for key in RESUME_KEYS if previous.get(key) != run_config[key]]
    if changed:
        raise EvalInputError(f"--resume: {out_dir} holds a different run ({'; '.join(changed)}); use another --out or --overwrite")


def _read_predictions(path: Path) -> list[dict[str, Any]]:
    """Records already written; stops at a line cut short by a kill."""
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            logger.warning("%s:%d: unfinished line dropped; that question is asked again", path, number)
            break
        if isinstance(record, dict) and "id" in record:
            records.append(record)
    return records


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m qa.eval.run ...` is `qa eval ...`."""
    from qa.cli import main as cli_main

    return cli_main(["eval", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
