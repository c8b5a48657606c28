"""Date bounds as users type them (YYYY, YYYY-MM, YYYY-MM-DD): the one parser, and the days a bound covers.

Below qa/types.py, whose SearchFilter checks its bounds with them; qa/retrieve/filters.py re-exports them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

_DATE_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_date_bound(value: Any, name: str) -> str | None:
    """A date bound as YYYY, YYYY-MM or YYYY-MM-DD text; None for none; ValueError naming a bad one.

    The one parser of dates typed by users: SearchFilter, `qa ask --from/--to` and the chat's
    filter boxes all go through it.

    Example:
        >>> parse_date_bound(" 2019-11 ", "date_from"), parse_date_bound("", "date_from")
        ('2019-11', None)
        >>> parse_date_bound("2019-02-30", "date_to")
        Traceback (most recent call last):
        ...
        ValueError: date_to must be a date written YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2019-11-02), got '2019-02-30'
    """  # noqa: E501 - the doctest's message is one line
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        match = _DATE_BOUND.fullmatch(text)
        if match:
            year, month, day = (int(part) if part else 1 for part in match.groups())
            try:
                dt.date(year, month, day)
                return text
            except ValueError:
                pass
    raise ValueError(
        f"{name} must be a date written YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2019-11-02), got {value!r}"
    )


def first_day(bound: str) -> str:
    """The first day a bound covers: "2019" -> "2019-01-01", "2019-11" -> "2019-11-01"."""
    return {4: f"{bound}-01-01", 7: f"{bound}-01"}.get(len(bound), bound)


def last_day(bound: str) -> str:
    """The last day a bound covers: "2019" -> "2019-12-31", "2019-11" -> "2019-11-30"."""
    if len(bound) == 4:
        return f"{bound}-12-31"
    if len(bound) == 7:
        year, month = int(bound[:4]), int(bound[5:7])
        return f"{bound}-{calendar.monthrange(year, month)[1]:02d}"
    return bound


def check_bounds(
    date_from: Any, date_to: Any, from_name: str = "date_from", to_name: str = "date_to"
) -> tuple[str | None, str | None]:
    """Both bounds parsed, and the first not after the second; ValueError in the one wording every
    door uses (qa/checks.py names the fields as that door does: --from, "Date from")."""
    start, end = parse_date_bound(date_from, from_name), parse_date_bound(date_to, to_name)
    if start and end and first_day(start) > last_day(end):
        raise ValueError(f"{from_name} {start!r} is after {to_name} {end!r}: no article can match")
    return start, end
