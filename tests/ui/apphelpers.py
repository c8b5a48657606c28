"""Start app.py as a real server process for the browser and client tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Two fictional reports of one story (tests/conftest.py's story_pair_dir).
STORY_PAIR = REPO_ROOT / "tests" / "data" / "story-pair"

HOSTILE_TITLE = "<script>window.__xss=1</script>Hostile"
HOSTILE_IMG = '<img src=x onerror="window.__xss=2">'
HOSTILE_PARAGRAPHS = (
    f"The Zorblatt bulletin carried a planted tag {HOSTILE_IMG} beside a script tag "
    "<script>window.__xss=4</script> in its opening paragraph.",
    "The Zorblatt bulletin was printed by the Quibbleton Gazette in the town of Fennimore, "
    "which sold 7,300 copies of it in May 2021.",
)
HOSTILE_ARTICLE = f"""---
title: '{HOSTILE_TITLE}'
date: 2021-05-05
source: 'javascript:window.__xss=3'
---

{HOSTILE_PARAGRAPHS[0]}

{HOSTILE_PARAGRAPHS[1]}
"""
START_TIMEOUT_S = 300.0  # loading the embedder and building the index on a slow two-core machine


def import_app():
    """The chat app module (qa/ui/app.py; app.py at the top only starts it)."""
    import qa.ui.app

    return qa.ui.app


# Two sample articles that report one rate in June and another in September (the recency note).
RATE_ARTICLES = ("central-bank-rate.md", "central-bank-rate-september.md")


def write_corpus(folder: Path) -> Path:
    """The story pair, the two dated rate reports and a hostile article (markup in its title and
    text), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(STORY_PAIR.iterdir()):
        if path.is_file():
            shutil.copyfile(path, folder / path.name)
    for name in RATE_ARTICLES:
        shutil.copyfile(REPO_ROOT / "qa" / "sample_articles" / name, folder / name)
    (folder / "hostile.md").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    return folder


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]


def _serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "config", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_app(
    articles: Path, index: Path, log_path: Path, *, reader: str = "bundled"
) -> Iterator[AppServer]:
    """`python app.py ...` on a free port of 127.0.0.1, until it serves; stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    command = [
        sys.executable,
        str(REPO_ROOT / "app.py"),
        "--index",
        str(index),
        "--articles",
        str(articles),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--reader",
        reader,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = AppServer(url, process, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _serving(url):
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited with status {process.returncode}:\n{server.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"app.py did not serve {url} within {START_TIMEOUT_S:.0f} s:\n{server.log()}"
                )
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


# An article whose sentence the example-question patterns (qa/ui/examples.py) turn into a question
# that carries markup: the start screen must show it as text.
EXAMPLE_MARKUP = "<img src=x onerror=alert(7)>"
EXAMPLE_SENTENCE = (
    f"In June the Zorblatt press said 4,100 souvenir copies were stamped {EXAMPLE_MARKUP} by hand "
    "at the Quibbleton works."
)
HOSTILE_EXAMPLE_ARTICLE = f"""---
title: 'Zorblatt <b>press</b> run'
date: 2021-06-01
---

{EXAMPLE_SENTENCE}

The stamping took nine days, the press said.
"""

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
