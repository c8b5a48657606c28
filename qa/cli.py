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

from qa import arguments, config
from qa.checks import CLI_LABELS, UserError, check_filter, check_k, check_threshold, clean_question
from qa.logs import quiet_libraries
from qa.terminal import format_answer, format_build, format_status, safe

# UserError and format_answer are imported from here by tests and scripts of the command.
__all__ = ["UserError", "build_parser", "format_answer", "main"]

logger = logging.getLogger("qa")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Answer questions from a folder of news articles, with citations."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser(
        "index", help="index a folder of articles (only new or changed ones are embedded)"
    )
    arguments.add_articles(
        index,
        "folder of .md/.txt/.jsonl/.html/.warc articles (default: the folder the index was built from; "
        "for a new index, the bundled sample corpus)",
    )
    arguments.add_store(index)
    from qa.ingest.web import add_index_arguments as add_fetch_arguments

    add_fetch_arguments(index)
    index.add_argument(
        "--rebuild",
        action="store_true",
        help="re-embed everything instead of only what changed (also: with another --embedder)",
    )
    arguments.add_allow_shrink(index)
    index.add_argument("--status", action="store_true", help="say what is stale, change nothing")
    index.add_argument(
        "--check",
        action="store_true",
        help="verify every byte of the live index against its checksums (loads check sizes only), "
        "change nothing",
    )
    index.add_argument(
        "--embedder",
        default=None,
        help=f"sentence-transformers model id or folder (default: the one the index was built with, for a "
        f"new index {config.DEFAULT_EMBEDDER}), or '{config.STATIC_EMBEDDER}': a static model distilled from "
        "it once (needs model2vec), ~30x faster to index big archives for a few points of recall "
        "(docs/benchmarks.md)",
    )
    index.add_argument(
        "--dense-index",
        default="auto",
        help="FAISS index: auto (exact up to 50k passages, then IVF over 8-bit codes), Flat, "
        "'HNSW32|efSearch=128', 'IVF4096,SQ8|nprobe=32', ...",
    )
    arguments.add_embed_backend(index)
    index.add_argument(
        "--merge",
        action="store_true",
        help="rewrite the index's segments as one (an addition writes a small segment; a policy "
        "merges them as they grow, so this is rarely needed)",
    )
    arguments.add_watch(index)
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
        help="embed on a Ray cluster: auto (a local one on 127.0.0.1, stopped afterwards) or its address, "
        'HOST:PORT or ray://HOST:10001 (pip install "newsqa[ray]"; docs/scale-out.md)',
    )

    ask = commands.add_parser("ask", help="answer a question from the index")
    ask.add_argument("question")
    arguments.add_store(ask)
    arguments.add_retrieval(ask)
    arguments.add_reader(ask)
    arguments.add_filters(ask)
    arguments.add_threshold(ask)
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    arguments.add_embed_backend(ask)
    arguments.add_reader_backend(ask)

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
    arguments.add_store(
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
        help="measure the reader alone: each question of a SQuAD file read with its own paragraph, "
        "no index or retrieval",
    )
    # Defaults None, so that --reader-only can refuse them when given; EvalOptions holds the defaults.
    arguments.add_retrieval(parser, defaults=False)
    parser.add_argument(
        "--passage-weight",
        type=float,
        default=None,
        help="rank each passage by this share of its own score and the rest of its article's best "
        f"(0 to 1; default {config.PASSAGE_WEIGHT}: passages alone; docs/retrieval.md)",
    )
    arguments.add_reader(parser)
    arguments.add_threshold(
        parser,
        f"no-answer threshold, as for `qa ask` (default: a saved one, else {config.NO_ANSWER_THRESHOLD})",
    )
    parser.add_argument(
        "--save-threshold",
        action="store_true",
        help="save the threshold with the best F1 beside the index: `qa ask` and the chat then use it "
        "with this reader",
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
    from qa import service

    location = args.store
    if args.check:
        print(location.check())
        return 0
    if args.watch and (args.ray is not None or args.status):
        raise UserError("--watch embeds in this process and changes the index: leave out --ray and --status")
    if args.merge:
        report = service.merge(location, wait_seconds=args.wait, show_progress=sys.stderr.isatty())
        done = "merged into one segment" if report.generation is not None else "already one segment"
        print(f"{location}: {done} ({report.passages} passages) in {report.seconds:.1f} s")
        return 0
    if (args.url or args.feed) and args.articles is not None:
        args.articles.mkdir(parents=True, exist_ok=True)  # pages are fetched into it
    args.articles = service.articles_folder(location, args.articles)
    from qa.ingest.web import fetch_for_index

    fetch_for_index(args)  # --url, --feed: pages fetched into the articles folder, then built as files
    if args.status:
        # Compared with the model the index was built with, unless another is named: an index built
        # with --embedder static is not "no index yet" to a status asked without it.
        from qa.embed import recorded_name

        info = location.info()
        built_with = info.embedder if info is not None else config.DEFAULT_EMBEDDER
        status = location.status(args.articles, recorded_name(args.embedder) if args.embedder else built_with)
        print(format_status(location, status))
        return 1 if status.stale else 0

    name = service.embedder_to_build_with(location, args.embedder, rebuild=args.rebuild)
    if args.ray is not None:
        from qa.embed_ray import RayEmbedder

        embedder = RayEmbedder(name, args.embed_backend, address=args.ray)  # the model loads on the cluster
    else:
        from qa.embed import load_embedder

        embedder = contextlib.nullcontext(load_embedder(name, args.embed_backend))
    with embedder as embedder:
        report = service.update_index(
            location,
            args.articles,
            embedder,
            rebuild=args.rebuild,
            allow_shrink=args.allow_shrink,
            wait_seconds=args.wait,
            dense_index=args.dense_index,
            show_progress=sys.stderr.isatty(),
        )
    print(format_build(location, args.articles, report))
    if args.watch:
        service.watch(
            location,
            args.articles,
            embedder,
            allow_shrink=args.allow_shrink,
            say=lambda line: print(line, flush=True),
        )
    return 0


def run_ask(args: argparse.Namespace) -> int:
    from qa import service

    # Bad input is refused before seconds of model loading, in the words of the options typed.
    clean_question(args.question)
    check_k(args.k, CLI_LABELS)
    check_filter(args.date_from, args.date_to, args.source, CLI_LABELS)
    check_threshold(args.threshold, CLI_LABELS)
    pipeline = service.open_pipeline(
        args.store,
        reader=args.reader,
        threshold=args.threshold,
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
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
        threshold, source = pipeline.threshold(args.k, args.mode)
        if pipeline.decision(args.k, args.mode) is not None:
            print("(no answer or not: the reader's decision over several signals, docs/reader.md)")
        elif source not in ("given", "default"):
            print(f"(no-answer threshold {threshold:+.4f}, {source})")
    return 0


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
        passage_weight=args.passage_weight,
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
    """The command line, for run.json: `qa eval ...` however it was started (qa, python -m qa.cli
    or qa.eval)."""
    import shlex

    return shlex.join(["qa", "eval", *(sys.argv[2:] if sys.argv[1:2] == ["eval"] else sys.argv[1:])])


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
    from qa.service import user_errors  # before the try: its imports are what ImportError reports

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
    except user_errors() as error:
        print(f"error: {safe(error)}", file=sys.stderr)
        return 2
    except ValueError as error:  # bad option values that got past argparse (an unknown index type)
        print(f"error: {safe(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
