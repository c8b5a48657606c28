"""A first build killed with SIGKILL, then `qa index` run again without --articles, as the README
says: it resumes the folder it was reading, never the bundled samples (qa/store/location.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from test_crash_safety import REPO_ROOT, Build

from qa import config
from qa.store.local.location import LocalLocation
from qa.store.location import BUILD_RECORD, interrupted_build_folder


@pytest.mark.slow
def test_a_killed_first_build_is_resumed_from_its_own_folder(tmp_path):
    articles = tmp_path / "my-news"
    articles.mkdir()
    for path in sorted(config.SAMPLE_ARTICLES_DIR.iterdir())[:3]:
        shutil.copy(path, articles / path.name)
    index = tmp_path / "index"
    build = Build(articles, index, tmp_path / "first.log", pause_at="embedding")
    build.wait_for_line("QA_TEST_PAUSED embedding")
    build.kill()
    location = LocalLocation(index)
    assert location.info() is None  # nothing committed
    assert interrupted_build_folder(location) == articles.resolve()

    again = subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", "--index", str(index)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    info = location.info()
    assert info is not None and info.article_count == 3  # its own 3 articles, not the 9 samples
    assert info.articles_dir == str(articles.resolve())
    assert not (index / BUILD_RECORD).exists()  # done: nothing left to resume


def test_a_refused_build_leaves_nothing_to_resume(tmp_path, embedder):
    from qa.checks import UserError
    from qa.service import update_index

    empty = tmp_path / "empty"
    empty.mkdir()
    location = LocalLocation(tmp_path / "index")
    with pytest.raises(UserError):
        update_index(location, empty, embedder)
    assert interrupted_build_folder(location) is None
