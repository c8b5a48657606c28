"""The `qa` command: index articles, ask questions, evaluate."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from qa import config
from qa.logs import quiet_libraries
from qa.read.choose import READER_HELP
from qa.store.location import STORE_HELP, StoreLocation
from qa.store.location import store_argument as store_location

logger = logging.getLogger("qa")


class UserError(Exception):
    """Anything the user can fix; printed as one line, exit status 2."""


def _add_index_options(
    parser: argparse.ArgumentParser, *, default=config.DEFAULT_INDEX_DIR, help_default: str | None = None
) -> None:
    parser.add_argument(
        "--store",
        "--index",
        dest="store",
        type=store_location,
        default=store_location(str(default)) if default is not None else None,
        help=STORE_HELP % (help_default or default),
    )


def _add_filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--k", type=int, default=config.DEFAULT_TOP_K, help="passages to read (default: %(default)s)"
    )
    parser.add_argument(
        "--mode",
        choices=config.RETRIEVAL_MODES,
        default=config.DEFAULT_RETRIEVAL_MODE,
        help="retrieval: %(choices)s (default: %(default)s)",
    )
    parser.add_argument("--reader", default="auto", help=READER_HELP)
    parser.add_argument("--from", dest="date_from", help="only articles dated on or after YYYY[-MM[-DD]]")
    parser.add_argument("--to", dest="date_to", help="only articles dated on or before YYYY[-MM[-DD]]")
    parser.add_argument("--source", help="only articles whose source URL or path contains this text")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help=f"no-answer threshold: answer null when no-answer score minus best span score exceeds it (default: the one `qa eval --save-threshold` tuned for this index and reader, else {config.NO_ANSWER_THRESHOLD})",
    )


def _add_embed_backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embed-backend",
        choices=config.EMBED_BACKENDS,
        default=None,
        help="how the embedding model runs: %(choices)s (default: $QA_EMBED_BACKEND or auto: onnx-int8 where onnxruntime is installed, about 2x torch)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Answer questions from a folder of news articles, with citations."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser(
        "index", help="index a folder of articles (only new or changed ones are embedded)"
    )
    index.add_argument(
        "--articles",
        type=Path,
        default=None,
        help="folder of .md/.txt/.jsonl/.html/.warc articles (default: the folder the index was built from; for a new index, the bundled sample corpus)",
    )
    _add_index_options(index)
    from qa.ingest.web import add_index_arguments as add_fetch_arguments

    add_fetch_arguments(index)
    index.add_argument(
        "--rebuild", action="store_true", help="re-embed everything instead of only what changed"
    )
    index.add_argument("--status", action="store_true", help="say what is stale, change nothing")
    index.add_argument(
        "--check",
        action="store_true",
        help="verify every byte of the live index against its checksums (loads check sizes only), change nothing",
    )
    index.add_argument(
        "--embedder",
        default=None,
        help=f"sentence-transformers model id or folder (default: {config.DEFAULT_EMBEDDER}), or '{config.STATIC_EMBEDDER}': a static model distilled from it once (needs model2vec), ~30x faster to index big archives for a few points of recall (docs/benchmarks.md)",
    )
    index.add_argument(
        "--dense-index",
        default="auto",
        help="FAISS index: auto (exact up to 50k passages, then IVF over 8-bit codes), Flat, 'HNSW32|efSearch=128', 'IVF4096,SQ8|nprobe=32', ...",
    )
    _add_embed_backend_option(index)
    index.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another build of the same index to finish",
    )
    index.add_argument(
        "--ray",
        metavar="ADDRESS",
        default=None,
        help='embed on a Ray cluster: auto (a local one on 127.0.0.1, stopped afterwards) or its address, HOST:PORT or ray://HOST:10001 (pip install "newsqa[ray]"; docs/scale-out.md)',
    )

    ask = commands.add_parser("ask", help="answer a question from the index")
    ask.add_argument("question")
    _add_index_options(ask)
    _add_filter_options(ask)
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    _add_embed_backend_option(ask)
    ask.add_argument(
        "--reader-backend",
        choices=config.READER_BACKENDS,
        default=None,
        help=f"how a QA model runs: %(choices)s (default: {config.DEFAULT_READER_BACKEND}; onnx-int8 is the fastest on CPU, docs/benchmarks.md)",
    )

    _add_eval_arguments(
        commands.add_parser(
            "eval", help="answer a question set, score it, write predictions, metrics and a report"
        )
    )

    from qa.training.command import add_arguments as add_training_arguments

    add_training_arguments(
        commands.add_parser(
            "train-reader", help="fine-tune the bundled reader on SQuAD files (resumable; docs/reader.md)"
        )
    )
    from qa.ingest.inspect import add_arguments as add_inspect_arguments

    add_inspect_arguments(
        commands.add_parser("inspect", help="show what ingestion makes of article files, before indexing")
    )
    # Listed for --help; main() hands everything after "chat" to the app's own parser.
    commands.add_parser(
        "chat",
        help="the chat in a browser, http://127.0.0.1:7860 (qa chat --help for its options)",
        add_help=False,
    )
    return parser


def _add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "questions",
        type=Path,
        help="JSONL questions ({id, question, answers, source?}) or a SQuAD 2.0 JSON file",
    )
    _add_index_options(
        parser,
        default=None,
        help_default=f"{config.DEFAULT_INDEX_DIR}; with --articles or --corpus-from-dataset: OUT/index",
    )
    corpus = parser.add_mutually_exclusive_group()
    corpus.add_argument(
        "--articles", type=Path, help="index this folder of articles first (incrementally) and evaluate on it"
    )
    corpus.add_argument(
        "--corpus-from-dataset",
        action="store_true",
        help="index the SQuAD file's own paragraphs (one article each) and evaluate open-domain over them",
    )
    corpus.add_argument(
        "--reader-only",
        action="store_true",
        help="measure the reader alone: each question of a SQuAD file read with its own paragraph, no index or retrieval",
    )
    # Defaults None, so that --reader-only can refuse them when given; EvalOptions holds the defaults.
    parser.add_argument(
        "--k", type=int, default=None, help=f"passages read per question (default: {config.DEFAULT_TOP_K})"
    )
    parser.add_argument(
        "--mode",
        choices=config.RETRIEVAL_MODES,
        default=None,
        help=f"retrieval: %(choices)s (default: {config.DEFAULT_RETRIEVAL_MODE})",
    )
    parser.add_argument("--reader", default="auto", help=READER_HELP)
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="no-answer threshold, as for `qa ask` (default: a saved one, else %s)"
        % config.NO_ANSWER_THRESHOLD,
    )
    parser.add_argument(
        "--save-threshold",
        action="store_true",
        help="save the threshold with the best F1 beside the index: `qa ask` and the chat then use it with this reader",
    )
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N questions")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default: runs/eval-<timestamp>)"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out, skipping questions already in its predictions.jsonl",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the results already in --out")
    parser.add_argument(
        "--examples",
        type=int,
        default=30,
        help="example questions listed per error class in the report (default: %(default)s)",
    )


def run_index(args: argparse.Namespace) -> int:
    from qa.embed import load_embedder

    if not 0 <= args.wait < float("inf"):
        raise UserError(f"--wait must be a number of seconds, 0 or more, got {args.wait}")
    embedder_name = args.embedder or config.DEFAULT_EMBEDDER
    location = args.store
    if args.check:
        print(location.check())
        return 0
    args.articles = _articles_to_index(location, args.articles)
    from qa.ingest.web import fetch_for_index

    fetch_for_index(args)  # --url, --feed: pages fetched into the articles folder, then built as files
    if args.status:
        # Compared with the model the index was built with, unless another is named: an index built
        # with --embedder static is not "no index yet" to a status asked without it.
        from qa.embed import recorded_name

        info = location.info() if args.embedder is None else None
        embedder_name = info.embedder if info is not None else recorded_name(embedder_name)
        status = location.status(args.articles, embedder_name)
        print(f"{location}: {status.describe()}")
        for label, ids in (("new", status.added), ("changed", status.changed), ("removed", status.removed)):
            for article_id in ids:
                print(f"  {label}: {article_id}")
        for skipped in status.skipped:
            print(f"  skipped: {skipped.path} ({skipped.reason})")
        return 1 if status.stale else 0

    if args.ray is not None:
        from qa.embed_ray import RayEmbedder

        embedder = RayEmbedder(
            embedder_name, args.embed_backend, address=args.ray
        )  # the model loads on the cluster
    else:
        embedder = contextlib.nullcontext(load_embedder(embedder_name, args.embed_backend))
    with embedder as embedder:
        report = location.build(
            args.articles,
            embedder,
            rebuild=args.rebuild,
            wait_seconds=args.wait,
            dense_index=args.dense_index,
            show_progress=sys.stderr.isatty(),
        )
    status = report.status
    if report.generation is None:
        print(f"{location}: already up to date ({report.passages} passages from {status.unchanged} articles)")
    else:
        resumed = (
            f", {report.resumed_passages} of them from the interrupted build's checkpoints"
            if report.resumed_passages
            else ""
        )
        print(
            f"Indexed {args.articles} -> {location}: {report.passages} passages "
            f"({report.embedded_passages} embedded{resumed}, {report.passages - report.embedded_passages} reused; "
            f"{len(status.added)} new, {len(status.changed)} changed, {len(status.removed)} removed articles) "
            f"in {report.seconds:.1f} s"
        )
        print(_build_figures(report))
    if status.skipped:
        print(f"Skipped {len(status.skipped)} file(s); see the warnings above.")
    return 0


def _articles_to_index(location: StoreLocation, articles: Path | None) -> Path:
    from qa.store.location import ArticlesFolderGone, articles_to_update_from

    try:
        return articles_to_update_from(location, articles)
    except ArticlesFolderGone as error:
        raise UserError(f"{error}; name the articles with --articles DIR") from error


def _build_figures(report) -> str:
    """Throughput, peak memory and size on disk: what a user sizing a big archive needs to know."""
    import resource

    seconds = max(report.seconds, 1e-9)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    if sys.platform == "darwin":  # bytes on macOS
        peak_gib /= 1024
    size = f", index {report.disk_bytes / 2**20:,.1f} MiB on disk" if report.disk_bytes else ""
    return (
        f"{report.articles / seconds:,.0f} articles/s, {report.passages / seconds:,.0f} passages/s, "
        f"peak memory {peak_gib:.2f} GiB{size}"
    )


def format_answer(answer) -> str:
    """The answer for a terminal: the span in context, then numbered sources."""
    # One wording in the terminal and the chat.
    from qa.ui.chat import NO_ANSWER, NO_CLEAR_ANSWER

    lines = []
    if answer.answer is None and not answer.citations:
        lines.append("No indexed passage matches this question and its filters (--from, --to, --source).")
    elif answer.answer is None:
        lines.append(f"{NO_CLEAR_ANSWER if answer.too_weak_to_give else NO_ANSWER} Closest passages:")
    else:
        lines.append(f"Answer: {answer.answer}")
    if answer.confidence is not None:
        lines.append(f"(confidence {answer.confidence:.2f}, reader: {answer.reader})")
    else:
        lines.append(f"(no-answer score {answer.no_answer_score:.2f}, reader: {answer.reader})")
    if answer.note:
        lines.append(f"Note: {answer.note}")
    weak = [a for a in answer.alternatives if a.answer] if answer.answer is None else []
    if weak:
        listed = "; ".join(f"{a.answer!r} ({a.confidence:.2f})" for a in weak[:3])
        lines.append(f"Candidates considered, too weak to give as an answer: {listed}")
    if answer.search_query and answer.search_query != answer.question:
        lines.append(f"Searched for: {answer.search_query}")
    for number, citation in enumerate(answer.citations, start=1):
        meta = " - ".join(x for x in (citation.title, citation.date or "", citation.source) if x)
        lines.append(f"[{number}] {meta}")
        text = citation.text
        if citation.start is not None:
            cut_before, cut_after = citation.start > 120, citation.end + 120 < len(text)
            before = text[max(0, citation.start - 120) : citation.start]
            after = text[citation.end : citation.end + 120]
            # Cut at a space, never inside a word ("...mised"); "..." only where the passage is cut,
            # never "...." after a sentence's own full stop.
            if cut_before and " " in before:
                before = before.split(" ", 1)[1]
            if cut_after and " " in after:
                after = after.rsplit(" ", 1)[0].rstrip(",;:")
            snippet = (
                ("..." if cut_before else "")
                + f"{before}[{text[citation.start : citation.end]}]{after}"
                + ("..." if cut_after else "")
            )
        else:
            snippet = text[:240] + ("..." if len(text) > 240 else "")
        # Numbered from 1, as in the chat; the JSON keeps the 0-based index.
        lines.append(f"    paragraph {citation.paragraph + 1}: {snippet}")
    return "\n".join(lines)


def run_ask(args: argparse.Namespace) -> int:
    from qa.pipeline import QAPipeline, clean_question

    # Bad input is refused before seconds of model loading.
    clean_question(args.question)
    _check_filter(args)
    pipeline = QAPipeline.load(
        args.store,
        reader=args.reader,
        no_answer_threshold=args.threshold,
        embed_backend=args.embed_backend,
        reader_backend=args.reader_backend,
    )
    answer = pipeline.ask(
        args.question,
        k=args.k,
        mode=args.mode,
        date_from=args.date_from,
        date_to=args.date_to,
        source=args.source,
    )
    if args.json:
        data = answer.to_dict()
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
        threshold, source = pipeline.threshold(args.k, args.mode)
        if source not in ("given", "default"):
            print(f"(no-answer threshold {threshold:+.4f}, {source})")
    return 0


def _check_filter(args: argparse.Namespace) -> None:
    from qa.retrieve.filters import SearchFilter

    try:
        SearchFilter(args.date_from or None, args.date_to or None, args.source or None)
    except ValueError as error:
        # The message names SearchFilter's fields; the user typed --from / --to.
        raise UserError(str(error).replace("date_from", "--from").replace("date_to", "--to")) from error


def run_eval(args: argparse.Namespace) -> int:
    from qa.eval.options import EvalOptions

    if args.reader_only and (args.k is not None or args.mode is not None):
        given = " and ".join(
            name for name, value in (("--k", args.k), ("--mode", args.mode)) if value is not None
        )
        raise UserError(
            f"--reader-only reads each question's own paragraph, with no index or retrieval; drop {given}"
        )
    retrieval = {name: value for name, value in (("k", args.k), ("mode", args.mode)) if value is not None}
    options = EvalOptions(
        args.questions,
        out=args.out,
        store=args.store,
        articles=args.articles,
        corpus_from_dataset=args.corpus_from_dataset,
        reader_only=args.reader_only,
        reader=args.reader,
        threshold=args.threshold,
        save_threshold=args.save_threshold,
        limit=args.limit,
        resume=args.resume,
        overwrite=args.overwrite,
        examples=args.examples,
        command=_eval_command(),
        **retrieval,
    )
    if options.reader_only:
        from qa.eval.reader_alone import run_reader_eval

        return run_reader_eval(options)
    from qa.eval.runner import run_eval as evaluate

    return evaluate(options)


def _eval_command() -> str:
    """The command line, for run.json: `qa eval ...` however it was started (qa, python -m qa.cli or qa.eval)."""
    import shlex

    return shlex.join(["qa", "eval", *(sys.argv[2:] if sys.argv[1:2] == ["eval"] else sys.argv[1:])])


def _user_errors() -> tuple[type[BaseException], ...]:
    from qa.embed import EmbedderError
    from qa.ingest.articles import IngestError
    from qa.pipeline import QuestionError
    from qa.store.protocol import StoreError

    return (
        UserError,
        EmbedderError,
        StoreError,
        IngestError,
        QuestionError,
        FileNotFoundError,
        PermissionError,
    )


def run_train_reader(args: argparse.Namespace) -> int:
    from qa.training.command import run

    logging.getLogger("qa").setLevel(logging.INFO)  # the run's progress is what the user waits for
    return run(args)


def run_inspect(args: argparse.Namespace) -> int:
    from qa.ingest.inspect import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["chat"]:
        from qa.ui.app import main as chat

        return chat(argv[1:], prog="qa chat")
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    quiet_libraries()
    commands = {
        "index": run_index,
        "ask": run_ask,
        "eval": run_eval,
        "train-reader": run_train_reader,
        "inspect": run_inspect,
    }
    try:
        status = commands[args.command](args)
        sys.stdout.flush()  # a reader that went away (`qa ask ... | head -1`) shows here, not at exit
        return status
    except BrokenPipeError:
        # Not an error of the user's: say nothing, and keep Python's exit-time flush from
        # printing a traceback of its own. 141 is what a shell reports for a tool killed by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except ImportError as error:  # a library loaded on first use (sentence-transformers, torch) is missing
        print(f"error: {error}; {config.INSTALL_HINT}", file=sys.stderr)
        return 1
    except _user_errors() as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:  # bad option values that got past argparse (k <= 0, unknown index type)
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
