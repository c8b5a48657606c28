"""News changes: when articles of different dates give different answers, say so, answer "now"
questions from the newest article and "in June" questions from an article of June (of the most
recent June in the articles read, as "in June 2025" would be).

A rate, a count or an office holder reported in June may be out of date by September; an
extractive reader scores the two spans on wording alone. This stage runs after the answers are
assembled and never invents text: it only reorders the reader's own answers and adds a note.
Before reading, `reader_query` leaves out of the reader's question the words the dates answer for
("now", "in June"): no article of June says "June" about its own news.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa import config
from qa.types import Answer, Hit, Query

# Only answers close to the best one (config.RECENCY_MIN_CONFIDENCE_RATIO) compete on date: a weak
# span is not promoted because its article is newer.
# Words that ask for the state of things now rather than at one moment.
_LATEST = re.compile(
    r"\b(?:now|nowadays|currently|current|latest|today|recent|recently|most recent|newest|"
    r"still|at present|presently|as of now|so far|to date|these days|right now)\b",
    re.IGNORECASE,
)
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# A question that names its own time ("in 2023", "in June", "last year") asks about that time.
_NAMED_TIME = re.compile(
    r"\b(?:1\d{3}|20\d{2})\b|\b(?:"
    + "|".join(_MONTHS)
    + r")\b|\b(?:last|previous|next)\s+(?:week|month|year)\b",
    re.IGNORECASE,
)
# The adverbs of a "now" question, dropped from what the reader reads when dates can answer for them.
_NOW_ADVERBS = re.compile(
    r"\s*\b(?:right now|as of now|at present|these days|nowadays|currently|presently|now)\b", re.IGNORECASE
)
# "in June", "in June 2024", "during 2023": the time a question names, as a phrase it can do without.
_IN_PERIOD = re.compile(
    r"\s*\b(?:in|during)\s+(?:(" + "|".join(_MONTHS) + r")(?:\s+(1\d{3}|20\d{2}))?|(1\d{3}|20\d{2}))\b",
    re.IGNORECASE,
)

_WORD = re.compile(r"[^\W_]+(?:[.,][0-9]+)*")


@dataclass(frozen=True)
class Period:
    """A time a question names: a year, a month of any year, or a month of one year."""

    year: str | None
    month: str | None  # "06"

    def holds(self, date: str | None) -> bool:
        """Whether an article's ISO date (YYYY, YYYY-MM or YYYY-MM-DD) falls in the period."""
        if not date or (self.year and not date.startswith(self.year)):
            return False
        return not self.month or date[5:7] == self.month


def named_period(question: str) -> Period | None:
    """The time the question names ("What was the rate in June?"), or None.

    >>> named_period("What was the rate in June 2024?")
    Period(year='2024', month='06')
    """
    match = _IN_PERIOD.search(question)
    if match is None:
        return None
    month, month_year, year = match.groups()
    if month is not None:
        return Period(month_year, f"{_MONTHS.index(month.lower()) + 1:02d}")
    return Period(year, None)


def latest_period(period: Period | None, dates: Iterable[str | None]) -> Period | None:
    """A month named without a year ("in March") as the most recent such month among `dates` (the
    articles read), so that it is answered as "in March 2025" would be; any other period as it is.

    >>> latest_period(Period(None, "03"), ["2024-03-05", "2025-03-11", "2025-06-17"])
    Period(year='2025', month='03')
    """
    if period is None or period.year or not period.month:
        return period
    years = [date[:4] for date in dates if date and date[5:7] == period.month]
    return Period(max(years), period.month) if years else period


def asks_for_latest(question: str) -> bool:
    """Whether the question asks for the current state ("What is the rate now?")."""
    return bool(_LATEST.search(question)) and not _NAMED_TIME.search(question)


