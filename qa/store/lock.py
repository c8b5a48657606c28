"""One build of a store at a time: an flock on a lock file, waited for up to a limit, then refused."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def exclusive_build(
    lock_file: Path, store: str, *, wait_seconds: float, error: type[Exception]
) -> Iterator[None]:
    """Hold `lock_file` for the block; another holder is waited for up to wait_seconds, then `error`
    names `store`. Closing the file releases the lock, also when the process dies."""
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_file, "a+")
    except OSError as cause:
        raise error(
            f"Cannot write the build lock of {store} ({lock_file}): {cause.strerror or cause}"
        ) from None
    deadline = time.monotonic() + wait_seconds
    waiting = False
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise error(
                        f"Another `qa index` is building {store} right now; wait for it to finish (or pass "
                        "--wait SECONDS)."
                    ) from None
                if not waiting:  # said once, so that a waiting build does not look hung
                    logger.warning(
                        "Another `qa index` is building %s; waiting up to %.0f s for it", store, wait_seconds
                    )
                    waiting = True
                time.sleep(0.2)
        yield
    finally:
        handle.close()
