"""An articles folder as `stat` sees it: each article file's size, mtime and mode, no byte read.

A build records the listing of the folder it read (qa/ingest/articles.py `load_articles`, the stat
of each file taken just before the file is read); `qa index --status` and the chat's start list the
folder again, stat only, and when nothing differs the index is up to date without parsing a file
(qa/store/local/build.py `index_status`). Anything that differs sends them to the full comparison of
content hashes, which stays the source of truth. Paths are relative to the folder, so a folder named
another way (relative or absolute, through a link) lists the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from qa import config

LISTING_FORMAT = 1


@dataclass(frozen=True)
class FileStamp:
    """One article file as stat saw it: what changes when its bytes or its permissions do."""

    path: str  # relative to the articles folder, POSIX separators
    size: int
    mtime_ns: int
    # Permission bits too: a file skipped as unreadable and then made readable changes nothing else.
    mode: int


@dataclass(frozen=True)
class FolderListing:
    """The article files a build read, with the stat taken before each was read, and what it skipped in them.

    `skipped` holds (path relative to the folder, reason) for files, or JSONL lines, that were read
    and refused: while their stamps are unchanged they would be refused again for the same reason,
    so a status that reads nothing can still report them.
    """

    files: tuple[FileStamp, ...]  # in the order the folder is walked
    listed_ns: int  # wall clock (time.time_ns) before the first file was stat'ed
    skipped: tuple[tuple[str, str], ...] = ()

    def trusted(self, racy_seconds: float = config.LISTING_RACY_SECONDS) -> bool:
        """False when a file's mtime is so close to the listing that a write just after it was
        stat'ed could have left the same mtime (a coarse clock tick; 1-2 s timestamps on FAT and
        HFS+): such a listing proves nothing, and status compares contents (git's "racy clean")."""
        horizon = self.listed_ns - int(racy_seconds * 1e9)
        return all(f.mtime_ns < horizon for f in self.files)

    def same_files(self, files: tuple[FileStamp, ...] | None) -> bool:
        return files is not None and files == self.files

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": LISTING_FORMAT,
                "listed_ns": self.listed_ns,
                "files": [[f.path, f.size, f.mtime_ns, f.mode] for f in self.files],
                "skipped": [list(s) for s in self.skipped],
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> FolderListing:
        """Parse what to_json wrote; ValueError for anything else (a listing from another format, a
        damaged file)."""
        try:
            data = json.loads(text)
            if data.get("format") != LISTING_FORMAT:
                raise ValueError(f"listing format {data.get('format')!r}, expected {LISTING_FORMAT}")
            files = tuple(FileStamp(str(p), _int(s), _int(m), _int(o)) for p, s, m, o in data["files"])
            skipped = tuple((str(p), str(r)) for p, r in data["skipped"])
            return cls(files, _int(data["listed_ns"]), skipped)
        except (AttributeError, KeyError, TypeError) as error:
            raise ValueError(f"not a folder listing: {error}") from None


def _int(value: object) -> int:
    if type(value) is not int:  # bool is an int; a float would never compare equal to a stat field
        raise TypeError(f"expected an integer, got {value!r}")
    return value
