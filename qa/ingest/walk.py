"""The folder walk: which files under an articles folder are read, by their names and types alone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.errors import IngestError, SkippedFile, skip
from qa.ingest.listing import FileStamp
from qa.printable import is_utf8

HTML_SUFFIXES = frozenset({".html", ".htm", ".html.gz", ".htm.gz"})
WARC_SUFFIXES = frozenset({".warc", ".warc.gz"})
SUFFIXES = frozenset({".md", ".markdown", ".txt", ".jsonl"}) | HTML_SUFFIXES | WARC_SUFFIXES
MAX_FOLDER_DEPTH = 100  # sub-folders below the articles folder; real corpora use a few


@dataclass(frozen=True)
class Found:
    """An article file the walk found."""

    path: Path
    relative: str  # to the articles folder, POSIX separators
    entry: os.DirEntry | None = None  # its directory entry (None: the folder named a file)

    def stamp(self) -> FileStamp:
        """Size, mtime and mode now, following a symlink as reading does (one stat call); OSError if gone."""
        info = self.entry.stat() if self.entry is not None else os.stat(self.path)
        return FileStamp(self.relative, info.st_size, info.st_mtime_ns, info.st_mode)


def article_files(folder: Path) -> tuple[Path, list[Found], list[SkippedFile]]:
    """(the folder ids are relative to, the article files in walk order, entries the walk refused)."""
    skipped: list[SkippedFile] = []
    if folder.is_file():
        if suffix(folder.name) not in SUFFIXES:
            raise IngestError(f"cannot ingest {folder}: expected one of {', '.join(sorted(SUFFIXES))}")
        return folder.parent, [Found(folder, folder.name)], skipped
    if folder.is_dir():
        try:
            return folder, list(_walk(folder, folder.resolve(), skipped)), skipped
        except PermissionError as error:
            raise IngestError(f"articles folder {folder} is not readable: {error.strerror}") from None
    if os.path.lexists(folder):  # a FIFO, a device, a dangling link: never opened
        raise IngestError(f"cannot ingest {folder}: not a folder or a regular file")
    raise IngestError(f"articles folder {folder} does not exist")


def _walk(
    folder: Path, root: Path, skipped: list[SkippedFile], depth: int = 0, prefix: str = ""
) -> Iterator[Found]:
    """Article files under `folder`, in sorted order; hidden entries and other suffixes are ignored.

    os.scandir, not Path.iterdir: its entries know their type without a stat (a status check of an
    unchanged folder is little more than this walk), and sorting names is cheaper than sorting Paths.
    """
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        if not is_utf8(name):
            skipped.append(skip(folder / name, "the name is not valid UTF-8: rename it to index it"))
            continue
        is_dir = _is(entry.is_dir)
        if not is_dir and suffix(name) not in SUFFIXES:
            continue
        path = folder / name
        if entry.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # a dangling link, or a loop (RuntimeError before Python 3.13)
                skipped.append(skip(path, "broken symlink (its target is missing or it loops)"))
                continue
            if not target.is_relative_to(root):
                skipped.append(skip(path, f"symlink to {target}, outside the articles folder"))
                continue
            if is_dir:
                continue  # the target is walked in its own place; following links could loop
        if is_dir:
            if depth >= MAX_FOLDER_DEPTH:  # deeper would also run out of Python's recursion limit
                skipped.append(skip(path, f"folder nested deeper than {MAX_FOLDER_DEPTH} levels"))
                continue
            try:
                yield from _walk(path, root, skipped, depth + 1, f"{prefix}{name}/")
            except PermissionError as error:
                skipped.append(skip(path, f"folder not readable ({error.strerror})"))
        elif _is(entry.is_file):
            yield Found(path, prefix + name, entry)
        else:
            skipped.append(skip(path, "not a regular file (or a broken link)"))


def _is(check) -> bool:
    """DirEntry.is_dir / is_file, False where the entry cannot be stat'ed (a link loop), as Path's are."""
    try:
        return check()
    except OSError:
        return False


def suffix(name: str) -> str:
    """The suffix that says how a file is read: ".html.gz" and ".warc.gz" are two words long."""
    base, ext = os.path.splitext(name.lower())
    if ext == ".gz":
        ext = os.path.splitext(base)[1] + ext
    return ext
