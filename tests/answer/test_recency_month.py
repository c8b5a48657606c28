"""qa/answer/recency.py: a month named without a year is the most recent such month in the articles
(issue 29, item 6), in the answer's note, in what the reader reads, and through `qa ask` and the chat."""

from __future__ import annotations

import json

import pytest

from qa.answer.recency import Period, apply_recency, latest_period, reader_query
from qa.types import Answer, Citation, Hit, Passage, Query

QUESTION = "What was the speed limit in the old town in March?"
# Three reports: a debate in March 2024, a limit set in March 2025, lowered in June 2025.
ARTICLES = {
    "limit-march-2024.md": (
        "2024-03-05",
        "Valmora debates an old town speed limit",
        "The city council of Valmora debated a speed limit of 50 km/h for the old town on Monday, "
        "but no vote was held.",
    ),
    "limit-march.md": (
        "2025-03-11",
        "Valmora sets a speed limit of 40 km/h in the old town",
        "The city council of Valmora set the speed limit in the old town at 40 km/h on Tuesday, after a "
        "year of complaints from residents about traffic.\n\nThe limit applies to every street inside "
        "the old walls, the council said.",
    ),
    "limit-june.md": (
        "2025-06-17",
        "Valmora lowers the old town speed limit to 30 km/h",
        "The city council of Valmora lowered the speed limit in the old town to 30 km/h on Tuesday, three "
        "months after it had set it at 40 km/h.\n\nThe council said the lower limit would make the "
        "narrow streets safer for children walking to school.",
    ),
}


def dated(answer: str, score: float, date: str, question: str = QUESTION) -> Answer:
    citation = Citation(
        f"{date}::0.0", f"{date}.md", f"Limit {date}", date, "", 0, 0, len(answer), answer, 0.8
    )
    return Answer(question, answer, score, 0.1, "bundled:test", (citation,))


def with_alternatives(best: Answer, *others: Answer) -> Answer:
    return Answer(
        best.question,
        best.answer,
        best.confidence,
        best.no_answer_score,
        best.reader,
        best.citations,
        search_query=best.question,
        alternatives=others,
    )


def test_a_month_without_a_year_is_the_latest_such_month_of_the_dates():
    dates = ["2024-03-05", "2025-03-11", "2025-06-17", None, "2023"]
    assert latest_period(Period(None, "03"), dates) == Period("2025", "03")
    assert latest_period(Period(None, "06"), dates) == Period("2025", "06")
    assert latest_period(Period(None, "09"), dates) == Period(None, "09")  # no September: as it was
    assert latest_period(Period("2024", "03"), dates) == Period("2024", "03")  # a named year stays
    assert latest_period(Period("2024", None), dates) == Period("2024", None)
    assert latest_period(None, dates) is None


def test_the_latest_march_answers_with_the_note_of_a_named_year():
    older_march = dated("50 km/h", 0.98, "2024-03-05")
    march = dated("40 km/h", 0.91, "2025-03-11")
    june = dated("30 km/h", 0.6, "2025-06-17")
    result = apply_recency(with_alternatives(older_march, march, june))
    assert result.answer == "40 km/h" and result.citations == march.citations
    named = apply_recency(
        with_alternatives(
            *(
                dated(a.answer, a.confidence, a.citations[0].date, QUESTION[:-1] + " 2025?")
                for a in (older_march, march, june)
            )
        )
    )
    assert (
        result.note
        == named.note
        == (
            "Answered from the article of 2025-03-11, the time the question names; an article of 2024-03-05 "
            "said: 50 km/h"
        )
    )
    # Already from the latest March: kept as it is.
    kept = with_alternatives(march, older_march, june)
    assert apply_recency(kept) == kept


def test_the_reader_reads_the_question_without_its_month_when_not_every_article_is_of_it():
    def hit(date):
        passage = Passage(f"{date}::0.0", f"{date}.md", "t", date, "", f"{date}.md", "", 0, "text")
        return Hit(passage, 1.0, 0)

    assert reader_query(Query(QUESTION), [hit("2024-03-05"), hit("2025-06-17")]).question == (
        "What was the speed limit in the old town?"
    )
    assert reader_query(Query(QUESTION), [hit("2025-03-11")] * 2).question == QUESTION


@pytest.fixture(scope="module")
def limit_articles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limits")
    for name, (date, title, text) in ARTICLES.items():
        (folder / name).write_text(f"---\ntitle: {title}\ndate: {date}\n---\n\n{text}\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_qa_ask_answers_a_month_from_its_latest_year(limit_articles, tmp_path, capsys):
    from qa.cli import main

    index = tmp_path / "index"
    assert main(["index", "--articles", str(limit_articles), "--store", str(index)]) == 0
    capsys.readouterr()

    def ask(question):
        assert main(["ask", question, "--store", str(index), "--reader", "bundled", "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    answer, named = ask(QUESTION), ask(QUESTION[:-1] + " 2025?")
    assert answer["answer"] == "40 km/h", answer
    assert answer["citations"][0]["date"] == "2025-03-11"
    assert (answer["answer"], answer["note"]) == (named["answer"], named["note"])  # as for a named year
