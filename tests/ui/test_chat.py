"""Chat reply formatting: bold answer, numbered citations, highlight at the reader's offsets, escaping."""

from __future__ import annotations

import re

from qa.types import Answer, Citation
from qa.ui.chat import (
    escape,
    format_notice,
    format_question,
    format_reply,
    highlight,
    markdown_text,
    plain_reply,
    quoted_sentence,
    safe_url,
)

TEXT = "The fare is 2 euros. Since March the fare is 2 euros for students and 3 for adults."


def cite(
    text=TEXT,
    start=None,
    end=None,
    *,
    title="Fares rise",
    source="https://example.org/fares",
    date="2024-03-14",
    passage_id="fares.md::0.0",
    paragraph=0,
) -> Citation:
    return Citation(
        passage_id=passage_id,
        article_id=passage_id.split("::")[0],
        title=title,
        date=date,
        source=source,
        paragraph=paragraph,
        start=start,
        end=end,
        text=text,
        score=0.5,
    )


def answer(text, citations, **kwargs) -> Answer:
    kwargs.setdefault("question", "How much is the fare?")
    kwargs.setdefault("confidence", 0.8 if text is not None else None)
    kwargs.setdefault("no_answer_score", 0.1)
    kwargs.setdefault("reader", "bundled:test")
    return Answer(answer=text, citations=tuple(citations), **kwargs)


def test_answer_is_bold_and_citations_are_numbered_links():
    second = cite(
        "Tickets: 2 euros.", 9, 16, title="Tickets", source="http://news.example/t", passage_id="t.md::3.0"
    )
    reply = format_reply(answer("2 euros", [cite(start=12, end=19), second]))
    assert "<strong>2 euros</strong>" in reply
    assert "[1]" in reply and "[2]" in reply and "[3]" not in reply
    assert reply.index("Fares rise") < reply.index("Tickets")
    hrefs = re.findall(r'href="([^"]*)"', reply)
    assert hrefs == ["https://example.org/fares", "http://news.example/t"]
    assert 'target="_blank"' in reply and 'rel="noopener noreferrer"' in reply
    assert "2024-03-14" in reply
    assert "2 sources give this answer" in reply


def test_highlight_uses_the_offsets_not_the_first_occurrence():
    second = TEXT.index("2 euros", TEXT.index("2 euros") + 1)
    marked = highlight(TEXT, second, second + len("2 euros"))
    assert marked.count("<mark") == 1
    before, rest = marked.split('<mark class="qa-mark">')
    assert before == TEXT[:second]
    assert rest.startswith("2 euros</mark> for students")
    # and through the whole reply
    reply = format_reply(answer("2 euros", [cite(start=second, end=second + 7)]))
    assert "Since March the fare is <mark" in reply


def test_highlight_with_bad_offsets_marks_nothing():
    assert "<mark" not in highlight(TEXT, None, None)
    assert "<mark" not in highlight(TEXT, 5, 500)
    assert "<mark" not in highlight(TEXT, 7, 7)


def test_highlight_escapes_the_pieces_around_the_mark():
    text = "a <b>bold</b> claim costs <i>3</i> euros"
    start = text.index("<i>3</i>")
    marked = highlight(text, start, start + len("<i>3</i>"))
    assert (
        marked
        == 'a &lt;b&gt;bold&lt;/b&gt; claim costs <mark class="qa-mark">&lt;i&gt;3&lt;/i&gt;</mark> euros'
    )


def test_first_citation_is_open_the_rest_closed():
    reply = format_reply(
        answer("2 euros", [cite(start=12, end=19), cite(start=12, end=19, passage_id="b::0.0")])
    )
    assert reply.count("<details") == 2
    assert reply.count('<details class="qa-citation" open>') == 1


def test_no_answer_says_so_and_lists_closest_passages_and_candidates():
    candidate = answer("3", [cite(start=TEXT.index("3"), end=TEXT.index("3") + 1)], confidence=0.2)
    reply = format_reply(
        answer(
            None,
            [cite(), cite("Another close passage.", passage_id="other.md::1.0", title="Other")],
            confidence=None,
            no_answer_score=0.9,
            alternatives=(candidate,),
        )
    )
    assert "do not hold an answer" in reply
    assert "Closest passages" in reply
    assert "[1]" in reply and "[2]" in reply and "Another close passage." in reply
    assert "Candidates considered" in reply and "<strong>3</strong>" in reply
    # closest passages carry no answer: nothing to mark
    assert "<mark" not in reply


