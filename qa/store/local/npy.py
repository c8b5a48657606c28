"""np.load behind one lock.

numpy reads every .npy header with ast.literal_eval, and CPython 3.11 can fail when two threads
parse at once ("SystemError: AST constructor recursion depth mismatch", python/cpython#106905):
a chat server reopening a new generation while a build in another thread reads its vectors hit it.
Reading a header takes microseconds, so one process-wide lock costs nothing measurable.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

HEADER_LOCK = threading.Lock()  # also held around libraries that np.load inside (bm25s)


def load_npy(path: Path | str, *, mmap_mode: str | None = None) -> np.ndarray:
    with HEADER_LOCK:
        return np.load(path, mmap_mode=mmap_mode)
