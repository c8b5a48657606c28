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
    assert "--k must be greater than 0" in capsys.readouterr().err
