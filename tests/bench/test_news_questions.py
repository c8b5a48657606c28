"""bench/news_questions/: the project's own news question set over Reuters-21578. Its shape always (what
`qa eval` reads, counts, halves, the unanswerable share); its spans against the ingested stories when
../shared is there."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a folder of the checkout, not an installed package
    sys.path.insert(0, str(ROOT))

from bench.news_questions import check  # noqa: E402
from qa.eval.questions import load_questions  # noqa: E402

FOLDER = ROOT / "bench" / "news_questions"


@pytest.fixture(scope="module")
def sets() -> dict[str, list[dict]]:
    return check.load(FOLDER)


def test_two_hundred_questions_in_two_halves_that_qa_eval_reads(sets):
    loaded = {split: load_questions(FOLDER / f"{split}.jsonl") for split in check.SPLITS}
    questions = [q for question_set in loaded.values() for q in question_set.questions]
    assert all(question_set.format == "jsonl" for question_set in loaded.values())
    assert len(questions) == 200 and len({q.id for q in questions}) == 200
    assert all(90 <= len(loaded[split].questions) <= 110 for split in check.SPLITS)
    unanswerable = [q for q in questions if not q.has_answer]
    assert 0.2 <= len(unanswerable) / len(questions) <= 0.3  # about a quarter
    assert all(not q.sources for q in unanswerable)
    assert all(q.sources for q in questions if q.has_answer)
    # both halves hold unanswerable questions, and no story is in both
    assert all(any(not r["answers"] for r in sets[split]) for split in check.SPLITS)
    stories = [{r["story"] for r in sets[split]} for split in check.SPLITS]
    assert not stories[0] & stories[1]


def test_the_files_pass_the_shape_check(sets):
    assert check.shape_problems(sets) == []


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (lambda s: s["tune"].append(dict(s["tune"][0])), "duplicate id"),
        (lambda s: s["measure"].append({**s["tune"][0], "id": "x", "split": "measure"}), "both halves"),
        (lambda s: s["tune"][0].update(split="measure"), "in the tune file"),
        (lambda s: s["tune"][0].pop("answers"), "fields"),
        (
            lambda s: s["tune"].append({**_unanswerable(s), "id": "y", "source": ["reuters21578.jsonl#1"]}),
            "names a source",
        ),
        (lambda s: _answerable(s).update(source=["story 12"]), "expected a list"),
        (lambda s: _answerable(s).update(answers=["x" * 151]), "a span, not a passage"),
        (lambda s: [r.update(answers=[]) for r in s["measure"]], "unanswerable share"),
    ],
)
def test_the_shape_check_finds_a_spoilt_record(sets, spoil, expected):
    spoilt = copy.deepcopy(sets)
    spoil(spoilt)
    assert any(expected in problem for problem in check.shape_problems(spoilt))


def _answerable(sets) -> dict:
    return next(r for r in sets["tune"] if r["answers"])


def _unanswerable(sets) -> dict:
    return next(r for r in sets["tune"] if not r["answers"])


@pytest.fixture(scope="module")
def corpus(shared_dir) -> Path:
    path = shared_dir / "corpora" / check.CORPUS.name
    if not path.is_file():
        pytest.skip(f"Reuters-21578 not found at {path} (it sits beside the repository in ../shared)")
    return path


def test_every_span_is_verbatim_in_a_passage_of_its_source_story(sets, corpus):
    assert check.span_problems(sets, corpus) == []


def test_the_span_check_finds_an_answer_the_story_does_not_hold(sets, corpus):
    spoilt = copy.deepcopy(sets)
    record = _answerable(spoilt)
    record["answers"] = [record["answers"][0] + " and a word more"]
    problems = check.span_problems(spoilt, corpus)
    assert len(problems) == 2  # the answer is in no passage, and so its story holds none of them
    assert all(record["id"] in problem for problem in problems)
