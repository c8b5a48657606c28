"""The no-answer decision over several signals: a logistic regression fitted per reader, shipped beside it.

`bench/no_answer_signals.py --save FILE` fits it on tuning sets of several domains and writes
FILE; a reader folder holding `no_answer_decision.json` (the bundled one does) decides with it
wherever its own threshold would have been used: no `--threshold` given, none saved by `qa eval
--save-threshold`, and the k and retrieval mode it was fitted at (pipeline.py). Elsewhere the
margin and its threshold decide, as before.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.answer.signals import SIGNALS

logger = logging.getLogger(__name__)

DECISION_FILE = "no_answer_decision.json"


@dataclass(frozen=True)
class SignalDecision:
    """Answer when P(answering scores more than declining) >= cut, from standardised SIGNALS."""

    signals: tuple[str, ...]  # the names, in the order of the weights (must be SIGNALS)
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    cut: float
    k: int  # fitted on answers read from k passages...
    mode: str  # ...retrieved in this mode; elsewhere the margin decides
    tuned_on: str  # what it was fitted on, for the model card and run.json

    def __post_init__(self) -> None:
        if tuple(self.signals) != SIGNALS:
            raise ValueError(f"fitted on signals {list(self.signals)}, this version computes {list(SIGNALS)}")
        sizes = {len(self.weights), len(self.mean), len(self.scale)}
        if sizes != {len(SIGNALS)} or not all(s > 0 for s in self.scale) or not 0.0 < self.cut < 1.0:
            raise ValueError("weights, mean and scale must each give one finite value per signal")

    def probability(self, signals: Sequence[float]) -> float:
        z = self.bias + sum(
            w * (x - m) / s for w, x, m, s in zip(self.weights, signals, self.mean, self.scale)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def answers(self, signals: Sequence[float]) -> bool:
        return self.probability(signals) >= self.cut

    def applies_to(self, k: int, mode: str) -> bool:
        return k == self.k and mode == self.mode

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignalDecision:
        fields = {name: data[name] for name in cls.__dataclass_fields__}
        for name in ("signals", "weights", "mean", "scale"):
            fields[name] = tuple(fields[name])
        return cls(**fields)


def save_decision(path: Path, decision: SignalDecision) -> None:
    path.write_text(json.dumps(decision.to_dict(), indent=2) + "\n", encoding="utf-8")


def load_decision(folder: Path | str) -> SignalDecision | None:
    """The decision shipped in a reader folder; None when there is none, or it is damaged (warned):
    the reader's threshold then decides, as it did before decisions shipped."""
    path = Path(folder) / DECISION_FILE
    if not path.is_file():
        return None
    try:
        return SignalDecision.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("Ignoring %s (%s); the no-answer threshold decides instead", path, error)
        return None
