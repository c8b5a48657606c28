"""Shared fixtures: where the repository, the shared data, the bundled sample corpus and the tests' own
story pair live."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# As the qa command and the app do (qa/logs.py): torch threads that spin-wait lose a shared 2-core
# machine; set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from qa import config  # noqa: E402 - after the environment it reads


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_dir(repo_root: Path) -> Path:
    """The shared data folder that sits beside the repository (../shared)."""
    return repo_root.parent / "shared"


@pytest.fixture(scope="session")
def shared_articles_dir(shared_dir: Path) -> Path:
    """The two real news articles the project was made for (third-party text: read, never copy)."""
    path = shared_dir / "articles"
    if not path.is_dir():
        pytest.skip(f"shared articles not found at {path} (they sit beside the repository in ../shared)")
    return path


@pytest.fixture(scope="session")
def squad_path(shared_dir: Path) -> Path:
    path = shared_dir / "benchmarks" / "squad2-dev-subset.json"
    if not path.is_file():
        pytest.skip(f"SQuAD 2.0 subset not found at {path} (it sits beside the repository in ../shared)")
    return path


@pytest.fixture(scope="session")
def sample_articles_dir() -> Path:
    return config.SAMPLE_ARTICLES_DIR


STORY_PAIR_DIR = Path(__file__).resolve().parent / "data" / "story-pair"


@pytest.fixture(scope="session")
def story_pair_dir() -> Path:
    """Two fictional reports of one story (a hacked ferry booking app), from two outlets on one day,
    written for these tests: a web page saved with its front matter, ad codes, markdown links and
    curly quotes, and a plain-text wire report with a dateline. The same shapes as the two shared
    articles, so that the tests of indexing, retrieval and dedup run on a fresh clone. A word in
    both ("Bluewake"), a name in one only ("Ilse Marrow"), a count in both written two ways
    ("2,600", "2600"), a site in the source link ("lanternpost.example"). Read it, copy it before
    changing anything."""
    return STORY_PAIR_DIR


@pytest.fixture(scope="session")
def embedder():
    """The real default embedder (all-MiniLM-L6-v2, from the bundled copy), loaded once per run."""
    from qa.embed import load_embedder

    return load_embedder(config.DEFAULT_EMBEDDER)


@pytest.fixture(scope="session")
def all_articles_dir(tmp_path_factory, shared_articles_dir: Path, sample_articles_dir: Path) -> Path:
    """The shared articles and the bundled sample corpus in one folder. Shared by every test that
    asks for it: read it, index it elsewhere, copy it before changing anything."""
    folder = tmp_path_factory.mktemp("all_articles") / "articles"
    folder.mkdir()
    for source in (shared_articles_dir, sample_articles_dir):
        for path in sorted(source.iterdir()):
            if path.is_file():
                shutil.copyfile(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """A Milvus Lite server on 127.0.0.1 and a free port, for the whole run; stopped by its pid at the end.
    Each test module writes its own store names (aliases), one build at a time."""
    from qa.store.milvus.lite import MilvusServer, milvus_lite_missing

    if reason := milvus_lite_missing():
        pytest.skip(reason)
    server = MilvusServer(tmp_path_factory.mktemp("milvus") / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster on 127.0.0.1 (2 CPUs), as `qa index --ray auto` starts it; ray.shutdown() at
    the end."""
    from importlib.util import find_spec

    if find_spec("ray") is None:
        pytest.skip('Ray is not installed: pip install -e ".[ray]"')
    from qa.embed_ray import start_ray

    ray, started = start_ray("auto")
    yield ray
    if started:
        ray.shutdown()
