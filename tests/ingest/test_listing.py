"""qa/ingest/listing.py and the stat-only walk of qa/ingest/articles.py (scan_folder)."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from qa.ingest.articles import load_articles, scan_folder
from qa.ingest.listing import FileStamp, FolderListing

GOOD = (
    "---\ntitle: Harbour cranes\ndate: 2024-05-02\n---\n\n"
    "Four new cranes reached the Valmora harbour on Tuesday, the port office said.\n"
)


def test_a_listing_reads_back_as_written_and_refuses_anything_else():
    listing = FolderListing(
        (
            FileStamp("a.md", 10, 1_700_000_000_123_456_789, 0o100644),
            FileStamp("sub/ü.jsonl", 0, 5, 0o100600),
        ),
        1_800_000_000_000_000_000,
        (("sub/ü.jsonl", "line 2: invalid JSON"),),
    )
    assert FolderListing.from_json(listing.to_json()) == listing
    for damaged in (
        '{"format": 1, "files": [["a.md", 1',
        "[]",
        '{"format": 2, "files": [], "skipped": [], "listed_ns": 1}',
        '{"format": 1, "files": [["a.md", 1.0, 2, 3]], "skipped": [], "listed_ns": 1}',
        '{"format": 1, "files": [["a.md", 1, 2]], "skipped": [], "listed_ns": 1}',
    ):
        with pytest.raises(ValueError):
            FolderListing.from_json(damaged)


def test_a_file_modified_within_the_racy_window_of_the_listing_is_not_trusted():
    listed = 1_800_000_000_000_000_000
    old, recent = (
        FileStamp("a.md", 1, listed - 3_000_000_000, 0o100644),
        FileStamp("b.md", 1, listed - 1_000_000_000, 0o100644),
    )
    assert FolderListing((old,), listed).trusted(racy_seconds=2.0)
    assert not FolderListing((old, recent), listed).trusted(racy_seconds=2.0)


def test_scan_lists_what_load_articles_read_without_opening_a_file(tmp_path, monkeypatch):
    for name in ["b.md", "a.txt", "sub/c.markdown", ".hidden.md", "photo.jpg"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    (tmp_path / "link.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "broken.md").symlink_to(tmp_path / "missing.md")
    report = load_articles(tmp_path)
    assert [f.path for f in report.listing.files] == ["a.txt", "b.md", "link.md", "sub/c.markdown"]
    assert report.listing.listed_ns <= time.time_ns()

    monkeypatch.setattr("qa.ingest.articles._load_file", lambda *_: pytest.fail("a file was opened"))
    scan = scan_folder(tmp_path)
    assert scan.files == report.listing.files and scan.root == tmp_path
    assert [os.path.basename(s.path) for s in scan.skipped] == ["broken.md"]
    # One file named instead of its folder: stamped relative to the folder it sits in.
    assert [f.path for f in scan_folder(tmp_path / "sub" / "c.markdown").files] == ["c.markdown"]


def test_the_stamp_changes_with_a_same_size_edit_one_nanosecond_later_and_with_a_chmod(
    tmp_path, story_pair_dir
):
    shutil.copytree(story_pair_dir, tmp_path / "a")
    path = next((tmp_path / "a").iterdir())
    before = scan_folder(tmp_path / "a").files
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1))
    assert scan_folder(tmp_path / "a").files != before
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert scan_folder(tmp_path / "a").files == before
    path.chmod((info.st_mode ^ 0o040) & 0o777)  # group read flipped: what decides an unreadable file's fate
    assert scan_folder(tmp_path / "a").files != before
