"""The HTML pieces the report's sections share: escaping, number formatting, a captioned figure."""

from __future__ import annotations

import html
import math
from typing import Any


def fmt(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}{suffix}" if isinstance(value, (int, float)) else str(value)


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def escape(value: Any) -> str:
    return html.escape("" if value is None else str(value))
