"""Question answering over news articles: answers copied word for word, with their sources."""

from __future__ import annotations

import importlib
from typing import Any

# Lazy exports: `import qa.types` must not pay for torch; `from qa import ask` loads what it needs.
_EXPORTS = {
    "ask": "qa.pipeline",
    "QAPipeline": "qa.pipeline",
    "QuestionError": "qa.pipeline",
    "Turn": "qa.retrieve.conversation",
    "Answer": "qa.types",
    "Article": "qa.types",
    "Citation": "qa.types",
    "Hit": "qa.types",
    "Passage": "qa.types",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
