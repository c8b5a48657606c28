"""The chat a reader expects, in a real browser at a phone's and a desktop's width: each answer in view,
retry, undo, clear, copy, example questions from the articles, thumbs up/down, the empty-message hint
and plain-text labels, with hostile article markup inert throughout.

Set QA_SAVE_SCREENSHOT=1 to copy the answered chat at 1280 x 900 to docs/screenshot.png and at
420 x 900 to docs/screenshot-phone.png.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from apphelpers import (
    EXAMPLE_MARKUP,
    HOSTILE_EXAMPLE_ARTICLE,
    HOSTILE_IMG,
    HOSTILE_TITLE,
    REPO_ROOT,
    running_app,
    write_corpus,
)

from qa.eval.questions import load_questions
from qa.ui.examples import EXAMPLES_FILE
from qa.ui.feedback import FEEDBACK_FILE

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPLY_TIMEOUT_MS = 60_000
WIDTHS = (420, 1280)
FIVE_QUESTIONS = (
    "How many customer accounts were broken into?",
    "Who is the Transport Minister of Ardenia?",
    "What is the Central Bank of Ardenia's main interest rate now?",
    "Whom did Bluewake ask to investigate?",
    "What was planted in the Zorblatt bulletin?",
)
HOSTILE_QUESTION = "What was planted in the Zorblatt bulletin?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat_controls")
    articles = write_corpus(root / "articles")
    (articles / "zorblatt-press.md").write_text(HOSTILE_EXAMPLE_ARTICLE, encoding="utf-8")
    with running_app(articles, root / "index", root / "app.log") as app:
        app.index = root / "index"
        yield app


def open_chat(browser, server, width: int, height: int = 900):
    """A new tab (a new session) at this size, clipboard allowed; dialogs (alert) recorded."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server.url)
    page.wait_for_selector("#qa-question textarea", timeout=REPLY_TIMEOUT_MS)
    return context, page


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def chat(request, browser, server):
    context, page = open_chat(browser, server, request.param)
    page.width = request.param
    yield page
    context.close()


@pytest.fixture
def desktop(browser, server):
    context, page = open_chat(browser, server, 1280)
    yield page
    context.close()


def ask(page, question: str):
    before = page.locator(".qa-reply").count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#qa-chat .qa-reply').length > {before}", timeout=REPLY_TIMEOUT_MS
    )
    page.wait_for_timeout(400)  # the scroll runs on the next animation frame
    return page.locator("#qa-chat .qa-reply").last


def last_bot_message(page):
    """The last answer's chat message, with its buttons (copy, thumbs, retry, undo)."""
    return page.locator("#qa-chat .message-row.bot-row").last


