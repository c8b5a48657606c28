"""qa/answer/recency.py: a newer article's different answer is flagged, "now" questions take it, and a
named month or year picks its article."""

from __future__ import annotations

import pytest

from qa.answer.recency import (
    Period,
    apply_recency,
    asks_for_latest,
    named_period,
    reader_query,
    same_kind,
)
from qa.pipeline import QAPipeline
from qa.store.local.build import build_index
from qa.terminal import format_answer
from qa.types import Answer, Citation, Hit, Passage, Query


def dated(answer: str, score: float, date: str | None, question: str = "What is the rate?") -> Answer:
    citation = Citation(
        f"{date}::0.0",
        f"{date}.md",
        f"Rate report {date}",
        date,
        "https://example.com/r",
        0,
        0,
        len(answer),
        answer,
        0.8,
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
        timings_ms={"total_ms": 12.0},
    )


@pytest.mark.parametrize(
    "question, expected",
    [
        ("What is the interest rate now?", True),
        ("Who is the current mayor?", True),
        ("What is the latest inflation figure?", True),
        ("Is the tram still running?", True),
        ("What is the interest rate?", False),
        ("What was the rate now in 2023?", False),  # names its own time
        ("What is the rate today compared with last year?", False),
        ("Who is the current mayor after the March vote?", False),
    ],
)
def test_asks_for_latest(question, expected):
    assert asks_for_latest(question) is expected


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("4.25 percent", "4.5 percent", True),
        ("412 million euros", "431 million euros", True),
        ("Ana Ribeiro", "Tomas Weber", True),
        ("4.25 percent", "38 million euros", False),
        ("4.25 percent", "Thursday", False),
        ("year", "month", False),
    ],
)
def test_same_kind_means_the_same_sort_of_value(a, b, expected):
    assert same_kind(a, b) is expected


def test_a_close_answer_from_a_newer_article_is_noted_but_not_taken():
    best = dated("4.25 percent", 0.7, "2024-06-06")
    result = apply_recency(with_alternatives(best, dated("4.5 percent", 0.6, "2024-09-12")))
    assert result.answer == "4.25 percent"
    assert result.note == "A newer article (2024-09-12) says: 4.5 percent"


def test_a_now_question_is_answered_from_the_newest_article():
    question = "What is the rate now?"
    best = dated("4.25 percent", 0.7, "2024-06-06", question)
    older = dated("4 percent", 0.5, "2024-03-01", question)
    newest = dated("4.5 percent", 0.6, "2024-09-12", question)
    result = apply_recency(with_alternatives(best, older, newest))
    assert result.answer == "4.5 percent" and result.citations == newest.citations
    assert (
        result.note
        == "Answered from the newest article (2024-09-12); an earlier article (2024-06-06) said: 4.25 percent"
    )
    assert [a.answer for a in result.alternatives] == ["4.25 percent", "4 percent"]  # by score
    assert result.timings_ms == {"total_ms": 12.0} and result.search_query == question
    assert all(not a.note and not a.alternatives for a in result.alternatives)


@pytest.mark.parametrize(
    "question, period",
    [
        ("What was the rate in June?", Period(None, "06")),
        ("What was the rate in june 2024?", Period("2024", "06")),
        ("How many ferries sailed during 2023?", Period("2023", None)),
        ("Who may use water in May?", Period(None, "05")),
        ("Who may use water?", None),  # "may" the verb is no month
        ("What is the rate?", None),
    ],
)
def test_the_time_a_question_names(question, period):
    assert named_period(question) == period


def test_a_period_holds_the_dates_inside_it():
    june = Period(None, "06")
    assert june.holds("2024-06-06") and june.holds("2019-06") and not june.holds("2024-09-12")
    assert not june.holds("2024") and not june.holds(None)  # a year alone says no month
    assert Period("2024", None).holds("2024-09-12") and not Period("2024", None).holds("2023-12-31")
    assert Period("2024", "06").holds("2024-06-30") and not Period("2024", "06").holds("2023-06-30")


def test_a_question_naming_a_time_is_answered_from_an_article_of_that_time():
    question = "What was the rate in September?"
    best = dated("4.25 percent", 0.7, "2024-06-06", question)
    september = dated("4.5 percent", 0.6, "2024-09-12", question)
    result = apply_recency(with_alternatives(best, september))
    assert result.answer == "4.5 percent" and result.citations == september.citations
    assert (
        result.note
        == "Answered from the article of 2024-09-12, the time the question names; an article of 2024-06-06 "
        "said: 4.25 percent"
    )
    # Already from its time: kept, and a newer article is no news to a question about June.
    in_june = with_alternatives(
        dated("4.25 percent", 0.7, "2024-06-06", "What was the rate in June?"),
        dated("4.5 percent", 0.6, "2024-09-12", "What was the rate in June?"),
    )
    assert apply_recency(in_june) == in_june


def test_the_reader_reads_a_question_without_its_time_when_only_some_articles_are_of_that_time():
    dated_hits = [hit("2024-06-06"), hit("2024-09-12")]
    assert (
        reader_query(Query("What was the interest rate in June?"), dated_hits).question
        == "What was the interest rate?"
    )
    assert (
        reader_query(Query("What was the interest rate in June?"), [hit("2024-06-06")] * 2).question
        == "What was the interest rate in June?"
    )  # every article is of June: the word does no harm
    assert (
        reader_query(Query("What was the interest rate in May?"), dated_hits).question
        == "What was the interest rate in May?"
    )


