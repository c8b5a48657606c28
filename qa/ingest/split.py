"""Splitting: Article -> Passages small enough for the embedder and the reader."""

from __future__ import annotations

import re
from collections.abc import Iterable

from qa import config
from qa.types import Article, Passage

# Joins paragraphs merged into one passage: every passage text is then a verbatim slice of the
# article's text (article_text), at Passage.article_offset.
PARAGRAPH_SEPARATOR = "\n\n"

_GAP = re.compile(r"\s+")
_WORD = re.compile(r"\S+")
_CLOSERS = "\"'”’»)]"
_OPENERS = "\"'“‘«(["
# A period after these does not end a sentence ("Mr. Lee", "Gen. Silva", "Jan. 5").
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr gov sen rep rev hon pres supt insp "
    "vs inc ltd co corp bros dept est approx jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# ...and these only before a number: "No. 5" runs on, "He said no. Then" ends.
_NUMBER_ABBREVIATIONS = frozenset("no nos vol pp art fig ch sec".split())
_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # "U.S", "e.g": the final period is part of it


def _ends_sentence(token: str, following: str) -> bool:
    """Whether a sentence ends with `token`, judged by the few characters that follow the space."""
    word = token.rstrip(_CLOSERS)
    if not word or word[-1] not in ".!?…":
        return False
    first = following.lstrip(_OPENERS)[:1]
    if not (first.isupper() or first.isdigit()):
        return False
    if word.endswith(".") and not word.endswith(".."):
        stem = word[:-1].lstrip(_OPENERS).lower()
        if stem in _ABBREVIATIONS or (stem in _NUMBER_ABBREVIATIONS and first.isdigit()):
            return False
        if (len(stem) == 1 and stem.isalpha()) or _ACRONYM.fullmatch(stem):
            return False  # an initial ("J. Smith") or a dotted acronym ("U.S. court")
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, surrounding whitespace excluded.

    A blank line always ends a sentence. Decimals ("3.5"), "Mr.", "U.S." and "No. 5" do not.

    Example:
        >>> text = "Mr. Lee paid 3.5 euros in the U.S. on Friday. He left."
        >>> [text[start:end] for start, end in sentence_spans(text)]
        ['Mr. Lee paid 3.5 euros in the U.S. on Friday.', 'He left.']
    """
    spans: list[tuple[int, int]] = []
    start = token_start = len(text) - len(text.lstrip())
    for gap in _GAP.finditer(text, start):
        token = text[token_start : gap.start()]
        if gap.group().count("\n") >= 2 or _ends_sentence(token, text[gap.end() : gap.end() + 4]):
            spans.append((start, gap.start()))
            start = gap.end()
        token_start = gap.end()
    end = len(text.rstrip())
    if start < end:
        spans.append((start, end))
    return spans


def article_text(article: Article) -> str:
    """The article's paragraphs as one text, the one that `Passage.article_offset` indexes:
    ``text[p.article_offset : p.article_offset + len(p.text)] == p.text`` for each of its passages.

    Blank paragraphs (ingestion makes none) are left out, as splitting leaves them out.

    Example:
        >>> from qa.types import Article
        >>> article_text(Article("a.md", "T", None, "a.md", "a.md", None, ("One.", " ", "Two."), "0"))
        'One.\\n\\nTwo.'
    """
    return PARAGRAPH_SEPARATOR.join(p for p in article.paragraphs if p.strip())


def _merge_fragments(paragraphs: Iterable[str], min_words: int) -> list[tuple[int, str]]:
    """(paragraph index, text) groups: fragments join the previous paragraph, or the next one."""
    groups: list[tuple[int, list[str]]] = []
    leading: list[str] = []  # fragments before the first full paragraph wait for it
    for index, text in enumerate(paragraphs):
        if not text.strip():
            continue
        if len(text.split()) >= min_words:
            groups.append((index, [*leading, text]))
            leading = []
        elif groups:
            groups[-1][1].append(text)
        else:
            leading.append(text)
    if leading:  # every paragraph was a fragment: keep them together rather than lose them
        groups.append((0, leading))
    return [(index, PARAGRAPH_SEPARATOR.join(texts)) for index, texts in groups]


def _parts(text: str, max_words: int, overlap: int) -> list[tuple[int, int]]:
    """Spans of `text` of at most max_words words, cut between sentences, overlapping by `overlap`."""
    if len(text.split()) <= max_words:
        return [(0, len(text))] if text else []  # the usual case: no need to find sentences
    units: list[tuple[int, int, int]] = []  # (start, end, words): sentences, long ones cut by words
    for start, end in sentence_spans(text):
        words = [m.span() for m in _WORD.finditer(text, start, end)]
        for i in range(0, len(words), max_words):
            chunk = words[i : i + max_words]
            units.append((chunk[0][0], chunk[-1][1], len(chunk)))
    parts: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, words = i, 0
        while j < len(units) and words + units[j][2] <= max_words:
            words += units[j][2]
            j += 1
        parts.append((units[i][0], units[j - 1][1]))
        if j == len(units):
            break
        # Repeat the last sentences for context, but never so many that the next part adds nothing.
        i = max(j - overlap, i + 1)
        while i < j and sum(unit[2] for unit in units[i : j + 1]) > max_words:
            i += 1
    return parts


def split_article(
    article: Article,
    *,
    max_words: int = config.MAX_PASSAGE_WORDS,
    overlap_sentences: int = config.PASSAGE_OVERLAP_SENTENCES,
    min_words: int = config.MIN_PARAGRAPH_WORDS,
) -> list[Passage]:
    """Cut an article into passages of whole sentences, one paragraph (plus merged fragments) at most.

    Paragraphs under `min_words` words are merged into the previous paragraph (the next, before the
    first full one); longer than `max_words`, they are split between sentences into parts that share
    `overlap_sentences` sentences. `Passage.paragraph` is the 0-based index into `article.paragraphs`
    and `passage_id` is "{article_id}::{paragraph}.{part}". Passage texts are verbatim slices of
    `article_text(article)`, starting at `Passage.article_offset`.

    Example:
        >>> from qa.types import Article
        >>> article = Article("a.md", "T", None, "a.md", "a.md", None,
        ...                   ("The tram line cost 412 million euros, the mayor said.", "With inputs."), "0")
        >>> [(p.passage_id, p.text) for p in split_article(article)]
        [('a.md::0.0', 'The tram line cost 412 million euros, the mayor said.\\n\\nWith inputs.')]
    """
    if max_words <= 0:
        raise ValueError(f"max_words must be greater than 0, got {max_words}")
    if overlap_sentences < 0:
        raise ValueError(f"overlap_sentences must be 0 or more, got {overlap_sentences}")
    if min_words < 0:
        raise ValueError(f"min_words must be 0 or more, got {min_words}")
    passages = []
    # The groups are the article's non-blank paragraphs in order, each joined as in article_text:
    # a group starts where the previous one ended, plus the separator.
    group_offset = 0
    for paragraph, text in _merge_fragments(article.paragraphs, min_words):
        for part, (start, end) in enumerate(_parts(text, max_words, overlap_sentences)):
            passages.append(
                Passage(
                    passage_id=f"{article.article_id}::{paragraph}.{part}",
                    article_id=article.article_id,
                    title=article.title,
                    date=article.date,
                    place=article.place,
                    source=article.source,
                    path=article.path,
                    paragraph=paragraph,
                    text=text[start:end],
                    article_offset=group_offset + start,
                )
            )
        group_offset += len(text) + len(PARAGRAPH_SEPARATOR)
    return passages


def split_articles(articles: Iterable[Article]) -> list[Passage]:
    """The passages of every article, in order, with the default sizes from qa.config."""
    return [passage for article in articles for passage in split_article(article)]
