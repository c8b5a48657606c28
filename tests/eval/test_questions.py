"""qa/eval/questions.py: question files (JSONL, JSON array, SQuAD 2.0), their errors, the corpus from
SQuAD."""

from __future__ import annotations

import json

import pytest
from evalhelpers import SQUAD
from evalhelpers import write_jsonl as _jsonl
from evalhelpers import write_text as _write

from qa import config
from qa.eval.questions import EvalInputError, load_questions, write_corpus


def test_load_jsonl(tmp_path):
    path = _jsonl(
        tmp_path / "q.jsonl",
        {"id": "a", "question": "Who won?", "answers": ["Ana", "Ana Ribeiro", "Ana"], "source": "x.md"},
        {"id": 7, "question": "What is the population?", "answers": []},
    )
    qs = load_questions(path)
    assert qs.format == "jsonl"
    assert [q.id for q in qs.questions] == ["a", "7"]
    assert qs.questions[0].answers == ("Ana", "Ana Ribeiro")  # repeats folded
    assert qs.questions[0].source == "x.md" and qs.questions[0].has_answer
    assert not qs.questions[1].has_answer and qs.questions[1].source is None
    assert qs.contexts == ()


def test_sources_and_date_range(tmp_path):
    # A wire story and its copies state one fact: any of them is the right citation.
    path = _jsonl(
        tmp_path / "q.jsonl",
        {
            "id": "a",
            "question": "Q?",
            "answers": ["x"],
            "source": ["wire.jsonl#3", "wire.jsonl#9", "wire.jsonl#3"],
            "from": "1987-03",
            "to": "1987-03-09",
        },
        {"id": "b", "question": "R?", "answers": ["y"], "to": "1987"},
    )
    first, second = load_questions(path).questions
    assert first.sources == ("wire.jsonl#3", "wire.jsonl#9") and first.source == "wire.jsonl#3"
    assert (first.search_filter.date_from, first.search_filter.date_to) == ("1987-03", "1987-03-09")
    assert second.sources == () and second.source is None
    assert (second.search_filter.date_from, second.search_filter.date_to) == (None, "1987")


def test_jsonl_lines_are_split_on_newlines_only(tmp_path):
    # U+2028 is valid raw inside a JSON string; str.splitlines() would cut the record in two.
    path = _write(tmp_path / "q.jsonl", '{"id": "a", "question": "Who\u2028won?", "answers": ["Ana"]}\r\n')
    assert [q.id for q in load_questions(path).questions] == ["a"]


def test_load_json_array_like_the_bundled_sample_questions():
    qs = load_questions(config.REPO_ROOT / "qa" / "sample_questions.json")
    assert qs.format == "json"
    assert len(qs.questions) == 12 and qs.questions[0].id == "1"
    assert sum(not q.has_answer for q in qs.questions) == 2


def test_load_squad_with_contexts_and_sources(tmp_path):
    qs = load_questions(_write(tmp_path / "dev.json", json.dumps(SQUAD)))
    assert qs.format == "squad"
    assert [q.id for q in qs.questions] == ["s1", "s2", "s3"]
    assert qs.questions[0].answers == ("Mary Smith",)
    assert qs.questions[1].answers == ()  # plausible answers of an impossible question do not count
    assert [c.title for c in qs.contexts] == ["Tiny Town", "Tiny Town"]
    assert [q.source for q in qs.questions] == ["dev.jsonl#1", "dev.jsonl#1", "dev.jsonl#2"]


def test_corpus_from_squad_is_ingestible_and_sources_name_its_articles(tmp_path):
    from qa.ingest.articles import load_articles

    qs = load_questions(_write(tmp_path / "dev.json", json.dumps(SQUAD)))
    corpus = write_corpus(qs, tmp_path / "corpus")
    report = load_articles(corpus)
    assert not report.skipped
    ids = {a.article_id: a for a in report.articles}
    assert set(ids) == {"dev.jsonl#1", "dev.jsonl#2"}
    assert "Mary Smith" in " ".join(ids["dev.jsonl#1"].paragraphs)
    assert ids["dev.jsonl#2"].source == "https://en.wikipedia.org/wiki/Tiny_Town"
    # The headline a reader reads end to end is the one --reader-only gives the same paragraph.
    assert {a.title for a in report.articles} == {c.title for c in qs.contexts} == {"Tiny Town"}


