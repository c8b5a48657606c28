"""qa/checks.py: what a user typed, checked once, in one wording for every door."""

from __future__ import annotations

import pytest

from qa import config
from qa.checks import (
    CHAT_LABELS,
    CLI_LABELS,
    UserError,
    check_filter,
    check_k,
    check_mode,
    check_threshold,
)
from qa.types import SearchFilter


@pytest.mark.parametrize("value, expected", [(5, 5), ("5", 5), (" 7 ", 7), (3.0, 3), (20, 20), (1, 1)])
def test_k_takes_whole_numbers_as_a_door_sends_them(value, expected):
    assert check_k(value) == expected


@pytest.mark.parametrize("value", [0, -1, 21, 100000, "x", "5.5", 2.5, True, None, float("nan")])
def test_k_out_of_range_or_not_whole_is_refused_with_the_value(value):
    with pytest.raises(UserError) as caught:
        check_k(value, CLI_LABELS)
    assert str(caught.value) == (f"--k must be a whole number from 1 to {config.MAX_TOP_K}, got {value!r}")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), "0.1", True])
def test_threshold_must_be_finite(value):
    with pytest.raises(UserError, match="--threshold must be a finite number"):
        check_threshold(value, CLI_LABELS)


def test_threshold_none_and_numbers_pass():
    assert check_threshold(None) is None
    assert check_threshold(-0.33) == -0.33
    assert check_threshold(0) == 0.0


def test_mode():
    assert check_mode("hybrid") == "hybrid"
    with pytest.raises(UserError, match="^mode must be one of .*, got 'telepathy'$"):
        check_mode("telepathy")


def test_filter_wording_is_one_with_each_door_s_labels():
    for labels, first, second in ((CLI_LABELS, "--from", "--to"), (CHAT_LABELS, "Date from", "Date to")):
        with pytest.raises(UserError) as after:
            check_filter("2020", "2019-12", None, labels)
        assert str(after.value) == f"{first} '2020' is after {second} '2019-12': no article can match"
        with pytest.raises(UserError) as bad:
            check_filter("02/11/2019", None, None, labels)
        assert str(bad.value) == (
            f"{first} must be a date written YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2019-11-02), got '02/11/2019'"
        )
    # SearchFilter itself (the Python API) says the same with its field names.
    with pytest.raises(
        ValueError, match="^date_from '2020' is after date_to '2019-12': no article can match$"
    ):
        SearchFilter("2020", "2019-12")


def test_filter_cleans_source_and_caps_its_length():
    assert check_filter("", None, "  example.org   news ") == SearchFilter(None, None, "example.org news")
    with pytest.raises(UserError, match=f"use at most {config.MAX_SOURCE_FILTER_CHARS}"):
        check_filter(None, None, "x" * (config.MAX_SOURCE_FILTER_CHARS + 1))