def test_a_span_declined_as_too_weak_is_not_called_absent_from_the_articles():
    # The reader put 0.31 on "1400" and 0.001 on "no answer"; the threshold's margin declined it.
    candidate = answer("1400", [cite(start=0, end=4)], confidence=0.31)
    reply = format_reply(
        answer(None, [cite()], confidence=None, no_answer_score=0.001, alternatives=(candidate,))
    )
    assert "none is clear enough to give" in reply and "do not hold an answer" not in reply
    assert "Candidates considered" in reply and "<strong>1400</strong>" in reply


def test_no_answer_without_passages():
    reply = format_reply(answer(None, [], no_answer_score=1.0))
    assert "do not hold an answer" in reply and "No passage matched" in reply


def test_searched_for_shown_only_when_it_differs():
    same = format_reply(answer("2 euros", [cite(start=12, end=19)], search_query="How much is the fare?"))
    assert "Searched for" not in same
    rewritten = format_reply(
        answer(
            "2 euros",
            [cite(start=12, end=19)],
            question="And for students?",
            search_query="And for students? (fare 2 euros)",
        )
    )
    assert "Searched for: And for students? (fare 2 euros)" in rewritten
    assert "reader: bundled:test" in rewritten


HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def test_hostile_title_text_source_and_answer_are_escaped():
    text = f"Before {HOSTILE} after"
    start = text.index("<img")
    bad = cite(
        text,
        start,
        start + 10,
        title=HOSTILE,
        source='"><script>alert(3)</script>',
        date="<b>2020</b>",
        passage_id='"><svg onload=alert(4)>.md::0.0',
    )
    reply = format_reply(answer(text[start : start + 10], [bad], search_query=HOSTILE))
    for tag in ("<script", "<img", "<b>", "<svg", "alert(3)"):
        assert tag not in reply, tag
    assert "&quot;&gt;&lt;svg onload=alert(4)&gt;.md" in reply  # cannot close an attribute or a tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply
    assert "href" not in reply  # the source is not a URL: not a link
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in reply


def test_javascript_and_other_schemes_are_not_links():
    for source in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,<script>1</script>",
        "vbscript:x",
        "file:///etc/passwd",
        "//evil.example/x",
        "articles/a.md",
        "https://",
        "https://exa mple.org",
        "https://example.org/\njavascript:1",
    ):
        reply = format_reply(answer("2 euros", [cite(start=12, end=19, source=source)]))
        assert "href" not in reply, source
        assert safe_url(source) is None, source
    assert safe_url("HTTPS://Example.org/a?b=1&c=2") == "HTTPS://Example.org/a?b=1&c=2"
    reply = format_reply(
        answer("2 euros", [cite(start=12, end=19, source="https://example.org/a?b=1&c=<2>")])
    )
    assert 'href="https://example.org/a?b=1&amp;c=&lt;2&gt;"' in reply


def test_a_source_that_is_not_a_url_shows_the_article_file_not_the_server_path():
    reply = format_reply(answer("2 euros", [cite(start=12, end=19, source="/srv/news/fares.md")]))
    assert "/srv/news" not in reply
    assert '<span class="qa-source">fares.md</span>' in reply


def test_reply_is_one_html_block_without_raw_newlines():
    # Markdown (if it were on) would leave a single newline-free HTML block alone; the chat shows
    # messages with white-space: pre-line, so raw newlines would also add stray blank lines.
    text = "Line one.\n\nLine two with [a link](javascript:alert(1)) and 2 euros."
    start = text.index("2 euros")
    reply = format_reply(answer("2 euros", [cite(text, start, start + 7, title="Two\nlines")]))
    assert "\n" not in reply
    assert "Line one.<br><br>Line two" in reply


def test_control_characters_are_dropped_and_emoji_kept():
    assert escape("a\x00b\x1bc\x7fd\te") == "abcd\te"
    assert escape("fare 🚋 <2>") == "fare 🚋 &lt;2&gt;"


def test_notice_and_question_are_escaped():
    assert format_notice("<b>no</b>") == (
        '<div class="qa-reply qa-notice">&lt;b&gt;no&lt;/b&gt;'
        '<div class="qa-copy">&lt;b&gt;no&lt;/b&gt;</div></div>'
    )
    assert "&lt;script&gt;" in format_question("<script>alert(1)</script>")
    long = format_question("x" * 5000)
    assert "5,000 characters" in long and len(long) < 700


