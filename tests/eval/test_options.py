"""qa/eval/options.py: EvalOptions refuses what a run cannot do, naming the option and its value."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.eval.options import EvalOptions
from qa.eval.questions import EvalInputError
from qa.store.location import LocalLocation

Q = Path("q.jsonl")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"k": 0}, "--k must be a whole number from 1 to 20, got 0"),
        ({"k": 21}, "from 1 to 20, got 21"),
        ({"threshold": float("nan")}, "--threshold must be a finite number, got nan"),
        ({"limit": -1}, "--limit must be greater than 0, got -1"),
        ({"examples": -2}, "--examples must be 0 or more, got -2"),
        ({"passage_weight": 1.5}, "--passage-weight must be between 0 and 1, got 1.5"),
        ({"passage_weight": float("nan")}, "--passage-weight must be between 0 and 1, got nan"),
        ({"reader_only": True, "passage_weight": 0.5}, "drop --passage-weight"),
        ({"mode": "magic"}, "--mode must be one of"),
        ({"articles": Path("a"), "corpus_from_dataset": True}, "give one"),
        (
            {"reader_only": True, "store": LocalLocation(Path("i")), "save_threshold": True},
            "drop --store, --save-threshold",
        ),
    ],
)
def test_bad_options_are_refused_with_the_value(options, message):
    with pytest.raises(EvalInputError, match=message):
        EvalOptions(Q, **options)


def test_options_are_frozen():
    options = EvalOptions(Q)
    with pytest.raises(AttributeError):
        options.k = 3  # type: ignore[misc]
