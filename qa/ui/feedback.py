"""Thumbs up/down on the chat's answers, appended to a JSONL file beside the index; never sent anywhere.

One line a click:

    {"time": "2026-12-06T21:00:00+00:00", "rating": "up" | "down", "question": as typed,
     "search_query": the self-contained question searched (a follow-up with its context),
     "answer": the answer or null, "citations": [Answer.to_dict()'s citations], "reader": ...,
     "index_generation": "gen-000007", "k": 5, "mode": "hybrid", "from": null, "to": null,
     "source_filter": null}

`qa eval FEEDBACK.jsonl` reads the file as a question set (qa/eval/questions.py; docs/evaluation.md).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

from qa.types import Answer

FEEDBACK_FILE = "feedback.jsonl"
RATINGS = {True: "up", False: "down"}


def answer_record(
    answer: Answer, *, generation: str, k: int, mode: str, filters: dict[str, str | None]
) -> dict[str, Any]:
    """What a rating of this answer saves besides the rating itself (JSON-ready)."""
    return {
        "question": answer.question,
        "search_query": answer.search_query or answer.question,
        "answer": answer.answer,
        "citations": answer.to_dict()["citations"],
        "reader": answer.reader,
        "index_generation": generation,
        "k": k,
        "mode": mode,
        "from": filters.get("date_from"),
        "to": filters.get("date_to"),
        "source_filter": filters.get("source"),
    }


class FeedbackLog:
    """Appends ratings to one JSONL file; safe to share between the sessions of one server."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def save(self, record: dict[str, Any], liked: Any) -> dict[str, Any] | None:
        """Append `record` rated up (liked True) or down (False); anything else (a rating taken back)
        is not saved. Returns the line written, or None."""
        rating = RATINGS.get(liked) if isinstance(liked, bool) else None
        if rating is None:
            return None
        line = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "rating": rating}
        line.update(record)
        text = json.dumps(line, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(text)
        return line