@pytest.mark.parametrize(
    "question, expected, date",
    [
        ("What was the interest rate in June?", "4.25 percent", "2024-06-06"),
        ("What was the interest rate in September?", "4.5 percent", "2024-09-12"),
    ],
)
def test_sample_corpus_rate_question_in_a_named_month(sample_pipeline, question, expected, date):
    answer = sample_pipeline.ask(question)
    assert answer.answer == expected and answer.citations[0].date == date


@pytest.mark.parametrize(
    "alternative",
    [
        dated(
            "4.5 percent", 0.3, "2024-09-12"
        ),  # too weak beside 0.7: the article's date does not promote it
        dated("4.5 percent", 0.6, "2024-01-02"),  # older
        dated("4.5 percent", 0.6, None),  # undated
        dated("Thursday", 0.65, "2024-09-12"),  # not a rival figure, however new
    ],
)
def test_weak_older_or_undated_alternatives_change_nothing(alternative):
    answer = with_alternatives(dated("4.25 percent", 0.7, "2024-06-06", "What is the rate now?"), alternative)
    assert apply_recency(answer) == answer


def test_no_answer_stays_no_answer():
    null = Answer(
        "What is the rate now?",
        None,
        None,
        0.9,
        "bundled:test",
        (),
        alternatives=(dated("4.5 percent", 0.8, "2024-09-12"),),
    )
    assert apply_recency(null) == null


@pytest.fixture(scope="module")
def sample_pipeline(tmp_path_factory, sample_articles_dir, embedder) -> QAPipeline:
    index_dir = tmp_path_factory.mktemp("recency") / "index"
    build_index(sample_articles_dir, index_dir, embedder)
    return QAPipeline.load(index_dir, reader="bundled", embedder=embedder)


def hit(date: str | None) -> Hit:
    passage = Passage(
        passage_id=f"{date}.md::0.0",
        article_id=f"{date}.md",
        title="Rate report",
        date=date,
        place=None,
        source="https://example.com/r",
        path=f"{date}.md",
        paragraph=0,
        text="The rate is 4 percent.",
    )
    return Hit(passage, 0.9, 0)


def test_the_reader_reads_a_now_question_without_now_only_over_articles_of_several_dates():
    dated_hits = [hit("2024-06-06"), hit("2024-09-12")]
    assert (
        reader_query(Query("What is the interest rate now?"), dated_hits).question
        == "What is the interest rate?"
    )
    assert reader_query(Query("What is the rate currently?", ("Ardenia",)), dated_hits) == Query(
        "What is the rate?", ("Ardenia",)
    )
    assert (
        reader_query(Query("What is the interest rate now?"), [hit(None), hit(None)]).question
        == "What is the interest rate now?"
    )
    assert (
        reader_query(Query("What is the interest rate now?"), [hit("2024-06-06")] * 2).question
        == "What is the interest rate now?"
    )
    assert (
        reader_query(Query("What is the interest rate?"), dated_hits).question == "What is the interest rate?"
    )
    assert reader_query(Query("Now?"), dated_hits).question == "Now?"  # nothing left to ask: as typed


@pytest.mark.parametrize(
    "question",
    ["What is the Central Bank of Ardenia's main interest rate now?", "What is the interest rate now?"],
)  # the README's example
def test_sample_corpus_rate_question_now_takes_the_september_article(sample_pipeline, question):
    answer = sample_pipeline.ask(question)
    assert answer.answer is not None and "4.5 percent" in answer.answer
    assert answer.citations[0].date == "2024-09-12"
    first = answer.citations[0]
    assert first.text[first.start : first.end] == answer.answer
    # Whether the June figure comes with a note depends on how close the reader scores it (the
    # trained reader puts the September span far ahead); the note itself is tested above.


def test_the_terminal_shows_the_note():
    best = dated("4.25 percent", 0.7, "2024-06-06")
    answer = apply_recency(with_alternatives(best, dated("4.5 percent", 0.6, "2024-09-12")))
    assert answer.note and "Note: " + answer.note in format_answer(answer)


def test_sample_corpus_date_filter_keeps_the_june_answer_without_a_note(sample_pipeline):
    # Only the June article is searched: whatever its figure, there is no newer one to note.
    answer = sample_pipeline.ask(
        "What is the Central Bank of Ardenia's main interest rate now?", date_to="2024-06"
    )
    # (The bundled reader's threshold may leave this one unanswered; what it cites is June's either way.)
    assert answer.citations[0].date == "2024-06-06" and answer.note == ""
    assert all(c.date <= "2024-06-30" for c in answer.citations)  # September's never shows


def test_the_chat_shows_the_note_escaped():
    from qa.ui.chat import format_reply

    best = dated("4.25 percent", 0.7, "2024-06-06")
    hostile = dated("4.5 percent <>", 0.6, "2024-09-12")  # article text is untrusted
    reply = format_reply(apply_recency(with_alternatives(best, hostile)))
    assert '<p class="qa-note">A newer article (2024-09-12) says: 4.5 percent &lt;&gt;</p>' in reply
    assert "<>" not in reply
