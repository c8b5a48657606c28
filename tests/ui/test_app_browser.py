"""The chat app in a real browser: answers with checkable citations, follow-ups, no-answer, hostile text.

(The README's screenshots are taken by tests/ui/test_chat_controls.py.)
"""

from __future__ import annotations

import pytest
from apphelpers import (
    HOSTILE_IMG,
    HOSTILE_TITLE,
    running_app,
    write_corpus,
)

from qa.retrieve.conversation import Turn, contextualize

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPLY_TIMEOUT_MS = 60_000
SOURCE_URL = "https://lanternpost.example/bluewake-answers-ministry-refunds/"  # the story pair's web page
QUESTION = "How many customer accounts were broken into?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("app_browser")
    with running_app(write_corpus(root / "articles"), root / "index", root / "app.log") as app:
        yield app


@pytest.fixture(scope="module")
def page(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    page.goto(server.url)
    page.wait_for_selector("#qa-question textarea", timeout=REPLY_TIMEOUT_MS)
    yield page
    page.close()


def filter_box(page, label: str):
    return page.get_by_label(label, exact=True)


class Chat:
    """Type questions into the app and read the replies."""

    def __init__(self, page):
        self.page = page
        self.box = page.locator("#qa-question textarea")

    def ask(self, question: str):
        before = self.page.locator(".qa-reply").count()
        self.box.fill(question)
        self.box.press("Enter")
        self.page.wait_for_function(
            f"document.querySelectorAll('.qa-reply').length > {before}", timeout=REPLY_TIMEOUT_MS
        )
        return self.page.locator(".qa-reply").last


def test_answer_with_its_sources_and_highlight(page):
    reply = Chat(page).ask(QUESTION)
    answer = reply.locator(".qa-answer strong").inner_text()
    assert answer == "2,600"
    citations = reply.locator("details.qa-citation")
    assert citations.count() >= 1
    first = citations.first
    assert first.locator(".qa-number").inner_text() == "[1]"
    # the first source is open, the answer marked inside its paragraph
    assert first.get_attribute("open") is not None
    # (two paragraphs of one article are one source with two passages: the first holds the span)
    assert first.locator("mark").first.inner_text() == answer
    assert "customer accounts were broken into" in " ".join(first.locator(".qa-passage").all_inner_texts())
    assert "2023-11-08" in first.locator("summary").inner_text()
    # any further source is closed until opened, then shows its own mark
    for number, citation in enumerate(citations.all()[1:], start=2):
        assert citation.locator(".qa-number").inner_text() == f"[{number}]"
        assert citation.get_attribute("open") is None
        assert not citation.locator("mark").first.is_visible()
        citation.locator("summary .qa-number").click()
        assert citation.locator("mark").first.is_visible()
        assert citation.locator("mark").first.inner_text().replace(",", "") == answer.replace(",", "")


def test_citation_links_to_the_source(page):
    source = filter_box(page, "Source contains")
    source.fill("lanternpost")
    try:
        reply = Chat(page).ask("Whom did Bluewake ask to investigate?")
    finally:
        source.fill("")
    links = reply.locator("a.qa-source")
    assert links.count() >= 1
    for link in links.all():
        assert link.get_attribute("href") == SOURCE_URL
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener noreferrer"
    assert links.first.is_visible()
    assert "lanternpost.example/bluewake-answers" in links.first.inner_text()


def test_follow_up_uses_the_conversation(browser, server):
    # A new browser tab is a new session: the conversation starts here.
    page = browser.new_page(viewport={"width": 1280, "height": 1280})
    try:
        page.goto(server.url)
        page.wait_for_selector("#qa-question textarea", timeout=REPLY_TIMEOUT_MS)
        chat = Chat(page)
        question = "Who is the Transport Minister of Ardenia?"
        reply = chat.ask(question)
        assert "Searched for" not in reply.inner_text()  # a self-contained question is searched as asked
        answer = None if reply.locator(".qa-no-answer").count() else reply.locator(".qa-answer").inner_text()
        assert answer
        reply = chat.ask("When did he say that?")
        expected = contextualize("When did he say that?", [Turn(question, answer)])
        assert expected != "When did he say that?"
        assert reply.locator(".qa-searched").inner_text() == f"Searched for: {expected}"
        assert reply.locator(".qa-answer").count() == 1
        # For a person to look at (pytest --basetemp): a question and a follow-up, each answer with
        # its source open on the paragraph, the answer marked.
        path = server.log_path.parent / "follow-up.png"
        page.wait_for_timeout(300)
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
    finally:
        page.close()


def test_a_now_question_is_answered_from_the_newest_article(page, tmp_path):
    # Whether the June figure also shows as a note depends on how close the reader scores it; the
    # note's own rendering is tested in tests/ui/test_chat.py and tests/answer/test_recency.py.
    reply = Chat(page).ask("What is the Central Bank of Ardenia's main interest rate now?")
    assert "4.5 percent" in reply.locator(".qa-answer strong").inner_text()
    assert "2024-09-12" in reply.locator("details.qa-citation").first.locator(".qa-date").inner_text()
    reply.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "recency.png"))  # for a person to look at (pytest --basetemp)


