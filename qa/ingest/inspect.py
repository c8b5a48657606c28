"""`qa inspect PATH...`: what ingestion makes of files, shown before anything is indexed.

The terminal form lists each article's title, date, source and paragraphs, and for a web page the
lines dropped around its article and why; `--json` writes one object per article and line (what
bench/extraction.py scores). Files that give no article are said on stderr, one line each, as
`qa index` says them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from qa.ingest.articles import HTML_SUFFIXES, IngestError, load_articles, read_page, suffix
from qa.types import Article

EXIT_OK, EXIT_SKIPPED, EXIT_UNREADABLE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="article files or folders")
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per article and line: id, title, date, source, path, paragraphs",
    )


def run(args: argparse.Namespace) -> int:
    """Exit status: 0 every file gave its articles; 1 some file, line or record was skipped (said on
    stderr); 2 a PATH could not be read at all."""
    return inspect_paths(args.paths, as_json=args.json, out=sys.stdout, err=sys.stderr)


def inspect_paths(paths: Sequence[Path | str], *, as_json: bool, out: TextIO, err: TextIO) -> int:
    status = EXIT_OK
    for path in paths:
        try:
            report = load_articles(path)
        except IngestError as error:
            print(f"error: {error}", file=err)
            status = EXIT_UNREADABLE
            continue
        if report.skipped and status == EXIT_OK:
            status = EXIT_SKIPPED
        for article in report.articles:
            if as_json:
                out.write(json.dumps(article_json(article), ensure_ascii=False) + "\n")
            else:
                out.write("\n".join(describe(article)) + "\n\n")
    return status


def article_json(article: Article) -> dict:
    return {
        "id": article.article_id,
        "title": article.title,
        "date": article.date,
        "source": article.source,
        "path": article.path,
        "paragraphs": list(article.paragraphs),
    }


def describe(article: Article) -> Iterator[str]:
    """The terminal form of one article: its fields, numbered paragraphs, then what was dropped."""
    yield f"== {article.article_id}"
    yield f"title:  {article.title}"
    yield f"date:   {article.date or '(none found)'}"
    yield f"source: {article.source}"
    chars = sum(len(p) for p in article.paragraphs)
    yield f"{len(article.paragraphs)} paragraphs, {chars} characters"
    for number, paragraph in enumerate(article.paragraphs, start=1):
        yield f"  [{number}] {paragraph}"
    for dropped in _dropped(article):
        yield f"  dropped ({dropped.why}): {dropped.text}"


def _dropped(article: Article) -> tuple:
    """For a saved web page, the lines its cleaning dropped (read again: only inspect wants them)."""
    if suffix(Path(article.path).name) not in HTML_SUFFIXES:
        return ()
    from qa.ingest import html

    try:
        return html.extract(read_page(Path(article.path))[1]).dropped
    except (IngestError, html.NotAnArticle):  # changed since it was read a moment ago
        return ()
