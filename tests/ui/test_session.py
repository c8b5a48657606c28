"""qa/ui/session.py: the chat's events over one session's messages, without a browser."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from qa.types import Answer, Citation
from qa.ui.feedback import FeedbackLog
from qa.ui.session import EMPTY_HINT, ChatSession, turns_of

pytest.importorskip("gradio")

OPTIONS = (5, "hybrid", "", "2024", "")


class Refused(ValueError):
    pass


def make_session(tmp_path, examples=("Who is the mayor?",)):
    asked = []

    def ask(question, turns, k, mode, date_from, date_to, source):
        asked.append((question, [t.question for t in turns]))
        if question == "bad":
            raise Refused("The question is refused.")
        text = f"Answer to {question} is <b>42</b>."
        start = text.index("<b>42</b>")
        citation = Citation("a.md::0.0", "a.md", "<i>T</i>", "2024-01-02", "", 0, start, start + 9, text, 1.0)
        return Answer(question, "<b>42</b>", 0.9, 0.1, "bundled:test", (citation,), question)

    pipeline = SimpleNamespace(store=SimpleNamespace(generation="gen-000002"))
    filters = lambda f, t, s: {"date_from": f or None, "date_to": t or None, "source": s or None}  # noqa: E731
    feedback = FeedbackLog(tmp_path / "feedback.jsonl")
    return ChatSession(pipeline, ask, (Refused,), feedback, filters=filters, examples=examples), asked


def last(generator):
    *_, final = generator
    return final


def test_ask_retry_undo_keep_history_and_log_in_step(tmp_path):
    session, asked = make_session(tmp_path)
    history, log, box, hint = last(session.respond("first?", [], [], *OPTIONS))
    assert box == "" and hint["visible"] is False
    assert [m["role"] for m in history] == ["user", "assistant"] and len(log) == 2
    assert "&lt;b&gt;42&lt;/b&gt;" in history[1]["content"] and "<b>42" not in history[1]["content"]
    history, log, *_ = last(session.respond("second?", history, log, *OPTIONS))
    assert asked[-1] == ("second?", ["first?"])  # a follow-up builds on the first answer
    # Retry the last question: asked again with the same conversation before it.
    history, log, *_ = last(session.retry(history, log, *OPTIONS, SimpleNamespace(index=2)))
    assert len(history) == 4 and asked[-1] == ("second?", ["first?"])
    # Undo: the question and its answer gone, the question back in the box, the turn forgotten.
    history, log, box = session.undo(history, log, SimpleNamespace(index=2))
    assert len(history) == len(log) == 2 and box == "second?"
    assert [t.question for t in turns_of(log)] == ["first?"]
    # A cleared chat (no history) starts a new conversation.
    last(session.respond("third?", [], log, *OPTIONS))
    assert asked[-1] == ("third?", [])


def test_an_empty_message_gives_a_hint_and_no_bubble(tmp_path):
    hostile, _ = make_session(
        tmp_path, examples=("How many <img src=x onerror=alert(7)> [x](javascript:1)?",)
    )
    hint = last(hostile.respond("", [], [], *OPTIONS))[3]["value"]
    assert "<img" not in hint and "&lt;img" in hint and "\\[x\\]" in hint  # text in the Markdown hint
    session, asked = make_session(tmp_path)
    (history, log, box, hint), *rest = list(session.respond("  ", [], [], *OPTIONS))
    assert history == [] and rest == [] and asked == []
    assert hint["visible"] is True and hint["value"].startswith(EMPTY_HINT)
    assert "Who is the mayor?" in hint["value"] and "\n" not in hint["value"]


def test_a_refused_question_is_a_notice_that_cannot_be_rated(tmp_path):
    session, _ = make_session(tmp_path)
    history, log, *_ = last(session.respond("bad", [], [], *OPTIONS))
    assert "The question is refused." in history[1]["content"] and log[1] == {}
    session.rate(log, SimpleNamespace(index=1, liked=True))
    assert not (tmp_path / "feedback.jsonl").exists()


def test_thumbs_save_the_answer_with_its_context(tmp_path):
    session, _ = make_session(tmp_path)
    history, log, *_ = last(session.respond("first?", [], [], *OPTIONS))
    session.rate(log, SimpleNamespace(index=1, liked=True))
    session.rate(log, SimpleNamespace(index=1, liked=False))
    session.rate(log, SimpleNamespace(index=1, liked=""))  # taken back: nothing saved
    session.rate(log, SimpleNamespace(index=0, liked=True))  # a question: nothing to rate
    lines = [json.loads(line) for line in (tmp_path / "feedback.jsonl").read_text().splitlines()]
    assert [line["rating"] for line in lines] == ["up", "down"]
    line = lines[0]
    assert line["question"] == "first?" and line["answer"] == "<b>42</b>"  # text, as it is
    assert line["index_generation"] == "gen-000002" and line["reader"] == "bundled:test"
    assert line["to"] == "2024" and line["k"] == 5 and line["mode"] == "hybrid"
    assert line["citations"][0]["title"] == "<i>T</i>"
