"""Start the chat (`python app.py`) as a real server process on a free port of 127.0.0.1: for the
soak bench and the chat's client and browser tests (tests/ui/apphelpers.py)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 300.0  # loading the embedder and building the index on a slow two-core machine
# Offline, no telemetry, and no proxy between a client and the server on this machine.
SERVER_ENV = {
    "PYTHONUNBUFFERED": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


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
    articles: Path, index: Path, log_path: Path, *, reader: str = "bundled", options: Sequence[str] = ()
) -> Iterator[AppServer]:
    """`python app.py ...` on a free port of 127.0.0.1, until it serves; stopped by its process id on exit.
    `options`: more of app.py's options (e.g. "--watch")."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
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
        *options,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, **SERVER_ENV}, stdout=log, stderr=subprocess.STDOUT
        )
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
