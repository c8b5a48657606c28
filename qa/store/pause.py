"""A test hook every store's build calls at its risky moments; it does nothing unless asked to."""

from __future__ import annotations

import os
import time


def pause_for_tests(stage: str) -> None:
    """Used by the crash tests only (tests/store/test_crash_safety.py, test_resumable_build.py,
    tests/store/milvus/test_crash.py).

    With QA_TEST_PAUSE_AT=<stage> in the environment, a build prints "QA_TEST_PAUSED <stage>" and
    sleeps (QA_TEST_PAUSE_SECONDS, default 600) at that point, so that a test can kill it with
    SIGKILL exactly there. Stages: "embedding" and "embedded-half" (qa/store/local/build.py),
    "writing" (half the new generation on disk), "milvus-writing" (part of a collection's rows in),
    "before-commit" (generation complete, not yet live), "after-commit" (live, old generations not
    yet removed).
    """
    if os.environ.get("QA_TEST_PAUSE_AT") == stage:
        print(f"QA_TEST_PAUSED {stage}", flush=True)
        time.sleep(float(os.environ.get("QA_TEST_PAUSE_SECONDS", "600")))
