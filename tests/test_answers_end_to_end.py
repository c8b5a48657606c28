"""What a user gets out of the box: QAPipeline with the offline fallback reader over the shared
articles and the bundled sample corpus, question in, answer (or no answer) out.

Each bundled sample question is one case; the two the fallback reader still gets wrong are strict
xfails, so that fixing one shows up (and a regression anywhere else fails).
"""
from __future__ import annotations

import json

import pytest

from qa import config
from qa.answer.compose import normalize_answer
from qa.pipeline import QAPipeline
from qa.retrieve.conversation import Turn
from qa.store.build import build_index

SAMPLE_QUESTIONS = json.loads(config.SAMPLE_QUESTIONS.read_text(encoding="utf-8"))
KNOWN_MISSES = {
    # The answer sentence ("The winning goal came ... when substitute striker Mateo Alves curled
    # a shot") shares too few words with the question: the no-answer score wins.
    "Who scored the winning goal in the National Cup final?",
    # "The Salt Road, a drama by ..., won the Golden Lantern for best film": the subject of "won"
    # sits before an appositive; the fallback picks the noun phrase beside the question's words.
    "Which film won the Golden Lantern at the Port Ellery Film Festival?",
}
SHARED_QUESTIONS = [
    ("How many users were targeted by the spies?", "1,400"),
    ("Who is the IT Minister?", "Ravi Shankar Prasad"),
    # Both shared articles also mention "messaging platform": corroboration must not beat the
    # answer type ("firm" is the head, not "Israeli").
    ("Which Israeli firm did WhatsApp sue?", "NSO Group"),
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, all_articles_dir, embedder) -> QAPipeline:
    index_dir = tmp_path_factory.mktemp("e2e") / "index"
    build_index(all_articles_dir, index_dir, embedder)
    return QAPipeline.load(index_dir, reader="fallback", embedder=embedder)


@pytest.mark.parametrize(
    "case",
    [pytest.param(q, id=q["question"][:50], marks=[pytest.mark.xfail(strict=True, reason="known fallback miss")]
                  if q["question"] in KNOWN_MISSES else []) for q in SAMPLE_QUESTIONS],
)
def test_sample_question(pipeline, case):
    answer = pipeline.ask(case["question"])
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
    assert answer.answer == expected


def test_follow_up_swaps_the_detail_and_keeps_the_answer_type(pipeline):
    # "And in India?" after "How many users ...?": a count, from the sentence that names India
    # (the follow-up's own word), not the worldwide 1,400 the earlier words match best.
    answer = pipeline.ask("And in India?", history=[Turn("How many users were targeted by the spies?", "1,400")])
    assert answer.search_query == "And in India? (how many users targeted spies)"
    assert answer.answer == "30-40"