@pytest.mark.parametrize(
    "content, expected",
    [
        ("", "the file is empty"),
        ("  \n\n", "the file is empty"),
        ('{"id": "a", "question": "Q?", "answers": []}\nthis is not json\n', ":2: not valid JSON"),
        (
            '{"id": "a", "question": "Q?", "answers": []}\n{"id": "a", "question": "R?", "answers": ["x"]}\n',
            ":2: duplicate id 'a' (first used at",
        ),
        ('{"id": "a", "question": "Q?", "answers": "Paris"}\n', ":1: 'answers' must be a list"),
        ('{"id": "a", "question": "Q?"}\n', ":1: no 'answers'"),
        ('\n{"id": "a", "answers": []}\n', ":2: 'question' must be a non-empty string"),
        ('{"id": "a", "question": "   ", "answers": []}\n', ":1: 'question' must be a non-empty string"),
        ('["a", "b"]\n', "item 1: expected a JSON object"),
        ('{"id": "a", "question": "Q?", "answers": [3]}\n', ":1: answers[0] must be a string"),
        ('{"id": null, "question": "Q?", "answers": []}\n', ":1: 'id' must be a non-empty string"),
        ('{"id": "a", "question": "Q?", "answers": [], "source": 5}\n', ":1: 'source' must be a string"),
        (
            '{"id": "a", "question": "Q?", "answers": [], "source": ["a.md", 5]}\n',
            ":1: 'source' must be a string naming the article, or a list",
        ),
        (
            '{"id": "a", "question": "Q?", "answers": [], "from": "09/03/1987"}\n',
            ":1: 'from' must be a date written YYYY",
        ),
        (
            '{"id": "a", "question": "Q?", "answers": [], "from": "1987-04", "to": "1987-03"}\n',
            ":1: 'from' '1987-04' is after 'to' '1987-03'",
        ),
        ("[]", "no questions"),
        ('{"version": "v2.0", "data": {}}', "'data' must be a list"),
        (
            '{"version": "v2.0", "data": [{"title": "T", "paragraphs": '
            '[{"context": "c", "qas": [{"id": "x", "question": "Q?"}]}]}]}',
            "data[0].paragraphs[0].qas[0]: no 'answers'",
        ),
        ('{\n  "questions": []\n}\n', "neither a SQuAD 2.0 file nor JSONL"),
    ],
)
def test_bad_question_files_name_the_file_and_line(tmp_path, content, expected):
    path = _write(tmp_path / "bad.jsonl", content)
    with pytest.raises(EvalInputError) as error:
        load_questions(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_unreadable_question_files(tmp_path):
    with pytest.raises(EvalInputError, match="no such file"):
        load_questions(tmp_path / "missing.jsonl")
    with pytest.raises(EvalInputError, match="is a folder"):
        load_questions(tmp_path)
    (tmp_path / "latin1.jsonl").write_bytes(
        b'{"id": "a", "question": "Q?", "answers": []}\n{"question": "caf\xe9"}\n'
    )
    with pytest.raises(EvalInputError, match=r"latin1.jsonl:2: not UTF-8"):
        load_questions(tmp_path / "latin1.jsonl")


def test_input_errors_are_value_errors_the_cli_reports():
    assert issubclass(EvalInputError, ValueError)


def test_cli_bad_file_exits_2_with_one_line(tmp_path, capsys):
    from qa.cli import main

    path = _write(
        tmp_path / "q.jsonl",
        '{"id": "a", "question": "Q?", "answers": []}\n{"id": "a", "question": "R?", "answers": []}\n',
    )
    assert main(["eval", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "q.jsonl:2: duplicate id 'a'" in err and "Traceback" not in err
    assert main(["eval", str(path), "--k", "0"]) == 2
    assert "--k must be a whole number from 1 to 20, got 0" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The chat's feedback file (qa/ui/feedback.py) as a question set


def _rated(question, answer, article_id="tram-line.md", *, search_query=None, date_to=None):
    from qa.types import Answer, Citation

    citations = ()
    if answer is not None:
        text = f"The Green Line cost {answer}, of which 160 million came from a grant."
        start = text.index(answer)
        citations = (
            Citation(
                f"{article_id}::2.0",
                article_id,
                "Tram",
                "2024-03-14",
                "x",
                2,
                start,
                start + len(answer),
                text,
                0.9,
            ),
        )
    return Answer(
        question, answer, 0.9 if answer else None, 0.1, "bundled:t", citations, search_query or question
    )


def _feedback_file(path, *ratings):
    from qa.ui.feedback import FeedbackLog, answer_record

    log = FeedbackLog(path)
    for answer, liked, date_to in ratings:
        filters = {"date_from": None, "date_to": date_to, "source": None}
        log.save(answer_record(answer, generation="gen-000003", k=5, mode="hybrid", filters=filters), liked)
    return path


def test_feedback_file_is_a_question_set(tmp_path):
    tram = "How much did the Green Line tram cost?"
    path = _feedback_file(
        tmp_path / "feedback.jsonl",
        (_rated(tram, "160 million"), True, None),  # first liked, then taken back by a dislike
        (_rated(tram, "412 million euros"), True, None),
        (_rated(tram, "160 million"), False, None),
        (_rated("What is the population of Valmora?", "22 stops"), False, None),
        (_rated("Who won Eurovision?", None), True, None),  # "no answer" was right
        (_rated("Who built it?", None), False, None),  # "no answer" was wrong: right unknown, left out
        (
            _rated("And the cost?", "412 million euros", search_query="And the cost? (Green Line)"),
            True,
            "2024",
        ),
    )
    line = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert (
        line["rating"] == "up" and line["index_generation"] == "gen-000003" and line["reader"] == "bundled:t"
    )
    assert line["citations"][0]["article_id"] == "tram-line.md"
    qs = load_questions(path)
    assert qs.format == "feedback"
    by_question = {q.question: q for q in qs.questions}
    assert list(by_question) == [
        tram,
        "What is the population of Valmora?",
        "Who won Eurovision?",
        "And the cost? (Green Line)",  # the follow-up as it was searched, with its date range
    ]
    assert by_question[tram].answers == ("412 million euros",) and by_question[tram].wrong_answers == (
        "160 million",
    )
    assert by_question[tram].sources == ("tram-line.md",)
    down = by_question["What is the population of Valmora?"]
    assert not down.has_answer and down.wrong_answers == ("22 stops",)
    assert not by_question["Who won Eurovision?"].has_answer
    assert by_question["And the cost? (Green Line)"].search_filter.date_to == "2024"
    assert len({q.id for q in qs.questions}) == 4


def test_feedback_with_a_bad_rating_names_the_line(tmp_path):
    path = _jsonl(tmp_path / "f.jsonl", {"rating": "meh", "question": "Who?", "answer": None})
    with pytest.raises(EvalInputError, match=r"f.jsonl:1: 'rating' must be"):
        load_questions(path)
    path = _feedback_file(tmp_path / "g.jsonl", (_rated("Who built it?", None), False, None))
    with pytest.raises(EvalInputError, match="no rated answer"):
        load_questions(path)


@pytest.mark.slow
def test_feedback_round_trips_through_qa_eval_and_tunes_the_threshold(tmp_path, capsys):
    from qa.cli import main
    from qa.eval.resume import METRICS_FILE, PREDICTIONS_FILE

    path = _feedback_file(
        tmp_path / "feedback.jsonl",
        (_rated("How much did the Green Line tram cost?", "412 million euros"), True, None),
        (_rated("What is the population of Valmora?", "22 stops"), False, None),
    )
    out = tmp_path / "run"
    argv = ["eval", str(path), "--articles", str(config.SAMPLE_ARTICLES_DIR), "--reader", "bundled"]
    status = main([*argv, "--k", "3", "--out", str(out), "--save-threshold"])
    assert status == 0, capsys.readouterr().err
    metrics = json.loads((out / METRICS_FILE).read_text())
    assert metrics["n"] == 2 and metrics["n_has_answer"] == 1 and metrics["n_no_answer"] == 1
    records = {r["question"]: r for r in map(json.loads, (out / PREDICTIONS_FILE).read_text().splitlines())}
    assert records["How much did the Green Line tram cost?"]["exact_match"] == 1.0
    rejected = records["What is the population of Valmora?"]
    assert rejected["exact_match"] == (1.0 if rejected["answer"] is None else 0.0)  # scored as unanswerable
    assert "Saved no-answer threshold" in capsys.readouterr().out
