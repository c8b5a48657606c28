"""bench/reuters_questions.jsonl: its shape (always), and its gold spans in the Reuters stories (with
../shared)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa.eval.questions import load_questions
from qa.retrieve.filters import first_day, last_day

QUESTIONS = Path(__file__).resolve().parents[2] / "bench" / "reuters_questions.jsonl"
CORPUS_NAME = "reuters21578.jsonl"
STORIES = 21578
_SOURCE = re.compile(rf"{re.escape(CORPUS_NAME)}#(\d+)")
MAX_SPAN_CHARS = 60  # answer spans only: Reuters text is not to be copied into the repository


def _line(source: str) -> int:
    match = _SOURCE.fullmatch(source)
    assert match, f"{source!r} does not name a story as ingest does ({CORPUS_NAME}#LINE)"
    return int(match[1])


def test_twenty_questions_in_the_shape_qa_eval_reads():
    questions = load_questions(QUESTIONS).questions
    assert len(questions) == 20 and len({q.id for q in questions}) == 20
    unanswerable = [q for q in questions if not q.has_answer]
    assert 2 <= len(unanswerable) <= 3 and all(not q.sources for q in unanswerable)
    for question in questions:
        if question.has_answer:
            assert question.sources, f"{question.id}: names no story to cite"
            assert all(1 <= _line(source) <= STORIES for source in question.sources)
        assert all(len(answer) <= MAX_SPAN_CHARS for answer in question.answers), question.id
    assert sum(q.search_filter is not None for q in questions) >= 3  # asked with --from/--to


def test_every_line_is_one_json_object_with_known_keys():
    for number, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), start=1):
        record = json.loads(line)
        assert set(record) <= {"id", "question", "answers", "source", "from", "to"}, f"line {number}"


@pytest.fixture(scope="module")
def cited_stories(tmp_path_factory) -> dict[str, object]:
    """The cited stories as `qa index` ingests them, with their real ids: the corpus file rewritten
    with every other line blank (ingest numbers lines, blank ones included), so only they are read."""
    from qa.ingest.articles import load_article_file

    corpus = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / CORPUS_NAME
    if not corpus.is_file():
        pytest.skip(f"Reuters-21578 not found at {corpus} (it sits beside the repository in ../shared)")
    wanted = {_line(source) for q in load_questions(QUESTIONS).questions for source in q.sources}
    with corpus.open(encoding="utf-8") as lines:
        kept = [line if number in wanted else "\n" for number, line in enumerate(lines, start=1)]
    copy = tmp_path_factory.mktemp("reuters") / CORPUS_NAME
    copy.write_text("".join(kept), encoding="utf-8")
    return {article.article_id: article for article in load_article_file(copy)}


def test_gold_spans_occur_verbatim_in_the_cited_stories(cited_stories):
    for question in load_questions(QUESTIONS).questions:
        paragraphs = {source: cited_stories[source].paragraphs for source in question.sources}
        for source, texts in paragraphs.items():
            # every story named states the answer: the list is the stories to cite, not a guess
            assert any(answer in text for answer in question.answers for text in texts), (
                f"{question.id}: {source}"
            )
        for answer in question.answers:
            assert any(answer in text for texts in paragraphs.values() for text in texts), (
                f"{question.id}: {answer!r}"
            )


def test_cited_stories_are_dated_inside_the_question_range(cited_stories):
    for question in load_questions(QUESTIONS).questions:
        search_filter = question.search_filter
        if search_filter is None:
            continue
        for source in question.sources:
            date = cited_stories[source].date
            assert date is not None, source
            assert search_filter.date_from is None or date >= first_day(search_filter.date_from), (
                question.id,
                source,
            )
            assert search_filter.date_to is None or date <= last_day(search_filter.date_to), (
                question.id,
                source,
            )
