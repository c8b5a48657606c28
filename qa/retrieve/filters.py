"""Metadata filters: SearchFilter (the store protocol's, defined in qa/types.py) and the one
date-bound parser (qa/dates.py), gathered where the retriever and the entry points look for them."""

from __future__ import annotations

from qa.dates import first_day, last_day, parse_date_bound
from qa.types import SearchFilter

__all__ = ["SearchFilter", "first_day", "last_day", "parse_date_bound"]
