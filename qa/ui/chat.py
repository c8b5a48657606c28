"""Answer -> chat reply: the answer in bold, numbered citations that open on the highlighted paragraph.

Everything that comes from an article (title, date, source, text) or from the user is untrusted and
goes through `escape` before it meets markup. The chat app shows these replies with markdown
rendering off, so the string is plain HTML (the browser's sanitizer then runs on it as a second
line of defence); the markup holds no raw newlines, so even a markdown renderer would see one
HTML block and leave its inside alone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from qa.answer.compose import NO_ANSWER, NO_CLEAR_ANSWER
from qa.types import Answer, Citation

# Characters of source URL shown as a link's text; the full URL is in the href and the tooltip.
MAX_LINK_CHARS = 60
# Alternatives (other candidate answers) listed under an answer.
MAX_ALTERNATIVES_SHOWN = 3
# A pasted novel is refused by the pipeline; the chat echoes only its start.
MAX_QUESTION_SHOWN = 500


# Control characters other than tab and newline mean nothing on screen (and NUL is an HTML parse error).
_INVISIBLE = {code: None for code in (*range(0, 9), 11, 12, *range(14, 32), 127)}


def escape(text: object) -> str:
    """Untrusted text -> HTML text: <, >, &, quotes escaped; control characters dropped; line breaks as
    <br>."""
    escaped = html.escape(
        str(text).replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE), quote=True
    )
    return escaped.replace("\n", "<br>")


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def markdown_text(text: object) -> str:
    """Untrusted text for a Markdown component: punctuation backslash-escaped, then HTML-escaped.

    Markdown would otherwise turn "[x](javascript:...)" into a link or "# x" into a heading.
    """
    flat = " ".join(str(text).translate(_INVISIBLE).split())
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", flat), quote=False)


def safe_url(source: str | None) -> str | None:
    """The source when it is an absolute http(s) URL with a host, else None (shown as text, not a link)."""
    if not source:
        return None
    source = source.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in source):
        return None
    try:
        parts = urlsplit(source)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return source


def _link_text(url: str) -> str:
    parts = urlsplit(url)
    text = parts.netloc + parts.path.rstrip("/")
    return text if len(text) <= MAX_LINK_CHARS else text[: MAX_LINK_CHARS - 1] + "…"


def format_source(source: str | None, fallback: str = "") -> str:
    """A link for an http(s) URL; otherwise `fallback` (e.g. the article's file name) as text.

    A source that is not a web address (a server-side path, a javascript: URL) is never linked,
    and never shown either when a fallback is given: a reader gains nothing from a server path.
    """
    url = safe_url(source)
    if url is None:
        shown = fallback or source
        return f'<span class="qa-source">{escape(shown)}</span>' if shown else ""
    return (
        f'<a class="qa-source" href="{escape(url)}" title="{escape(url)}" target="_blank" '
        f'rel="noopener noreferrer">{escape(_link_text(url))}</a>'
    )


def highlight(text: str, start: int | None, end: int | None) -> str:
    """The passage, escaped, with <mark> around text[start:end] exactly (the reader's offsets).

    No offsets (a passage cited without an answer) or offsets outside the text give the
    passage without a mark rather than a guess.
    """
    if start is None or end is None or not 0 <= start < end <= len(text):
        return escape(text)
    return f'{escape(text[:start])}<mark class="qa-mark">{escape(text[start:end])}</mark>{escape(text[end:])}'


def format_citation(number: int, citation: Citation, *, open_: bool = False) -> str:
    """One numbered source of one passage: see `format_source_group`."""
    return format_source_group(number, (citation,), open_=open_)


def group_by_article(citations: Sequence[Citation]) -> list[tuple[Citation, ...]]:
    """Citations grouped by article, in the order each article first appears: two paragraphs of one
    article are one source with two passages."""
    groups: dict[str, list[Citation]] = {}
    for citation in citations:
        groups.setdefault(citation.article_id, []).append(citation)
    return [tuple(group) for group in groups.values()]


def _paragraphs(group: Sequence[Citation]) -> str:
    numbers = [str(c.paragraph + 1) for c in group]
    if len(numbers) == 1:
        return f"paragraph {numbers[0]}"
    return f"paragraphs {', '.join(numbers[:-1])} and {numbers[-1]}"


def format_source_group(number: int, group: Sequence[Citation], *, open_: bool = False) -> str:
    """One numbered source (an article): title, date, paragraphs and link; opening it shows each cited
    paragraph with the answer marked."""
    first = group[0]
    meta = [f'<span class="qa-title">{escape(first.title or first.article_id)}</span>']
    meta.append(f'<span class="qa-date">{escape(first.date or "undated")}</span>')
    # Several passages of one article look alike when closed; the paragraph tells them apart.
    meta.append(f'<span class="qa-where">{_paragraphs(group)}</span>')
    source = format_source(first.source, fallback=first.article_id)
    if source:
        meta.append(source)
    passages = "".join(
        f'<blockquote class="qa-passage">{highlight(c.text, c.start, c.end)}</blockquote>' for c in group
    )
    return (
        f'<details class="qa-citation"{" open" if open_ else ""}>'
        f'<summary><span class="qa-number">[{number}]</span> {" · ".join(meta)}</summary>'
        f"{passages}</details>"
    )


def _meta_line(answer: Answer) -> str:
    parts = []
    if answer.search_query and answer.search_query.strip() != answer.question.strip():
        parts.append(f'<span class="qa-searched">Searched for: {escape(answer.search_query)}</span>')
    parts.append(f'<span class="qa-reader">reader: {escape(answer.reader)}</span>')
    if answer.answer is not None:
        parts.append(f'<span class="qa-score">confidence {answer.confidence:.2f}</span>')
    total_ms = answer.timings_ms.get("total_ms") if answer.timings_ms else None
    if total_ms is not None:
        parts.append(f'<span class="qa-time">{total_ms / 1000:.2f} s</span>')
    return f'<div class="qa-meta"><small>{" · ".join(parts)}</small></div>'


def _alternative(candidate: Answer) -> str:
    where = ""
    if candidate.citations:
        first = candidate.citations[0]
        dated = f", {escape(first.date)}" if first.date else ""
        where = f" <small>in {escape(first.title or first.article_id)}{dated}</small>"
    return (
        f"<li><strong>{escape(candidate.answer)}</strong> "
        f"<small>(confidence {candidate.confidence:.2f})</small>{where}</li>"
    )


def format_reply(answer: Answer) -> str:
    """The chat reply for an Answer, as one HTML block (see the module docstring on escaping).

    Example:
        >>> from qa.types import Answer, Citation
        >>> c = Citation("a::0.0", "a", "Tram opens", "2024-03-14", "https://example.org/t", 0,
        ...              9, 25, "The tram cost 412 million euros.", 0.9)
        >>> answer = Answer("Cost?", "cost 412 million", 0.8, 0.1, "bundled:r", (c,))
        >>> "<strong>cost 412 million</strong>" in format_reply(answer)
        True
    """
    parts = ['<div class="qa-reply">']
    if answer.answer is not None:
        parts.append(f'<p class="qa-answer"><strong>{escape(answer.answer)}</strong></p>')
        if answer.note:
            parts.append(f'<p class="qa-note">{escape(answer.note)}</p>')
        groups = group_by_article(answer.citations)
        if groups:
            label = "Source" if len(groups) == 1 else f"{len(groups)} sources give this answer"
            parts.append(f'<div class="qa-label">{label}:</div>')
        for number, group in enumerate(groups, start=1):
            parts.append(format_source_group(number, group, open_=number == 1))
        others = [a for a in answer.alternatives if a.answer][:MAX_ALTERNATIVES_SHOWN]
        if others:
            parts.append(
                f'<details class="qa-others"><summary>Other candidates ({len(others)})</summary>'
                '<ul class="qa-alternatives">'
            )
            parts.extend(_alternative(a) for a in others)
            parts.append("</ul></details>")
    else:
        headline = NO_CLEAR_ANSWER if answer.too_weak_to_give else NO_ANSWER
        parts.append(f'<p class="qa-answer qa-no-answer"><strong>{headline}</strong></p>')
        if answer.citations:
            parts.append('<div class="qa-label">Closest passages, so you can judge for yourself:</div>')
            for number, group in enumerate(group_by_article(answer.citations), start=1):
                parts.append(format_source_group(number, group))
        else:
            parts.append('<div class="qa-label">No passage matched the question (or the filters).</div>')
        candidates = [a for a in answer.alternatives if a.answer][:MAX_ALTERNATIVES_SHOWN]
        if candidates:
            parts.append('<div class="qa-label">Candidates considered, too weak to give as an answer:</div>')
            parts.append('<ul class="qa-alternatives">')
            parts.extend(_alternative(a) for a in candidates)
            parts.append("</ul>")
    parts.append(_meta_line(answer))
    parts.append(_hidden_plain(plain_reply(answer)))
    parts.append("</div>")
    return "".join(parts)


def format_notice(message: str) -> str:
    """A reply that is not an answer (a refused question, a bad filter, an apology), escaped."""
    return f'<div class="qa-reply qa-notice">{escape(message)}{_hidden_plain(message)}</div>'


def format_question(question: str) -> str:
    """The user's own message as it is shown in the chat: text, never markup (a long one cut short)."""
    if len(question) > MAX_QUESTION_SHOWN:
        question = f"{question[:MAX_QUESTION_SHOWN]}… ({len(question):,} characters)"
    return f'<span class="qa-question">{escape(question)}</span>'


# --------------------------------------------------------------------------- the reply as plain text

# Characters of a quoted sentence in the plain text; a run-on paragraph is cut there.
MAX_QUOTE_CHARS = 300
# Where a sentence ends: . ! or ? (and a closing quote or bracket), then white space.
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+")


def quoted_sentence(text: str, start: int | None, end: int | None) -> str:
    """The sentence of `text` that holds text[start:end] (the first sentence without offsets), cut
    at MAX_QUOTE_CHARS around the span."""
    if start is None or end is None or not 0 <= start < end <= len(text):
        start = end = 0
    first, last = 0, len(text)
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.end() <= start:
            first = boundary.end()
        elif boundary.start() >= max(end - 1, 0):
            last = boundary.start() + 1
            break
    sentence = " ".join(text[first:last].split())
    if len(sentence) > MAX_QUOTE_CHARS:
        sentence = sentence[: MAX_QUOTE_CHARS - 1] + "…"
    return sentence


def _plain_source(number: int, group: Sequence[Citation]) -> list[str]:
    first = group[0]
    url = safe_url(first.source)
    lines = [
        f"[{number}] {first.title or first.article_id} ({first.date or 'undated'}) {url or first.article_id}"
    ]
    for c in group:
        lines.append(f'    paragraph {c.paragraph + 1}: "{quoted_sentence(c.text, c.start, c.end)}"')
    return lines


def plain_reply(answer: Answer) -> str:
    """The reply as plain text, to copy or to read aloud: the answer, the note, then the numbered
    sources (title, date, link, the quoted sentence).

    >>> from qa.types import Answer, Citation
    >>> c = Citation("a::0.0", "a", "Tram opens", "2024-03-14", "https://example.org/t", 0,
    ...              9, 25, "Opened. The tram cost 412 million. Fine.", 0.9)
    >>> print(plain_reply(Answer("Cost?", "cost 412 million", 0.8, 0.1, "bundled:r", (c,))))
    cost 412 million
    <BLANKLINE>
    Source:
    [1] Tram opens (2024-03-14) https://example.org/t
        paragraph 1: "The tram cost 412 million."
    """
    groups = group_by_article(answer.citations)
    if answer.answer is not None:
        lines = [answer.answer]
        if answer.note:
            lines.append(answer.note)
        label = "Source:" if len(groups) == 1 else f"{len(groups)} sources give this answer:"
    else:
        lines = [NO_CLEAR_ANSWER if answer.too_weak_to_give else NO_ANSWER]
        label = "Closest passages:"
    if groups:
        lines += ["", label]
        for number, group in enumerate(groups, start=1):
            lines += _plain_source(number, group)
    return "\n".join(lines)


def _hidden_plain(text: str) -> str:
    """The plain text inside the reply, hidden (CSS): what the browser copies and gives screen readers
    as the message's label (qa/ui/script.py), escaped like everything else."""
    return f'<div class="qa-copy">{escape(text)}</div>'
