"""`qa index --status` by stat first (qa/ingest/listing.py): an unchanged folder is up to date
without reading an article; anything that differs falls back to comparing contents."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

import qa.ingest.articles
import qa.store.local.build
from qa.store import local as store
from qa.store.local import open_index
from qa.store.local.build import build_index, compare_hashes, index_status

pytestmark = pytest.mark.slow

AN_HOUR_AGO = time.time() - 3600  # older than config.LISTING_RACY_SECONDS: a listing of such files is trusted

WIRE_LINES = [
    {
        "title": "Harbour cranes arrive",
        "date": "2024-05-02",
        "text": "Four new cranes reached the Valmora harbour on Tuesday, the port office said.",
    },
    "this line is not JSON",
    {
        "title": "Ferry timetable changes",
        "date": "2024-05-03",
        "text": "The evening ferry to Osterby will leave at 19:40 from June, the operator said.",
    },
]


def age(folder: Path, seconds_ago: float = 3600) -> None:
    """Files written an hour ago, as an archive is: a fresh test file would make the listing racy."""
    then = time.time() - seconds_ago
    for path in folder.rglob("*"):
        os.utime(path, (then, then))


@pytest.fixture()
def articles(tmp_path, story_pair_dir):
    """The story pair, a JSONL file of two stories and a bad line, and an empty file (skipped)."""
    folder = tmp_path / "articles"
    shutil.copytree(story_pair_dir, folder)
    (folder / "wire").mkdir()
    (folder / "wire" / "may.jsonl").write_text(
        "".join((json.dumps(line) if isinstance(line, dict) else line) + "\n" for line in WIRE_LINES),
        encoding="utf-8",
    )
    (folder / "empty.md").write_text("", encoding="utf-8")
    age(folder)
    return folder


@pytest.fixture()
def built(tmp_path, articles, embedder):
    index_dir = tmp_path / "index"
    build_index(articles, index_dir, embedder)
    return index_dir


@pytest.fixture()
def reads(monkeypatch):
    """Counts the article files parsed (each load_articles or load_article_file goes through _load_file)."""
    parsed: list[Path] = []
    original = qa.ingest.articles._load_file

    def counting(path, root):
        parsed.append(path)
        return original(path, root)

    monkeypatch.setattr(qa.ingest.articles, "_load_file", counting)
    return parsed


def forbid_reading(monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("an article was read")

    monkeypatch.setattr(qa.ingest.articles, "_load_file", refuse)
    monkeypatch.setattr(qa.store.local.build, "load_articles", refuse)


def full_status(articles: Path, index_dir: Path):
    """Today's check, by content hashes alone: the source of truth the quick one must agree with."""
    report = qa.ingest.articles.load_articles(articles)
    return compare_hashes(
        report.articles, store.read_article_hashes(store.current_generation(index_dir)), report.skipped
    )


def test_an_unchanged_folder_is_up_to_date_without_reading_an_article(built, articles, embedder, monkeypatch):
    expected = full_status(articles, built)
    assert not expected.stale and expected.unchanged == 4  # two stories, two JSONL lines
    forbid_reading(monkeypatch)
    status = index_status(articles, built, embedder.name)
    assert status == expected  # the same counts, and the same skipped files and JSONL line, replayed
    assert status.describe() == "up to date (4 articles)"
    assert {(Path(s.path).name, s.reason.split(":")[0]) for s in status.skipped} == {
        ("empty.md", "empty file"),
        ("may.jsonl", "line 2"),
    }
    # The folder named by a relative path, the index built with an absolute one: the same listing.
    monkeypatch.chdir(articles.parent)
    assert index_status(Path("articles"), built, embedder.name).describe() == "up to date (4 articles)"


def test_a_touched_file_is_checked_by_content_and_the_next_build_records_its_new_stamp(
    built, articles, embedder, reads, monkeypatch
):
    generation = store.current_generation(built)
    os.utime(
        articles / "harrowgate-bluewake.txt", (AN_HOUR_AGO + 60, AN_HOUR_AGO + 60)
    )  # new mtime, same bytes
    status = index_status(articles, built, embedder.name)
    assert (
        status.describe() == "up to date (4 articles)" and len(reads) == 4
    )  # every file read: the full check
    report = build_index(articles, built, embedder)  # nothing to embed: only the listing is refreshed
    assert report.generation is None and store.current_generation(built) == generation
    forbid_reading(monkeypatch)
    assert index_status(articles, built, embedder.name).describe() == "up to date (4 articles)"