def test_no_answer_reply_lists_closest_passages(page):
    reply = Chat(page).ask("Who won the Eurovision Song Contest in 2024?")
    assert "do not hold an answer" in reply.locator(".qa-answer").inner_text()
    assert "Closest passages" in reply.inner_text()
    assert reply.locator("details.qa-citation").count() >= 1
    assert reply.locator("mark").count() == 0


def test_hostile_article_shows_as_text(page):
    reply = Chat(page).ask("What was planted in the Zorblatt bulletin?")
    page.wait_for_timeout(300)  # give any injected handler the chance to run
    first = reply.locator("details.qa-citation").first
    assert HOSTILE_TITLE in first.locator("summary").inner_text()  # the literal markup is visible
    passage = " ".join(first.locator(".qa-passage").all_inner_texts())
    assert HOSTILE_IMG in passage and "<script>window.__xss=4</script>" in passage
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#qa-chat script, #qa-chat img[src='x']").count() == 0
    # its source is not a URL (ingestion keeps only http(s) sources): nothing to click
    assert reply.locator("a[href^='javascript']").count() == 0


def test_odd_messages_get_clear_replies(page):
    chat = Chat(page)
    assert "at most 2,000" in chat.ask("why " * 600).inner_text()
    reply = chat.ask(QUESTION + " \U0001f575\u200b\x07")
    assert "2,600" in reply.locator(".qa-answer").inner_text()
    # Nothing asked, nothing added: no question bubble and no answer bubble without a question.
    bubbles = page.locator("#qa-chat .message-row")
    before = bubbles.count()
    assert before >= 4  # the two questions above and their replies
    chat.box.fill("   ")
    chat.box.press("Enter")
    page.wait_for_timeout(1500)
    assert bubbles.count() == before
    reply = chat.ask("<b>bold</b> <script>window.__xss=5</script> question?")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert "<script>window.__xss=5</script>" in page.locator(".qa-question").last.inner_text()
    assert reply.is_visible()
    assert page.locator(".toast-body").count() == 0  # no error toasts, only replies


def test_malformed_date_filter_gets_a_clear_reply(page):
    date_from = filter_box(page, "Date from")
    chat = Chat(page)
    try:
        date_from.fill("2019-13-45")
        assert "must be a date written YYYY" in chat.ask(QUESTION).inner_text()
        date_from.fill("2024")
        reply = chat.ask(QUESTION)
        # the story pair is from 2023 and the hostile article from 2021: only the rate reports (2024) are left
        dates = reply.locator(".qa-date").all_inner_texts()
        assert dates and all(date >= "2024" for date in dates), dates
        assert "2,600" not in reply.inner_text()
    finally:
        date_from.fill("")