def reader_query(query: Query, hits: Sequence[Hit]) -> Query:
    """What the reader is asked: a "now" question without its "now" when the passages come from
    articles of different dates.

    The dates, not the word, then decide what is current (apply_recency): a SQuAD-trained reader
    reads "now" as one more word to match, and a September report's "up from 4.25 percent" matched
    "What is the interest rate now?" better than its "4.5 percent". Undated passages keep the word:
    there "formerly X, now Y" is all there is to go by.
    """
    dates = {hit.passage.date for hit in hits if hit.passage.date}
    period = latest_period(named_period(query.question), dates)
    if period is not None and any(map(period.holds, dates)) and not all(map(period.holds, dates)):
        # "What was the rate in June?": the June article says "on Thursday", never "June".
        plain = _IN_PERIOD.sub("", query.question, count=1).strip()
    elif asks_for_latest(query.question) and len(dates) >= 2:
        plain = _NOW_ADVERBS.sub("", query.question).strip()
    else:
        return query
    return dataclasses.replace(query, question=plain) if re.search(r"[^\W_]", plain) else query


def answer_date(answer: Answer) -> str | None:
    """The date of the article the answer is best read from: its first dated citation.

    Not the newest citation: a September report saying "up from 4.25 percent" also cites the June
    figure, but the June article is where 4.25 percent is the news. ISO dates compare as text.
    """
    return next((c.date for c in answer.citations if c.date), None)


def same_kind(a: str, b: str) -> bool:
    """Whether two answers differ only in value: figures with the same words ("4.25 percent",
    "4.5 percent"), or two names. "Thursday" is no rival to "4.25 percent"."""

    def words(text: str) -> set[str]:
        return {w.lower() for w in _WORD.findall(text) if not w[0].isdigit()}

    a_figure, b_figure = any(ch.isdigit() for ch in a), any(ch.isdigit() for ch in b)
    if a_figure or b_figure:
        return a_figure and b_figure and words(a) == words(b)
    return a[:1].isupper() and b[:1].isupper()


def apply_recency(answer: Answer) -> Answer:
    """`answer` with a note when a newer article gives a different answer, answered from the
    newest article when the question asks for the latest, and from an article of the time the
    question names ("in June") when one gives a rival answer.

    >>> apply_recency(Answer("q", None, None, 0.9, "bundled:r", ())).note
    ''
    """
    if answer.answer is None:
        return answer
    best_date = answer_date(answer)
    rivals = [
        a
        for a in answer.alternatives
        if a.answer
        and a.confidence >= config.RECENCY_MIN_CONFIDENCE_RATIO * answer.confidence
        and same_kind(answer.answer, a.answer)
        and answer_date(a)
    ]
    # The dates of every article read: a month without a year is its latest one among them.
    dates = [c.date for a in (answer, *answer.alternatives) for c in a.citations]
    period = latest_period(named_period(answer.question), dates)
    if period is not None:
        # The question's own time decides; a newer article is no news to it.
        in_period = [a for a in rivals if period.holds(answer_date(a))]
        if period.holds(best_date) or not in_period:
            return answer
        chosen = max(in_period, key=lambda a: a.confidence)
        said = f"; an article of {best_date} said: {answer.answer}" if best_date else ""
        return _promote(
            answer,
            chosen,
            f"Answered from the article of {answer_date(chosen)}, the time the question names{said}",
        )
    newer = [a for a in rivals if best_date is None or answer_date(a) > best_date]
    if not newer:
        return answer
    newest = max(newer, key=lambda a: (answer_date(a), a.confidence))
    if not asks_for_latest(answer.question):
        return dataclasses.replace(
            answer, note=f"A newer article ({answer_date(newest)}) says: {newest.answer}"
        )
    said = f"; an earlier article ({best_date}) said: {answer.answer}" if best_date else ""
    return _promote(answer, newest, f"Answered from the newest article ({answer_date(newest)}){said}")


def _promote(answer: Answer, chosen: Answer, note: str) -> Answer:
    """`chosen` (one of answer's alternatives) as the answer, with `note`; the old answer joins the
    alternatives."""
    demoted = dataclasses.replace(answer, alternatives=(), note="", timings_ms={})
    others = [a for a in answer.alternatives if a is not chosen] + [demoted]
    return dataclasses.replace(
        chosen,
        alternatives=tuple(sorted(others, key=lambda a: -a.confidence)),
        search_query=answer.search_query,
        timings_ms=answer.timings_ms,
        note=note,
    )
