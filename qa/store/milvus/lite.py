"""A Milvus Lite server on 127.0.0.1, started and stopped by its process id: for the tests, the
benchmarks (bench/milvus.py) and trying the Milvus store on one machine (docs/scale-out.md)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

from qa import config


def milvus_lite_missing() -> str | None:
    """Why a Milvus Lite server cannot start here, or None."""
    if find_spec("pymilvus") is None or find_spec("milvus_lite") is None:
        return 'Milvus Lite is not installed: pip install -e ".[milvus]"'
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MilvusServer:
    """`milvus-lite server` on 127.0.0.1 (its default bind is 0.0.0.0), in its own data folder,
    started on creation; stop() (or kill(), as a crash would) by its pid, start() again on the
    same port and data.

    Example:
        >>> server = MilvusServer(Path("/tmp/milvus-data"))  # doctest: +SKIP
        >>> server.address("news")  # doctest: +SKIP
        'milvus://127.0.0.1:40211/news'
        >>> server.stop()  # doctest: +SKIP
    """

    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = Path(data_dir)
        self.port = port if port is not None else free_port()
        self.process: subprocess.Popen | None = None
        self.log = self.data_dir.parent / f"{self.data_dir.name}-server.log"
        self.start()

    def address(self, name: str) -> str:
        return f"milvus://127.0.0.1:{self.port}/{name}"

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or restart, on the same port and data) and wait until it answers."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "milvus_lite",
                    "server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + config.MILVUS_LITE_START_TIMEOUT_S
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"milvus-lite exited with {self.process.returncode}: {self.log.read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"milvus-lite did not answer on port {self.port} within "
                    f"{config.MILVUS_LITE_START_TIMEOUT_S} s"
                )
            time.sleep(0.2)

    def _answers(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(1.0)
            if probe.connect_ex(("127.0.0.1", self.port)) != 0:
                return False
        from pymilvus import MilvusClient

        try:
            client = MilvusClient(uri=self.uri, timeout=5, dedicated=True)  # closed below, not shared
            client.list_collections(timeout=5)
            client.close()
            return True
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
