"""qa/service.py: the one door's decisions about a store, on real indexes of real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa import config
from qa.checks import UserError
from qa.service import ShrinkRefused, articles_folder, embedder_to_build_with, update_index
from qa.store.local.location import LocalLocation


def _copy_samples(folder: Path, count: int | None = None) -> Path:
    folder.mkdir(parents=True)
    for path in sorted(config.SAMPLE_ARTICLES_DIR.iterdir())[:count]:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.slow
def test_an_empty_or_wrong_folder_never_empties_an_index(tmp_path, embedder):
    articles = _copy_samples(tmp_path / "articles")
    location = LocalLocation(tmp_path / "index")
    first = update_index(location, articles, embedder)
    generation, indexed = first.generation, location.info().article_count
    assert indexed == len(list(articles.iterdir()))

    empty = tmp_path / "unmounted-share"
    empty.mkdir()
    with pytest.raises(UserError, match=f"^no articles found in {empty}; nothing was indexed$"):
        update_index(location, empty, embedder)
    few = _copy_samples(tmp_path / "wrong-folder", 2)
    with pytest.raises(ShrinkRefused, match=f"would remove {indexed - 2} of the {indexed} articles"):
        update_index(location, few, embedder)
    # Nothing changed: the same generation serves every article.
    assert location.info().article_count == indexed
    assert location.open().generation == Path(generation).name

    shrunk = update_index(location, few, embedder, allow_shrink=True)
    assert len(shrunk.status.removed) == indexed - 2 and location.info().article_count == 2


def test_a_new_index_from_an_empty_folder_is_refused(tmp_path, embedder):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no articles found"):
        update_index(LocalLocation(tmp_path / "index"), empty, embedder)
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").glob("gen-*"))


@pytest.mark.slow
def test_another_embedder_for_an_index_asks_for_rebuild(tmp_path, embedder):
    location = LocalLocation(tmp_path / "index")
    update_index(location, _copy_samples(tmp_path / "articles", 2), embedder)
    assert embedder_to_build_with(location) == embedder.name  # the one it was built with
    with pytest.raises(UserError, match="was built with .*--embedder some/other-model .* add --rebuild"):
        embedder_to_build_with(location, "some/other-model")
    assert embedder_to_build_with(location, "some/other-model", rebuild=True) == "some/other-model"


def test_articles_folder_names_the_flag_when_the_recorded_one_is_gone(tmp_path):
    assert articles_folder(LocalLocation(tmp_path / "none"), None) == config.SAMPLE_ARTICLES_DIR
    given = tmp_path / "mine"
    assert articles_folder(LocalLocation(tmp_path / "none"), given) == given