def test_a_same_size_edit_and_a_new_file_are_each_stale(built, articles, embedder):
    edited = articles / "lanternpost-bluewake.txt"
    before = edited.stat()
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("Bluewake", "Bluewaka", 1), encoding="utf-8")
    # Same size and an mtime one nanosecond on: a second edit within the same second.
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
    assert edited.stat().st_size == before.st_size
    status = index_status(articles, built, embedder.name)
    assert status.stale and status.changed == ("lanternpost-bluewake.txt",) and not status.added

    edited.write_text(text, encoding="utf-8")
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not index_status(articles, built, embedder.name).stale  # back as it was built: quick again
    shutil.copy(articles / "harrowgate-bluewake.txt", articles / "wire" / "copy.txt")
    age(articles)
    status = index_status(articles, built, embedder.name)
    assert status.stale and status.added == ("wire/copy.txt",) and not status.changed


def test_a_file_changed_while_the_build_reads_it_is_seen_as_changed(
    tmp_path, articles, embedder, monkeypatch
):
    """The stamp is the one taken before the read: a write just after the read shows a new stamp."""
    target = articles / "harrowgate-bluewake.txt"
    original = qa.ingest.articles._load_file

    def read_then_edit(path, root):
        loaded = original(path, root)
        if path.name == target.name:
            stamp = target.stat()
            target.write_text(
                target.read_text(encoding="utf-8").replace("Bluewake", "Bluewaka", 1), encoding="utf-8"
            )
            os.utime(target, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000))
        return loaded

    monkeypatch.setattr(qa.ingest.articles, "_load_file", read_then_edit)
    build_index(articles, tmp_path / "index", embedder)
    monkeypatch.undo()
    assert index_status(articles, tmp_path / "index", embedder.name).changed == ("harrowgate-bluewake.txt",)


def test_an_index_without_a_listing_is_checked_by_content_until_the_next_build_records_one(
    built, articles, embedder, reads, monkeypatch
):
    generation = store.current_generation(built)
    (generation / store.LISTING_FILE).unlink()  # as an index built before listings were kept
    assert index_status(articles, built, embedder.name).describe() == "up to date (4 articles)"
    assert len(reads) == 4
    (generation / store.LISTING_FILE).write_text(
        '{"format": 1, "files": [["a.md", 1', encoding="utf-8"
    )  # damaged
    assert not index_status(articles, built, embedder.name).stale and len(reads) == 8
    store.verify_files(
        generation, store.read_manifest(built), built, checksums=True
    )  # not one of the checksummed files
    build_index(articles, built, embedder)
    forbid_reading(monkeypatch)
    assert index_status(articles, built, embedder.name).describe() == "up to date (4 articles)"


def test_files_written_just_before_the_build_are_checked_by_content(
    tmp_path, story_pair_dir, embedder, reads
):
    """Within config.LISTING_RACY_SECONDS of the listing, a second write could keep the same mtime."""
    folder = tmp_path / "fresh"
    shutil.copytree(story_pair_dir, folder)
    os.utime(folder / "harrowgate-bluewake.txt")  # written now
    build_index(folder, tmp_path / "index", embedder)
    reads.clear()
    assert index_status(folder, tmp_path / "index", embedder.name).describe() == "up to date (2 articles)"
    assert len(reads) == 2


def test_a_build_that_fails_leaves_the_old_generation_with_its_own_listing(
    built, articles, embedder, monkeypatch
):
    generation = store.current_generation(built)
    listing = (generation / store.LISTING_FILE).read_text(encoding="utf-8")
    shutil.copy(articles / "harrowgate-bluewake.txt", articles / "copy.txt")
    age(articles)

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("qa.store.local.keyword.write_keyword_index", crash)
    with pytest.raises(OSError):
        build_index(articles, built, embedder)
    monkeypatch.undo()
    assert store.current_generation(built) == generation
    assert (generation / store.LISTING_FILE).read_text(encoding="utf-8") == listing
    assert index_status(articles, built, embedder.name).added == ("copy.txt",)
    build_index(articles, built, embedder)
    assert not index_status(articles, built, embedder.name).stale
    assert open_index(built).manifest.article_count == 5


def test_the_sample_corpus_is_quick_and_exact(tmp_path, sample_articles_dir, embedder, monkeypatch):
    folder = tmp_path / "sample"
    shutil.copytree(sample_articles_dir, folder)
    age(folder)
    build_index(folder, tmp_path / "index", embedder)
    expected = full_status(folder, tmp_path / "index")
    forbid_reading(monkeypatch)
    assert index_status(folder, tmp_path / "index", embedder.name) == expected
    assert not expected.stale and expected.unchanged == len(list(folder.glob("*.*")))