def test_meta_line_shows_reader_score_and_time():
    reply = format_reply(
        answer(
            "2 euros",
            [cite(start=12, end=19)],
            reader="transformers:deepset/tinyroberta-squad2",
            timings_ms={"total_ms": 1234.0},
        )
    )
    assert "reader: transformers:deepset/tinyroberta-squad2" in reply
    assert "confidence 0.80" in reply and "1.23 s" in reply


def test_answer_alternatives_are_listed():
    other = answer(
        "3", [cite(start=TEXT.index("3"), end=TEXT.index("3") + 1, title="Adult fares")], confidence=0.3
    )
    reply = format_reply(answer("2 euros", [cite(start=12, end=19)], alternatives=(other,)))
    assert "Other candidates" in reply and "<strong>3</strong>" in reply and "Adult fares" in reply


def test_markdown_text_cannot_make_links_headings_or_tags():
    text = markdown_text("# Title [click](javascript:alert(1)) <img src=x onerror=alert(2)> *em* $$x$$\nnext")
    assert "\n" not in text
    assert "<img" not in text and "&lt;img" in text
    # every markdown character is backslash-escaped
    assert re.search(r"(?<!\\)[\[\]()#*$]", text) is None, text
    assert text.startswith("\\# Title \\[click\\]\\(javascript:alert\\(1\\)\\)")


def test_two_paragraphs_of_one_article_are_one_source_with_two_passages():
    other = "Students pay 2 euros a ride."
    reply = format_reply(
        answer(
            "2 euros",
            [
                cite(start=12, end=19),
                cite(other, 13, 20, passage_id="fares.md::3.0", paragraph=3),
                cite("Tickets: 2 euros.", 9, 16, title="Tickets", passage_id="t.md::0.0"),
            ],
        )
    )
    assert "2 sources give this answer" in reply and "3 sources" not in reply
    assert reply.count("<details") == 2 and "[3]" not in reply
    first = reply[: reply.index("[2]")]
    assert first.count('<blockquote class="qa-passage">') == 2
    assert "paragraphs 1 and 4" in first and first.count("<mark") == 2
    one = format_reply(answer("2 euros", [cite(start=12, end=19), cite(other, 13, 20, paragraph=3)]))
    assert "Source:" in one and "sources give" not in one


def test_quoted_sentence_is_the_one_with_the_span():
    second = TEXT.index("2 euros", TEXT.index("2 euros") + 1)
    assert (
        quoted_sentence(TEXT, second, second + 7)
        == "Since March the fare is 2 euros for students and 3 for adults."
    )
    assert quoted_sentence(TEXT, 12, 19) == "The fare is 2 euros."
    assert quoted_sentence(TEXT, None, None) == "The fare is 2 euros."
    assert quoted_sentence("No full stop " + "x" * 400, 0, 2).endswith("…")


def test_plain_reply_is_text_with_numbered_sources():
    text = 'Before <img src=x onerror="alert(2)"> the fare is 2 euros. After.'
    start = text.index("2 euros")
    reply = answer(
        "2 euros",
        [
            cite(text, start, start + 7, title="<b>Fares</b>"),
            cite("Tickets: 2 euros.", 9, 16, title="Tickets", source="/srv/t.md", passage_id="t.md::0.0"),
        ],
        note="A newer article (2024-09-12) says: 3 euros",
    )
    plain = plain_reply(reply)
    assert plain.splitlines()[:2] == ["2 euros", "A newer article (2024-09-12) says: 3 euros"]
    assert "[1] <b>Fares</b> (2024-03-14) https://example.org/fares" in plain  # text, as it is
    assert 'paragraph 1: "Before <img src=x onerror="alert(2)"> the fare is 2 euros."' in plain
    assert "[2] Tickets (2024-03-14) t.md" in plain and "/srv" not in plain
    # in the HTML it is hidden, escaped text
    html_reply = format_reply(reply)
    assert "<img" not in html_reply and "&lt;b&gt;Fares&lt;/b&gt; (2024-03-14)" in html_reply
    no_answer = plain_reply(answer(None, [cite()], confidence=None, no_answer_score=0.9))
    assert no_answer.startswith("The articles do not hold an answer") and "Closest passages:" in no_answer
