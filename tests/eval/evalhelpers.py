"""Small question files the eval tests write for themselves (no ../shared: they run on a fresh clone)."""

from __future__ import annotations

import json
from pathlib import Path


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, *records) -> Path:
    return write_text(path, "".join(json.dumps(r) + "\n" for r in records))


SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Tiny_Town",
            "paragraphs": [
                {
                    "context": "Tiny Town was founded in 1820 by Mary Smith.",
                    "qas": [
                        {
                            "id": "s1",
                            "question": "Who founded Tiny Town?",
                            "answers": [{"text": "Mary Smith", "answer_start": 34}],
                            "is_impossible": False,
                        },
                        {
                            "id": "s2",
                            "question": "Who closed Tiny Town?",
                            "answers": [],
                            "plausible_answers": [{"text": "Mary Smith", "answer_start": 34}],
                            "is_impossible": True,
                        },
                    ],
                },
                {
                    "context": "The town has 300 people.",
                    "qas": [
                        {
                            "id": "s3",
                            "question": "How many people live in Tiny Town?",
                            "answers": [{"text": "300", "answer_start": 13}],
                        }
                    ],
                },
            ],
        }
    ],
}
