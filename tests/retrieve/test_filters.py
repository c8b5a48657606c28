"""qa/retrieve/filters.py: the date-bound parser and SearchFilter, and the store resolving filters."""

import datetime as dt
import re

import pytest
from crafted import outlets

from qa.retrieve.filters import SearchFilter, first_day, last_day, parse_date_bound

# --------------------------------------------------------------------------- the one date parser


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2019", "2019"),
        (" 2019-11 ", "2019-11"),
        ("2024-02-29", "2024-02-29"),
        (dt.date(2019, 11, 2), "2019-11-02"),
        (dt.datetime(2019, 11, 2, 10, 30), "2019-11-02"),
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_date_bounds_are_parsed_to_iso_prefixes(value, expected):
    assert parse_date_bound(value, "date_from") == expected


@pytest.mark.parametrize("value", ["2023-02-29", "2019-00", "2019-11-02T10:00", "19", "2019/11/02", 2019])
def test_a_bad_date_bound_is_refused_naming_the_field_and_the_value(value):
    with pytest.raises(
        ValueError,
        match=f"^date to must be a date written YYYY, YYYY-MM or YYYY-MM-DD .*got {re.escape(repr(value))}$",
    ):
        parse_date_bound(value, "date to")


@pytest.mark.parametrize(
    "bound, first, last",
    [
        ("2024", "2024-01-01", "2024-12-31"),
        ("2024-02", "2024-02-01", "2024-02-29"),
        ("2023-02", "2023-02-01", "2023-02-28"),
        ("2019-11-02", "2019-11-02", "2019-11-02"),
    ],
)
def test_a_bound_covers_its_whole_period(bound, first, last):
    assert (first_day(bound), last_day(bound)) == (first, last)


# --------------------------------------------------------------------------- SearchFilter: validation


@pytest.mark.parametrize("value", ["2019", "2019-11", "2019-11-02", " 2019-11-02 ", dt.date(2019, 11, 2)])
def test_filter_accepts_year_month_and_day_bounds(value):
    bound = SearchFilter(date_from=value).date_from
    assert bound in ("2019", "2019-11", "2019-11-02")


@pytest.mark.parametrize(
    "value", ["02/11/2019", "2019-13", "2019-02-30", "2019-1-5", "yesterday", "20191102", 2019]
)
def test_filter_refuses_a_malformed_date_naming_it(value):
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        SearchFilter(date_to=value)
    with pytest.raises(ValueError, match="date_from must be a date written YYYY, YYYY-MM or YYYY-MM-DD"):
        SearchFilter(date_from=value)


def test_filter_refuses_a_range_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="'2019-12' is after date_to '2019-11-30'"):
        SearchFilter(date_from="2019-12", date_to="2019-11-30")
    # A bound covers its whole period: the same month, or a day inside the year, is a valid range.
    assert SearchFilter(date_from="2019-11-30", date_to="2019-11").active
    assert SearchFilter(date_from="2019-11-30", date_to="2019").active


def test_blank_filters_are_no_filters():
    assert not SearchFilter("", "  ", " ").active
    assert SearchFilter(source=" beebom.com ").source == "beebom.com"


# -------------------------------------------------------------- filters resolved by the store, crafted corpus


@pytest.mark.slow
def test_date_filters_keep_whole_periods_and_leave_out_undated_articles(crafted):
    def dates(**bounds):
        hits = crafted.search("landslide road families", 20, search_filter=SearchFilter(**bounds))
        return {p.date for hit in hits for p in hit.passages}

    assert dates(date_from="2024-05-02") == {"2024-05-02", "2024-05-03", "2024-05-04", "2024-05-09"}
    assert dates(date_to="2024-05-01") == {"2024-05-01", "2023-08-20"}
    assert dates(date_from="2024-05", date_to="2024-05") == {
        "2024-05-01",
        "2024-05-02",
        "2024-05-03",
        "2024-05-04",
        "2024-05-09",
    }
    assert dates(date_to="2023") == {"2023-08-20"}
    assert None not in dates(date_from="2000")  # an undated article cannot be said to be after 2000
    assert None in dates()  # ...but is found without a date filter
    assert crafted.search("landslide", 5, search_filter=SearchFilter(date_from="2030")) == []


@pytest.mark.slow
def test_filtered_duplicates_only_come_from_allowed_passages(crafted):
    def quoted(**bounds):
        hits = crafted.search(
            "What did Maria Okafor say about the mud?", 3, search_filter=SearchFilter(**bounds)
        )
        return [outlets(hit) for hit in hits if "Maria Okafor" in hit.passage.text]

    # Unfiltered, outlet-b's same-day copy folds into outlet-a's passage; outlet-c's, a day later, does not.
    assert quoted() == [{"outlet-a", "outlet-b"}, {"outlet-c"}]
    assert quoted(source="outlet-a.example") == [{"outlet-a"}]
    assert quoted(date_from="2024-05-02") == [{"outlet-c"}]


@pytest.mark.slow
def test_source_filter_matches_site_or_folder_case_insensitively(crafted):
    by_site = crafted.search("landslide", 5, search_filter=SearchFilter(source="OUTLET-B.example"))
    assert by_site and all(hit.passage.source.startswith("https://outlet-b.example/") for hit in by_site)
    by_folder = crafted.search("landslide", 5, search_filter=SearchFilter(source="outlet-d/"))
    assert by_folder and all(hit.passage.article_id.startswith("outlet-d/") for hit in by_folder)
    assert crafted.search("landslide", 5, search_filter=SearchFilter(source="nowhere.example")) == []


# --------------------------------------------- filters on the story pair and the sample articles (real model)


@pytest.mark.slow
def test_date_filters_on_the_story_pair(retriever):
    # The story pair and its copies (2023-11-08) are older than every sample article (2024).
    question = "Bluewake booking app hack"
    november = retriever.search(
        question, 5, search_filter=SearchFilter(date_from="2023-11-01", date_to="2023-11-30")
    )
    assert november and all(hit.passage.date == "2023-11-08" for hit in november)
    month_bound = retriever.search(question, 5, search_filter=SearchFilter(date_to="2023-11"))
    assert {h.passage.passage_id for h in month_bound} == {h.passage.passage_id for h in november}
    before = retriever.search(question, 5, search_filter=SearchFilter(date_to="2023-11-07"))
    assert before == []  # nothing in the corpus is older than the pair
    after = retriever.search(question, 5, search_filter=SearchFilter(date_from="2023-11-09"))
    assert after and all(hit.passage.date >= "2023-11-09" for hit in after)
    assert not any(p.date == "2023-11-08" for hit in after for p in hit.passages)


@pytest.mark.slow
def test_source_filter_matches_site_or_folder(retriever):
    site = retriever.search("Bluewake", 5, search_filter=SearchFilter(source="lanternpost.example"))
    assert site and all("lanternpost.example" in hit.passage.source for hit in site)
    wire = retriever.search("Bluewake", 5, search_filter=SearchFilter(source="wire/"))
    assert wire and all(hit.passage.article_id.startswith("wire/") for hit in wire)
