"""A run's folder: predictions written line by line as questions finish, so a killed run resumes."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from qa.eval.questions import EvalInputError

logger = logging.getLogger(__name__)

PREDICTIONS_FILE = "predictions.jsonl"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
RUN_FILE = "run.json"  # the configuration, written first, so --resume can refuse a different run

Item = TypeVar("Item")


def default_out_dir() -> Path:
    return Path("runs") / f"eval-{dt.datetime.now():%Y%m%d-%H%M%S}"


def prepare_out_dir(out_dir: Path, *, resume: bool, overwrite: bool) -> None:
    """Create the run folder; refuse one that holds a run unless told to resume or overwrite it."""
    if out_dir.exists() and not out_dir.is_dir():
        raise EvalInputError(f"--out {out_dir} is a file, not a folder")
    if (out_dir / PREDICTIONS_FILE).exists() and not (resume or overwrite):
        raise EvalInputError(
            f"{out_dir} already holds {PREDICTIONS_FILE}: pass --resume to continue that run, "
            "--overwrite to replace it, or choose another --out"
        )
    if resume and not (out_dir / PREDICTIONS_FILE).exists():
        logger.warning("Nothing to resume in %s; starting afresh", out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def start_run(out_dir: Path, run_config: dict[str, Any], keys: Sequence[str], *, resume: bool) -> None:
    """Write run.json, refusing to resume a run whose `keys` settings differ from this one's."""
    previous_path = out_dir / RUN_FILE
    if resume and previous_path.exists():
        try:
            previous = json.loads(previous_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None  # unreadable: nothing to compare with, as when it is missing
        if isinstance(previous, dict):
            check_same_run(out_dir, previous, run_config, keys)
    write_json(previous_path, run_config)


def check_same_run(
    out_dir: Path, previous: dict[str, Any], run_config: dict[str, Any], keys: Sequence[str]
) -> None:
    changed = [
        f"{key} {previous.get(key)!r} -> {run_config.get(key)!r}"
        for key in keys
        if previous.get(key) != run_config.get(key)
    ]
    if changed:
        raise EvalInputError(
            f"--resume: {out_dir} holds a different run ({'; '.join(changed)}); "
            "use another --out or --overwrite"
        )


def answer_all(
    items: Sequence[Item],
    evaluate: Callable[[Item], dict[str, Any]],
    predictions_path: Path,
    *,
    key: Callable[[Item], str],
    resume: bool = False,
) -> tuple[list[dict[str, Any]], bool]:
    """evaluate() each item, appending its record (with "id" = key(item), "exact_match" and "f1") to
    predictions_path as soon as it is done (flushed); with resume, items already there are skipped.

    Returns the records in item order and whether the run was cut short by Ctrl-C.
    """
    from tqdm.auto import tqdm

    wanted = {key(item) for item in items}
    done = {r["id"]: r for r in read_predictions(predictions_path) if r["id"] in wanted} if resume else {}
    # Rewritten first: drops a line cut in half by a kill and records of questions no longer asked.
    with predictions_path.open("w", encoding="utf-8") as file:
        file.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in done.values())
    todo = [item for item in items if key(item) not in done]
    partial = False
    fresh: dict[str, dict[str, Any]] = {}
    em_sum = f1_sum = 0.0  # running figures for the progress bar, over this session's questions
    progress = tqdm(total=len(items), initial=len(done), unit="q", desc="eval", disable=None, file=sys.stderr)
    try:
        with predictions_path.open("a", encoding="utf-8") as file:
            for item in todo:
                record = evaluate(item)
                fresh[key(item)] = record
                file.write(json.dumps(record, ensure_ascii=False) + "\n")
                file.flush()
                em_sum += record["exact_match"]
                f1_sum += record["f1"]
                progress.set_postfix(
                    EM=f"{100 * em_sum / len(fresh):.1f}",
                    F1=f"{100 * f1_sum / len(fresh):.1f}",
                    refresh=False,
                )
                progress.update(1)
    except KeyboardInterrupt:
        partial = True
        print(
            f"\nInterrupted: scoring the {len(done) + len(fresh)} questions finished so far.", file=sys.stderr
        )
    finally:
        progress.close()
    return [r for item in items if (r := done.get(key(item)) or fresh.get(key(item))) is not None], partial


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """Records already written; stops at a line cut short by a kill."""
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            logger.warning("%s:%d: unfinished line dropped; that question is asked again", path, number)
            break
        if isinstance(record, dict) and "id" in record:
            records.append(record)
    return records


def write_json(path: Path, data: Any) -> None:
    """Write through a temporary file, so a kill never leaves half a JSON file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
