"""An installed package (pip install ., not editable) works on its own: reader, sample articles, index
folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.config import default_index_dir

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_default_index_dir_follows_env_then_checkout_then_user_data(tmp_path) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "qa").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("")
    (checkout / "qa" / "config.py").write_text("")
    assert default_index_dir({"NEWSQA_INDEX": "/data/idx"}, checkout) == Path("/data/idx")
    assert default_index_dir({}, checkout) == checkout / "index"
    site = tmp_path / "site-packages"
    (site / "qa").mkdir(parents=True)
    assert (
        default_index_dir({"XDG_DATA_HOME": str(tmp_path / "xdg")}, site)
        == tmp_path / "xdg" / "newsqa" / "index"
    )


@pytest.mark.slow
def test_a_non_editable_install_carries_the_reader_and_keeps_the_index_out_of_site_packages(tmp_path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import json; from qa import config; "
        "print(json.dumps({'index': str(config.DEFAULT_INDEX_DIR), 'reader': str(config.BUNDLED_READER_DIR), "
        "'samples': str(config.SAMPLE_ARTICLES_DIR), 'questions': str(config.SAMPLE_QUESTIONS)}))"
    )
    env = {"PYTHONPATH": str(target), "HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    paths = {k: Path(v) for k, v in json.loads(out).items()}
    assert paths["index"] == tmp_path / "home" / ".local" / "share" / "newsqa" / "index"
    assert paths["reader"].is_relative_to(target)
    assert {"model.safetensors", "tokenizer.json", "config.json", "reader.json", "README.md"} <= {
        p.name for p in paths["reader"].iterdir()
    }
    assert len(list(paths["samples"].iterdir())) >= 5 and paths["questions"].is_file()
