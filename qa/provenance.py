"""Where a run's figures came from: the code's git commit, the command, the machine and the time."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from typing import Any

from qa import config


def git_state() -> tuple[str | None, bool | None]:
    """(HEAD commit, whether tracked files differ from it); (None, None) outside a git checkout."""

    def run(*cmd: str) -> str:
        return subprocess.run(
            ["git", *cmd], cwd=config.REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        return run("rev-parse", "HEAD"), bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None, None


def provenance(command: str) -> dict[str, Any]:
    """The run.json fields that say which code ran, how it was started, when and on what."""
    commit, dirty = git_state()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "command": command,
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
    }
