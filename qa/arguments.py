"""The options the doors share (`qa index`, `qa ask`, `qa eval`, `qa chat`): named and explained once."""

from __future__ import annotations

import argparse
from pathlib import Path

from qa import config
from qa.read.choose import READER_HELP
from qa.store.location import STORE_HELP
from qa.store.location import store_argument as store_location

THRESHOLD_HELP = (
    "no-answer threshold: answer null when no-answer score minus best span score exceeds it "
    "(default: the one `qa eval --save-threshold` tuned for this index and reader, "
    f"else {config.NO_ANSWER_THRESHOLD})"
)


def add_store(
    parser: argparse.ArgumentParser, *, default=config.DEFAULT_INDEX_DIR, help_default=None
) -> None:
    parser.add_argument(
        "--store",
        "--index",
        dest="store",
        type=store_location,
        default=store_location(str(default)) if default is not None else None,
        help=STORE_HELP % (help_default or default),
    )


def add_articles(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--articles", type=Path, default=None, help=help_text)


def add_reader(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reader", default="auto", help=READER_HELP)


def add_retrieval(parser: argparse.ArgumentParser, *, defaults: bool = True) -> None:
    """--k and --mode; `defaults=False` leaves them None so a command can tell "not given"."""
    parser.add_argument(
        "--k",
        type=int,
        default=config.DEFAULT_TOP_K if defaults else None,
        help=f"passages to read, 1 to {config.MAX_TOP_K} (default: {config.DEFAULT_TOP_K})",
    )
    parser.add_argument(
        "--mode",
        choices=config.RETRIEVAL_MODES,
        default=config.DEFAULT_RETRIEVAL_MODE if defaults else None,
        help=f"retrieval: %(choices)s (default: {config.DEFAULT_RETRIEVAL_MODE})",
    )


def add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="date_from", help="only articles dated on or after YYYY[-MM[-DD]]")
    parser.add_argument("--to", dest="date_to", help="only articles dated on or before YYYY[-MM[-DD]]")
    parser.add_argument("--source", help="only articles whose source URL or path contains this text")


def add_threshold(parser: argparse.ArgumentParser, help_text: str = THRESHOLD_HELP) -> None:
    parser.add_argument("--threshold", type=float, default=None, help=help_text)


def add_embed_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embed-backend",
        choices=config.EMBED_BACKENDS,
        default=None,
        help="how the embedding model runs: %(choices)s (default: $QA_EMBED_BACKEND or auto: "
        "onnx-int8 where onnxruntime is installed, about 2x torch)",
    )


def add_reader_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reader-backend",
        choices=config.READER_BACKENDS,
        default=None,
        help=f"how a QA model runs: %(choices)s (default: {config.DEFAULT_READER_BACKEND}; "
        "onnx-int8 is the fastest on CPU, docs/benchmarks.md)",
    )


def add_watch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--watch",
        action="store_true",
        help="then keep watching the articles folder: new or changed files are indexed within seconds "
        "(a running chat answers from them on its next question); Ctrl-C to stop",
    )


def add_allow_shrink(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-shrink",
        action="store_true",
        help="let an update remove more than half of the indexed articles (refused otherwise: "
        "an unmounted share or a wrong path looks like every article deleted)",
    )
