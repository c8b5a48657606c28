"""A build that fills the disk: one line, nothing left behind, the last index still answers.

On a real full filesystem: a small tmpfs the test mounts (root only; skipped with the reason
where it cannot mount one).
"""

from __future__ import annotations

import gc
import shutil
import subprocess
from pathlib import Path

import pytest

from qa import config
from qa.store.local.files import IndexStoreError
from qa.store.local.location import LocalLocation


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 300 KiB: room for the sample index (about 180 KiB) but not for a second, bigger one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        gc.collect()  # an opened store maps its files: let go of them before the unmount
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount)], check=False)


def _more_articles(folder: Path, copies: int) -> Path:
    folder.mkdir()
    for path in config.SAMPLE_ARTICLES_DIR.iterdir():
        shutil.copy(path, folder / path.name)
        if path.suffix == ".md":
            for n in range(copies):
                text = path.read_text(encoding="utf-8").replace("title: ", f"title: Copy {n} of ", 1)
                (folder / f"copy{n}-{path.name}").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.slow
def test_a_full_disk_stops_the_build_cleanly_and_keeps_the_index(small_disk, tmp_path, embedder):
    location = LocalLocation(small_disk / "index")
    location.build(config.SAMPLE_ARTICLES_DIR, embedder)
    before = sorted(p.name for p in location.path.iterdir())
    with pytest.raises(IndexStoreError, match="is full .*the index still serves its last 9 articles"):
        location.build(_more_articles(tmp_path / "more", copies=6), embedder)
    # Nothing of the failed build is left to keep the disk full, and the old index answers.
    assert sorted(p.name for p in location.path.iterdir()) == before
    assert shutil.disk_usage(small_disk).free > 100 * 1024
    store = location.open(embedder=embedder.name)
    assert store.summary(max_titles=0).article_count == 9
    del store


@pytest.mark.slow
def test_a_first_build_on_a_full_disk_leaves_no_partial_files(small_disk, tmp_path, embedder):
    location = LocalLocation(small_disk / "index")
    with pytest.raises(IndexStoreError, match="is full .*no index yet"):
        location.build(_more_articles(tmp_path / "more", copies=8), embedder)
    assert location.info() is None
    leftovers = [p for p in location.path.rglob("*") if p.is_file() and p.name != ".lock"]
    assert leftovers == []
