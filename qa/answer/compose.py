"""Reader spans -> answers: one per distinct normalised span, citing every passage that gives it."""

from __future__ import annotations

import dataclasses
import re
import string
from collections import defaultdict
from collections.abc import Sequence

from qa import config
from qa.types import Answer, Citation, Hit, Passage, ReaderResult, SpanCandidate

# What an answer without a span says, in the terminal and in the chat alike.
NO_ANSWER = "The articles do not hold an answer to this question."
NO_CLEAR_ANSWER = "The articles may hold an answer, but none is clear enough to give."

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation) | {"“", "”", "‘", "’", "—", "–"}


def normalize_answer(text: str) -> str:
    """SQuAD normalisation (lower case, no punctuation, no articles, single spaces), plus curly quotes."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _citation(passage: Passage, score: float, start: int | None = None, end: int | None = None) -> Citation:
    return Citation(
        passage_id=passage.passage_id,
        article_id=passage.article_id,
        title=passage.title,
        date=passage.date,
        source=passage.source,
        paragraph=passage.paragraph,
        start=start,
        end=end,
        text=passage.text,
        score=score,
    )


def _duplicate_citations(hit: Hit, span: SpanCandidate) -> list[Citation]:
    """Cite near-duplicates of the passage too, where they hold the same words (offsets must be exact)."""
    citations = []
    for duplicate in hit.duplicates:
        start = duplicate.text.find(span.text)
        if start >= 0:
            citations.append(_citation(duplicate, hit.score, start, start + len(span.text)))
    return citations


def closest_passages(hits: Sequence[Hit], limit: int) -> tuple[Citation, ...]:
    return tuple(_citation(hit.passage, hit.score) for hit in hits[:limit])


def assemble_answers(
    question: str,
    hits: Sequence[Hit],
    result: ReaderResult,
    *,
    no_answer_threshold: float = config.NO_ANSWER_THRESHOLD,
    search_query: str = "",
    max_alternatives: int = config.MAX_ALTERNATIVES,
) -> Answer:
    """The best answer (or None) with its citations; other distinct answers as alternatives.

    Spans with the same normalised text merge into one answer; its score is the noisy-OR of the
    best span per article, so independent articles agreeing raise confidence (corroboration).
    """
    hit_of = {hit.passage.passage_id: hit for hit in hits}
    by_answer: dict[str, dict[str, SpanCandidate]] = defaultdict(dict)
    for span in result.candidates:
        key = normalize_answer(span.text)
        if not key or span.passage_id not in hit_of:
            continue
        best_in_passage = by_answer[key].get(span.passage_id)
        if best_in_passage is None or span.score > best_in_passage.score:
            by_answer[key][span.passage_id] = span

    answers: list[Answer] = []
    for spans_by_passage in by_answer.values():
        spans = sorted(spans_by_passage.values(), key=lambda s: -s.score)
        # Corroboration counts articles, not passages: a name an article repeats in three
        # paragraphs is one source, and only its best span counts.
        best_per_article: dict[str, float] = {}
        for span in spans:
            article = hit_of[span.passage_id].passage.article_id
            best_per_article[article] = max(best_per_article.get(article, 0.0), span.score)
        doubt = 1.0
        for score in best_per_article.values():
            doubt *= 1.0 - score
        citations: list[Citation] = []
        for span in spans:
            hit = hit_of[span.passage_id]
            citations.append(_citation(hit.passage, hit.score, span.start, span.end))
            citations.extend(_duplicate_citations(hit, span))
        answers.append(
            Answer(
                question=question,
                answer=spans[0].text,
                confidence=round(1.0 - doubt, 6),
                no_answer_score=round(result.no_answer_score, 6),
                reader=result.reader,
                citations=tuple(_unique(citations)),
                search_query=search_query,
            )
        )
    answers = _without_variants(sorted(answers, key=lambda a: -a.confidence))

    if not answers or result.no_answer_score - answers[0].confidence > no_answer_threshold:
        return Answer(
            question=question,
            answer=None,
            confidence=None,
            no_answer_score=round(result.no_answer_score, 6),
            reader=result.reader,
            citations=closest_passages(hits, config.DEFAULT_TOP_K),
            search_query=search_query,
            alternatives=tuple(answers[:max_alternatives]),
        )
    return dataclasses.replace(answers[0], alternatives=tuple(answers[1 : 1 + max_alternatives]))


def declined(answer: Answer, hits: Sequence[Hit], max_alternatives: int = config.MAX_ALTERNATIVES) -> Answer:
    """`answer` turned down by the no-answer decision: no answer, the closest passages cited, and the
    span it would have given first among the alternatives (as assemble_answers declines)."""
    if answer.answer is None:
        return answer
    return Answer(
        question=answer.question,
        answer=None,
        confidence=None,
        no_answer_score=answer.no_answer_score,
        reader=answer.reader,
        citations=closest_passages(hits, config.DEFAULT_TOP_K),
        search_query=answer.search_query,
        alternatives=(dataclasses.replace(answer, alternatives=(), note=""), *answer.alternatives)[
            :max_alternatives
        ],
    )


def _without_variants(answers: list[Answer]) -> list[Answer]:
    """`answers` (best first) without those whose every span overlaps a better answer's span in
    the same passage: "Mayor Ana Ribeiro" and "Ribeiro" are the reader's other boundaries for
    "Ana Ribeiro", not other answers (Haystack 2 drops overlapping answers too, PR #6459)."""
    kept: list[Answer] = []
    taken: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for answer in answers:
        spans = [
            (c.passage_id, c.start, c.end)
            for c in answer.citations
            if c.start is not None and c.end is not None
        ]
        if (
            kept
            and spans
            and all(
                any(start < end_taken and start_taken < end for start_taken, end_taken in taken[pid])
                for pid, start, end in spans
            )
        ):
            continue
        kept.append(answer)
        for pid, start, end in spans:
            taken[pid].append((start, end))
    return kept


def _unique(citations: list[Citation]) -> list[Citation]:
    seen: set[str] = set()
    unique = []
    for citation in citations:
        if citation.passage_id not in seen:
            seen.add(citation.passage_id)
            unique.append(citation)
    return unique
