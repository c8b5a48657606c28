"""Metadata filters: the one date-bound parser, and SearchFilter, which every store resolves its own way."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
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
    """
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


@dataclass(frozen=True)
class SearchFilter:
    """Metadata filters, checked on creation.

    `date_from` / `date_to` take YYYY, YYYY-MM or YYYY-MM-DD (or a datetime.date); a bound covers its
    whole period, so date_to="2019-11" keeps 30 November. Passages without a date are left out when
    either bound is set. `source` matches, case-insensitively, part of the source URL or the file
    path (a site such as "beebom.com" or a folder such as "wire/"). Empty strings mean no filter.
    A store resolves the filter (qa/store/protocol.py): frozen, so it can key a store's cache.

    Example:
        >>> SearchFilter(date_from="2019-11", date_to="2019-11-30").active
        True
        >>> SearchFilter(date_from="02/11/2019")
        Traceback (most recent call last):
        ...
        ValueError: date_from must be a date written YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2019-11-02), got '02/11/2019'
    """

    date_from: str | None = None
    date_to: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        date_from = parse_date_bound(self.date_from, "date_from")
        date_to = parse_date_bound(self.date_to, "date_to")
        if date_from and date_to and first_day(date_from) > last_day(date_to):
            raise ValueError(f"date_from {date_from!r} is after date_to {date_to!r}: no article can match")
        if self.source is not None and not isinstance(self.source, str):
            raise ValueError(f"source must be text (part of a URL or a folder), got {self.source!r}")
        source = self.source.strip() if self.source is not None else ""
        # Frozen, so the checked values are written past __setattr__, once, here.
        object.__setattr__(self, "date_from", date_from)
        object.__setattr__(self, "date_to", date_to)
        object.__setattr__(self, "source", source or None)

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.date_from, self.date_to, self.source))
