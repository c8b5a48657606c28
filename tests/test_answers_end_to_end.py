"""What a user gets out of the box: QAPipeline with the bundled trained reader, question in, answer
(or no answer) out.

Every bundled sample question is one case, over the bundled sample corpus (runs on a fresh clone);
the project's story pair (tests/data) too; the shared real articles are asked about beside them when
../shared is there.
"""

from __future__ import annotations

import json

import pytest

from qa import config
from qa.answer.compose import normalize_answer
from qa.pipeline import QAPipeline
from qa.retrieve.conversation import Turn
from qa.store.local.build import build_index
from qa.store.location import parse_location

SAMPLE_QUESTIONS = json.loads(config.SAMPLE_QUESTIONS.read_text(encoding="utf-8"))
SHARED_QUESTIONS = [
    ("How many users were targeted by the spies?", ("1,400", "over 1,400", "1400")),
    ("Who is the IT Minister?", ("Ravi Shankar Prasad",)),
    # Both shared articles also mention "messaging platform": corroboration must not beat the answer.
    # The bundled reader says "Pegasus" (the spyware, from another paragraph), a known miss.
    pytest.param(
        "Which Israeli firm did WhatsApp sue?",
        ("NSO Group",),
        marks=pytest.mark.xfail(strict=True, reason="a known miss of the bundled reader"),
    ),
    # Issue 12: the dateline place is kept in the text, so it can be cited; the bundled reader
    # still answers null (its no-answer score wins), a known miss (docs/reader.md).
    pytest.param(
        "In which city did Mamata Banerjee make her remarks?",
        ("Kolkata",),
        marks=pytest.mark.xfail(strict=True, reason="a known miss of the bundled reader"),
    ),
]


# Over the project's own story pair (tests/data/story-pair): runs without ../shared.
STORY_QUESTIONS = [
    ("Who is the Transport Minister?", ("Halvard Brune",)),
    # The bundled reader says the ferry company's chief executive, from the paragraph that names
    # Ardenia and the transport committee; Brune's paragraphs never name Ardenia. The made-up
    # unanswerables it was trained on (a name in the question missing from the paragraph means "no
    # answer") are the cause: v4 (swaps, no headlines) already preferred her (docs/reader.md).
    pytest.param(
        "Who is the Transport Minister of Ardenia?",
        ("Halvard Brune",),
        marks=pytest.mark.xfail(strict=True, reason="a known miss of the bundled reader"),
    ),
]


@pytest.fixture(scope="module", params=["local", "milvus"])
def sample_pipeline(request, tmp_path_factory, sample_articles_dir, embedder) -> QAPipeline:
    """The sample corpus in a local index folder, and in a Milvus Lite server: the same answers from both."""
    if request.param == "milvus":
        store = request.getfixturevalue("milvus_server").address("e2e_sample")
    else:
        store = tmp_path_factory.mktemp("e2e_sample") / "index"
    parse_location(store).build(sample_articles_dir, embedder)
    return QAPipeline.load(store, reader="bundled", embedder=embedder)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, all_articles_dir, embedder) -> QAPipeline:
    index_dir = tmp_path_factory.mktemp("e2e") / "index"
    build_index(all_articles_dir, index_dir, embedder)
    return QAPipeline.load(index_dir, reader="bundled", embedder=embedder)


@pytest.fixture(scope="module")
def story_pipeline(tmp_path_factory, story_pair_dir, embedder) -> QAPipeline:
    index_dir = tmp_path_factory.mktemp("e2e_story") / "index"
    build_index(story_pair_dir, index_dir, embedder)
    return QAPipeline.load(index_dir, reader="bundled", embedder=embedder)


@pytest.mark.parametrize(("question", "expected"), STORY_QUESTIONS)
def test_story_pair_question(story_pipeline, question, expected):
    assert story_pipeline.ask(question).answer in expected


@pytest.mark.parametrize("case", [pytest.param(q, id=q["question"][:50]) for q in SAMPLE_QUESTIONS])
def test_sample_question(sample_pipeline, case):
    answer = sample_pipeline.ask(case["question"])
    if not case["answers"]:
        assert answer.answer is None, answer.answer
        return
    assert answer.answer is not None
    assert normalize_answer(answer.answer) in {normalize_answer(a) for a in case["answers"]}
    first = answer.citations[0]
    assert first.text[first.start : first.end] == answer.answer


@pytest.mark.parametrize(("question", "expected"), SHARED_QUESTIONS)
def test_shared_article_question(pipeline, question, expected):
    answer = pipeline.ask(question)
    assert answer.answer in expected


def test_follow_up_swaps_the_detail_and_keeps_the_answer_type(pipeline):
    # "And in India?" after "How many users ...?": a count, from the sentence that names India
    # (the follow-up's own word), not the worldwide 1,400 the earlier words match best.
    answer = pipeline.ask(
        "And in India?", history=[Turn("How many users were targeted by the spies?", "1,400")]
    )
    assert answer.search_query == "And in India? (how many users targeted spies)"
    assert answer.answer in ("30-40", "around 30-40")
