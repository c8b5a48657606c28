"""qa/ui/examples.py: candidate questions from passages, kept when the pipeline answers them from their
article, cached per index generation and reader."""

from __future__ import annotations

import json

from apphelpers import EXAMPLE_MARKUP, EXAMPLE_SENTENCE

from qa.types import Answer, Citation, Passage
from qa.ui.examples import EXAMPLES_FILE, candidates, examples_for, make_examples, sentence_questions


def passage(article_id: str, text: str, row: int = 0) -> Passage:
    return Passage(
        f"{article_id}::{row}.0", article_id, article_id, "2024-01-02", "", article_id, "", row, text
    )


PASSAGES = [
    passage(
        "breach.md", "According to the company, 2,600 customer accounts were broken into during the attack."
    ),
    passage("tram.md", "The Green Line cost 412 million euros, of which 160 million came from a grant."),
    passage("minister.md", "Transport Minister Halvard Brune summoned the managers. Nothing else."),
    passage("plain.md", "It rained on Tuesday."),
]


def test_patterns_make_questions_that_do_not_give_their_answer_away():
    made = {q: e for p in PASSAGES for q, e in sentence_questions(p.text)}
    assert made["How many customer accounts were broken into during the attack?"] == "2,600"
    assert made["How much did the Green Line cost?"] == "412 million euros"
    assert made["Who is the Transport Minister?"] == "Halvard Brune"
    assert list(sentence_questions("It rained on Tuesday.")) == []
    assert list(sentence_questions("The first tram left with Mayor Ana Ribeiro on board.")) == []
    assert list(sentence_questions("Valmora's Mayor Ana Ribeiro said so.")) == [
        ("Who is Valmora's Mayor?", "Ana Ribeiro")
    ]
    rate = "The Central Bank of Ardenia raised its main interest rate by 0.25 points to 4.25 percent."
    assert list(sentence_questions(rate)) == [
        ("What did the Central Bank of Ardenia raise its main interest rate to?", "4.25 percent")
    ]
    hostile = candidates(passage("h.md", EXAMPLE_SENTENCE))
    assert [c.question for c in hostile] == [
        f"How many souvenir copies were stamped {EXAMPLE_MARKUP} by hand at the Quibbleton works?"
    ]  # text as the article has it: the chat shows it as text


class FakeStore:
    generation = "gen-000004"

    def __init__(self, passages):
        self._passages = passages

    def count(self, search_filter=None):
        return len(self._passages)

    def passages(self, rows):
        return [self._passages[row] for row in rows]


class FakePipeline:
    """Answers from a script: question -> (answer, article it cites)."""

    def __init__(self, script, passages=PASSAGES):
        self.store = FakeStore(passages)
        self.reader = type("R", (), {"name": "bundled:test"})()
        self.location = None
        self.script = script
        self.asked: list[str] = []

    def ask(self, question, **_options):
        self.asked.append(question)
        answer, article = self.script.get(question, (None, None))
        citations = ()
        if answer is not None:
            text = f"x {answer} y"
            citations = (
                Citation(f"{article}::0.0", article, "t", None, "", 0, 2, 2 + len(answer), text, 1.0),
            )
        return Answer(question, answer, 0.9 if answer else None, 0.1, "bundled:test", citations)


def test_kept_when_answered_with_its_span_from_its_article():
    pipeline = FakePipeline(
        {
            "How many customer accounts were broken into during the attack?": ("2,600", "breach.md"),
            "How much did the Green Line cost?": ("412 million euros", "other.md"),  # wrong article
            "Who is the Transport Minister?": ("the managers", "minister.md"),  # not its span
        }
    )
    assert make_examples(pipeline) == ["How many customer accounts were broken into during the attack?"]
    assert len(pipeline.asked) == 3  # the passage without a candidate asks nothing


def test_made_once_per_generation_and_reader(tmp_path):
    script = {"How much did the Green Line cost?": ("412 million euros", "tram.md")}
    pipeline = FakePipeline(script)
    assert examples_for(pipeline, tmp_path) == ["How much did the Green Line cost?"]
    asked = len(pipeline.asked)
    assert examples_for(pipeline, tmp_path) == ["How much did the Green Line cost?"]
    assert len(pipeline.asked) == asked  # read from the cache, not asked again
    cached = json.loads((tmp_path / EXAMPLES_FILE).read_text(encoding="utf-8"))
    assert cached["key"]["generation"] == "gen-000004" and cached["key"]["reader"] == "bundled:test"
    pipeline.store.generation = "gen-000005"  # a rebuilt index: made again
    examples_for(pipeline, tmp_path)
    assert len(pipeline.asked) > asked
    (tmp_path / EXAMPLES_FILE).write_text("{broken", encoding="utf-8")
    assert examples_for(pipeline, tmp_path) == ["How much did the Green Line cost?"]
