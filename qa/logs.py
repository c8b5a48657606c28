"""Library chatter kept out of the way; both entry points (the `qa` command and app.py) call it."""

from __future__ import annotations

import logging
import os


def quiet_libraries() -> None:
    """Model-loading progress bars and library chatter hide our own output (the CLI's and the app's)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # OpenMP threads (torch, FAISS) that busy-wait take the CPU from the other thread on a shared
    # 2-core machine (the classic reader loop took 6.3 s a question passive, 16.9 s spinning, in
    # two runs under the same load; noisy, but torch threads at bs 1 lost 4x to spinning too).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    for name in ("transformers", "sentence_transformers", "huggingface_hub", "bm25s", "faiss", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)