def inert(page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.dialogs == []
    assert page.locator("#qa-chat script, #qa-chat img[src='x'], img[onerror]").count() == 0


def test_each_answer_is_in_view_with_nothing_over_its_sources(chat, server, tmp_path):
    panel = chat.locator("#qa-chat [role='log']")
    for question in FIVE_QUESTIONS:
        reply = ask(chat, question)
        frame, answer = panel.bounding_box(), reply.locator(".qa-answer").bounding_box()
        assert (
            frame["y"] - 1 <= answer["y"]
            and answer["y"] + answer["height"] <= frame["y"] + frame["height"] + 1
        ), (
            question,
            frame,
            answer,
        )
        assert answer["y"] - frame["y"] < 40, (question, frame, answer)  # at the top of the panel
        assert (
            frame["x"] - 1 <= answer["x"] and answer["x"] + answer["width"] <= frame["x"] + frame["width"] + 1
        )
        assert (
            0 <= answer["y"] and answer["y"] + answer["height"] <= chat.viewport_size["height"]
        )  # on screen
        # Nothing lies over the answer or the first source's text (Gradio's scroll-down arrow did).
        summary = reply.locator("details.qa-citation summary").first.bounding_box()
        for box in (answer, summary):
            x, y = box["x"] + 12, box["y"] + box["height"] / 2
            if y < frame["y"] + frame["height"]:
                covered = chat.evaluate(
                    "([x, y, last]) => !document.querySelectorAll('#qa-chat .qa-reply')[last]"
                    ".contains(document.elementFromPoint(x, y))",
                    [x, y, chat.locator("#qa-chat .qa-reply").count() - 1],
                )
                assert not covered, (question, box)
    assert chat.locator("#qa-chat .scroll-down-button-container").filter(visible=True).count() == 0
    inert(chat)
    name = "screenshot.png" if chat.width >= 1000 else "screenshot-phone.png"
    ask(chat, FIVE_QUESTIONS[0])
    path = tmp_path / name
    chat.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get("QA_SAVE_SCREENSHOT") == "1":
        shutil.copyfile(path, REPO_ROOT / "docs" / name)


def test_examples_come_from_the_articles_and_are_asked_on_click(desktop, server):
    examples = desktop.locator("#qa-chat .example")
    assert examples.count() >= 2
    shown = examples.all_inner_texts()
    made = json.loads((server.index / EXAMPLES_FILE).read_text(encoding="utf-8"))["questions"]
    assert [text.strip() for text in shown] == made
    # The article with markup gave an example: shown as its text, never run.
    assert any(EXAMPLE_MARKUP in text for text in shown), shown
    inert(desktop)
    first = made[0]
    examples.first.click()
    desktop.wait_for_selector("#qa-chat .qa-reply", timeout=REPLY_TIMEOUT_MS)
    assert desktop.locator("#qa-chat .qa-question").first.inner_text() == first
    reply = desktop.locator("#qa-chat .qa-reply").last
    assert reply.locator(".qa-answer").count() == 1 and reply.locator(".qa-no-answer").count() == 0
    assert examples.count() == 0  # the start screen is gone
    assert desktop.locator("#qa-chat .message-row").count() == 2  # the question once, its answer
    markup = next(q for q in made if EXAMPLE_MARKUP in q)
    reply = ask(desktop, markup)
    assert "4,100" in reply.locator(".qa-answer").inner_text()
    assert EXAMPLE_MARKUP in desktop.locator("#qa-chat .qa-question").last.inner_text()
    inert(desktop)


def test_copy_gives_the_answer_and_its_sources_as_plain_text(desktop):
    reply = ask(desktop, HOSTILE_QUESTION)
    answer = reply.locator(".qa-answer").inner_text()
    last_bot_message(desktop).get_by_role("button", name="Copy message", exact=True).click()
    desktop.wait_for_timeout(300)
    copied = desktop.evaluate("navigator.clipboard.readText()")
    lines = copied.splitlines()
    assert lines[0] == answer
    assert "<div" not in copied and "class=" not in copied and "&lt;" not in copied
    # numbered sources: title (its markup as text), date, where, the quoted sentence
    assert f"[1] {HOSTILE_TITLE} (2021-05-05) hostile.md" in lines
    quoted = [line for line in lines if line.startswith("    paragraph ")]
    assert quoted and all(line.endswith('"') for line in quoted)
    assert any(HOSTILE_IMG in line or "7,300" in line for line in quoted), quoted
    # The screen reader label is that plain text too, not the HTML.
    label = last_bot_message(desktop).locator('[aria-label^="bot\'s message: "]').get_attribute("aria-label")
    assert label.startswith(f"bot's message: {answer} ") and "<div" not in label
    # The whole conversation copies as text as well.
    desktop.locator("#qa-chat").get_by_role("button", name="Copy conversation", exact=True).click()
    desktop.wait_for_timeout(300)
    conversation = desktop.evaluate("navigator.clipboard.readText()")
    assert HOSTILE_QUESTION in conversation and f"[1] {HOSTILE_TITLE}" in conversation
    assert "<div" not in conversation and "class=" not in conversation
    question_label = desktop.locator('[aria-label^="user\'s message: "]').last.get_attribute("aria-label")
    assert question_label == f"user's message: {HOSTILE_QUESTION}"
    inert(desktop)


def test_retry_asks_again_with_the_options_now_set_and_undo_takes_back(desktop):
    reply = ask(desktop, FIVE_QUESTIONS[0])
    assert "2,600" in reply.locator(".qa-answer").inner_text()
    rows = desktop.locator("#qa-chat .message-row")
    before = rows.count()
    desktop.get_by_label("Date from", exact=True).fill("2024")  # only the rate reports are left
    desktop.locator("#qa-chat").get_by_role("button", name="Retry", exact=True).click()
    desktop.wait_for_function(
        "(r => r !== null && !r.innerText.includes('2,600'))(document.querySelector('#qa-chat .qa-reply'))",
        timeout=REPLY_TIMEOUT_MS,
    )
    desktop.wait_for_timeout(500)
    assert rows.count() == before  # the same question, one new answer in place of the old
    dates = desktop.locator("#qa-chat .qa-reply .qa-date").all_inner_texts()
    assert dates and all(date >= "2024" for date in dates)
    desktop.get_by_label("Date from", exact=True).fill("")
    ask(desktop, FIVE_QUESTIONS[1])
    desktop.locator("#qa-chat").get_by_role("button", name="Undo", exact=True).click()
    desktop.wait_for_function("document.querySelectorAll('#qa-chat .qa-reply').length == 1", timeout=10_000)
    assert desktop.locator("#qa-question textarea").input_value() == FIVE_QUESTIONS[1]
    # Clear: a new conversation (a follow-up finds nothing to build on) and the examples again.
    desktop.locator("#qa-chat").get_by_role("button", name="Clear", exact=True).click()
    desktop.wait_for_function("document.querySelectorAll('#qa-chat .qa-reply').length == 0", timeout=10_000)
    assert desktop.locator("#qa-chat .example").count() >= 2
    reply = ask(desktop, "When did he say that?")
    assert reply.locator(".qa-searched").count() == 0


def test_thumbs_are_saved_beside_the_index_and_read_back_by_qa_eval(desktop, server):
    feedback = server.index / FEEDBACK_FILE
    lines_before = feedback.read_text(encoding="utf-8").count("\n") if feedback.exists() else 0
    liked = ask(desktop, FIVE_QUESTIONS[0]).locator(".qa-answer").inner_text()  # (.last moves on)
    last_bot_message(desktop).get_by_role("button", name="Like", exact=True).click()
    ask(desktop, HOSTILE_QUESTION)
    last_bot_message(desktop).get_by_role("button", name="Dislike", exact=True).click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = feedback.read_text(encoding="utf-8") if feedback.exists() else ""
        if text.count("\n") >= lines_before + 2:
            break
        time.sleep(0.3)
    records = [json.loads(line) for line in text.splitlines()[lines_before:]]
    assert [r["rating"] for r in records] == ["up", "down"]
    up, down = records
    assert up["question"] == FIVE_QUESTIONS[0] and up["answer"] == liked
    assert up["reader"].startswith("bundled:") and up["index_generation"].startswith("gen-")
    assert up["citations"] and up["citations"][0]["text"][up["citations"][0]["start"] :].startswith(
        up["answer"]
    )
    assert down["question"] == HOSTILE_QUESTION
    assert any(c["title"] == HOSTILE_TITLE for c in down["citations"])  # kept as text, as it is
    inert(desktop)
    questions = {q.question: q for q in load_questions(feedback).questions}
    assert up["answer"] in questions[FIVE_QUESTIONS[0]].answers
    rejected = questions[HOSTILE_QUESTION]
    assert not rejected.has_answer and rejected.wrong_answers == ((down["answer"],) if down["answer"] else ())


def test_an_empty_message_shows_a_one_line_hint(desktop):
    box = desktop.locator("#qa-question textarea")
    box.fill("   ")
    box.press("Enter")
    hint = desktop.locator("#qa-hint")
    hint.wait_for(state="visible", timeout=10_000)
    assert hint.inner_text().startswith("Type a question first")
    assert hint.bounding_box()["height"] < 2 * 24  # one line
    assert desktop.locator("#qa-chat .message-row").count() == 0
    ask(desktop, FIVE_QUESTIONS[0])
    assert not hint.is_visible()
