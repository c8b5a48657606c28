"""What `qa` prints in a terminal: an answer with its sources, a build's report, an index's status."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from qa.answer.compose import NO_ANSWER, NO_CLEAR_ANSWER
from qa.printable import printable as safe

if TYPE_CHECKING:
    from qa.store.report import BuildReport, IndexStatus
    from qa.types import Answer

# A passage is quoted this far on each side of the answer.
CONTEXT_CHARS = 120


def format_answer(answer: Answer) -> str:
    """The answer for a terminal: the span in context, then numbered sources."""
    lines = []
    if answer.answer is None and not answer.citations:
        lines.append("No indexed passage matches this question and its filters (--from, --to, --source).")
    elif answer.answer is None:
        lines.append(f"{NO_CLEAR_ANSWER if answer.too_weak_to_give else NO_ANSWER} Closest passages:")
    else:
        lines.append(f"Answer: {safe(answer.answer)}")
    if answer.confidence is not None:
        lines.append(f"(confidence {answer.confidence:.2f}, reader: {answer.reader})")
    else:
        lines.append(f"(no-answer score {answer.no_answer_score:.2f}, reader: {answer.reader})")
    if answer.note:
        lines.append(f"Note: {safe(answer.note)}")
    weak = [a for a in answer.alternatives if a.answer] if answer.answer is None else []
    if weak:
        listed = "; ".join(f"{safe(a.answer)!r} ({a.confidence:.2f})" for a in weak[:3])
        lines.append(f"Candidates considered, too weak to give as an answer: {listed}")
    if answer.search_query and answer.search_query != answer.question:
        lines.append(f"Searched for: {safe(answer.search_query)}")
    for number, citation in enumerate(answer.citations, start=1):
        meta = " - ".join(x for x in (citation.title, citation.date or "", citation.source) if x)
        lines.append(f"[{number}] {safe(meta)}")
        # Numbered from 1, as in the chat; the JSON keeps the 0-based index.
        lines.append(f"    paragraph {citation.paragraph + 1}: {safe(_snippet(citation))}")
    return "\n".join(lines)


def _snippet(citation) -> str:
    text = citation.text
    if citation.start is None:
        return text[:240] + ("..." if len(text) > 240 else "")
    cut_before, cut_after = citation.start > CONTEXT_CHARS, citation.end + CONTEXT_CHARS < len(text)
    before = text[max(0, citation.start - CONTEXT_CHARS) : citation.start]
    after = text[citation.end : citation.end + CONTEXT_CHARS]
    # Cut at a space, never inside a word ("...mised"); "..." only where the passage is cut,
    # never "...." after a sentence's own full stop.
    if cut_before and " " in before:
        before = before.split(" ", 1)[1]
    if cut_after and " " in after:
        after = after.rsplit(" ", 1)[0].rstrip(",;:")
    return (
        ("..." if cut_before else "")
        + f"{before}[{text[citation.start : citation.end]}]{after}"
        + ("..." if cut_after else "")
    )


def format_status(location: object, status: IndexStatus) -> str:
    """`qa index --status`: what is stale, one article a line."""
    lines = [f"{location}: {status.describe()}"]
    for label, ids in (("new", status.added), ("changed", status.changed), ("removed", status.removed)):
        lines += [f"  {label}: {safe(article_id)}" for article_id in ids]
    lines += [f"  skipped: {safe(s.path)} ({safe(s.reason)})" for s in status.skipped]
    return "\n".join(lines)


def format_build(location: object, articles: Path, report: BuildReport) -> str:
    """`qa index`: what the build did, and the figures a user sizing a big archive needs."""
    status = report.status
    if report.generation is None:
        lines = [
            f"{location}: already up to date ({report.passages} passages from {status.unchanged} articles)"
        ]
    else:
        resumed = (
            f", {report.resumed_passages} of them from the interrupted build's checkpoints"
            if report.resumed_passages
            else ""
        )
        lines = [
            f"Indexed {safe(articles)} -> {location}: {report.passages} passages "
            f"({report.embedded_passages} embedded{resumed}, "
            f"{report.passages - report.embedded_passages} reused; "
            f"{len(status.added)} new, {len(status.changed)} changed, "
            f"{len(status.removed)} removed articles) in {report.seconds:.1f} s",
            _build_figures(report),
        ]
    if status.skipped:
        # A JSONL file or a WARC skips lines or records one by one: count both.
        files, entries = len({s.path for s in status.skipped}), len(status.skipped)
        what = f"{files} file(s)" if files == entries else f"{entries} entries in {files} file(s)"
        lines.append(f"Skipped {what}; see the warnings above.")
    return "\n".join(lines)


def _build_figures(report: BuildReport) -> str:
    import resource

    seconds = max(report.seconds, 1e-9)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    if sys.platform == "darwin":  # bytes on macOS
        peak_gib /= 1024
    size = f", index {report.disk_bytes / 2**20:,.1f} MiB on disk" if report.disk_bytes else ""
    return (
        f"{report.articles / seconds:,.0f} articles/s, {report.passages / seconds:,.0f} passages/s, "
        f"peak memory {peak_gib:.2f} GiB{size}"
    )
