"""Tests for qa/split.py: sentence boundaries, fragment merging, long paragraphs, verbatim passages."""

from __future__ import annotations

import pytest

from qa.ingest.articles import load_articles
from qa.ingest.split import (
    PARAGRAPH_SEPARATOR,
    article_text,
    sentence_spans,
    split_article,
    split_articles,
)
from qa.types import Article


def _article(*paragraphs: str, article_id: str = "news/a.md") -> Article:
    return Article(
        article_id=article_id,
        title="Title",
        date="2024-03-14",
        source="https://example.org/a",
        path="articles/news/a.md",
        place="Valmora",
        paragraphs=tuple(paragraphs),
        content_hash="0" * 64,
    )


def _sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


LONG = "The council met on Monday to discuss the harbour."  # 9 words


def _sentence(i: int) -> str:
    return f"Sentence number {i} has exactly eight words in it."


# Sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Lee paid 3.5 euros. He left.", ["Mr. Lee paid 3.5 euros.", "He left."]),
        (
            "The U.S. court ruled. The U.S. Senate agreed.",
            ["The U.S. court ruled.", "The U.S. Senate agreed."],
        ),
        ("Gate No. 5 opened at 6.15 a.m. on Friday.", ["Gate No. 5 opened at 6.15 a.m. on Friday."]),
        (
            "Led by Dr. Laila Haddad and J. R. Smith. It worked.",
            ["Led by Dr. Laila Haddad and J. R. Smith.", "It worked."],
        ),
        (
            "She said, “It is wrong.” He agreed! Why? Nobody knows…",
            ["She said, “It is wrong.”", "He agreed!", "Why?", "Nobody knows…"],
        ),
        ("Prices rose 5.1 percent. 2024 was hard.", ["Prices rose 5.1 percent.", "2024 was hard."]),
        ("A heading without a stop\n\nnext paragraph.", ["A heading without a stop", "next paragraph."]),
        ("  padded.  ", ["padded."]),
        ("", []),
    ],
)
def test_sentence_spans(text, expected):
    assert _sentences(text) == expected


# Merging fragments


def test_tiny_fragment_merges_into_the_previous_paragraph():
    passages = split_article(_article(LONG, "With inputs from IANS", LONG + " Again."))
    assert [(p.passage_id, p.paragraph) for p in passages] == [("news/a.md::0.0", 0), ("news/a.md::2.0", 2)]
    assert passages[0].text == LONG + PARAGRAPH_SEPARATOR + "With inputs from IANS"


def test_leading_fragment_merges_into_the_next_paragraph_and_keeps_its_index():
    passages = split_article(_article("Breaking news.", "Update:", LONG))
    assert [p.paragraph for p in passages] == [2]
    assert passages[0].text == PARAGRAPH_SEPARATOR.join(["Breaking news.", "Update:", LONG])


def test_article_of_fragments_only_stays_one_passage():
    passages = split_article(_article("Short one.", "Short two."))
    assert [(p.passage_id, p.text) for p in passages] == [("news/a.md::0.0", "Short one.\n\nShort two.")]


def test_min_words_zero_keeps_every_paragraph():
    assert [p.paragraph for p in split_article(_article("A.", "B.", "C."), min_words=0)] == [0, 1, 2]


def test_empty_article_gives_no_passages():
    assert split_article(_article()) == []


# Offsets into the article


def _assert_exact_offsets(article: Article, passages) -> None:
    text = article_text(article)
    for passage in passages:
        start = passage.article_offset
        assert start is not None and text[start : start + len(passage.text)] == passage.text


def test_each_passage_knows_where_it_starts_in_the_article():
    merged = "With inputs from IANS"
    article = _article(LONG, merged, LONG + " Again.")
    passages = split_article(article)
    assert [p.article_offset for p in passages] == [
        0,
        len(LONG + PARAGRAPH_SEPARATOR + merged + PARAGRAPH_SEPARATOR),
    ]
    _assert_exact_offsets(article, passages)


def test_offsets_stay_exact_through_fragments_blank_paragraphs_and_overlapping_parts():
    long_paragraph = " ".join(_sentence(i) for i in range(6))  # 48 words: parts at max_words=20
    article = _article(
        "Breaking:", LONG, "  ", "Tiny.", long_paragraph, "", LONG + " Twice.", LONG + " Twice."
    )
    for options in ({}, {"max_words": 20}, {"max_words": 20, "overlap_sentences": 0}, {"min_words": 0}):
        passages = split_article(article, **options)
        _assert_exact_offsets(article, passages)
        offsets = [p.article_offset for p in passages]
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    # The two equal paragraphs are told apart by where they are.
    twice = [p for p in split_article(article) if p.text == LONG + " Twice."]
    assert len(twice) == 2 and twice[0].article_offset < twice[1].article_offset
    assert article_text(article).count(PARAGRAPH_SEPARATOR) == 5  # six paragraphs: the blank two left out


# Long paragraphs


def test_long_paragraph_splits_between_sentences_with_overlap():
    sentences = [_sentence(i) for i in range(30)]
    paragraph = " ".join(sentences)
    passages = split_article(_article(paragraph), max_words=50, overlap_sentences=1)
    assert [p.passage_id for p in passages] == [f"news/a.md::0.{i}" for i in range(len(passages))]
    assert len(passages) > 1 and {p.paragraph for p in passages} == {0}
    parts = [_sentences(p.text) for p in passages]
    for part in parts:
        assert len(" ".join(part).split()) <= 50
        assert all(s in sentences for s in part)  # cut between sentences only
    for before, after in zip(parts, parts[1:]):
        assert after[0] == before[-1]  # one sentence of overlap
    assert sorted({s for part in parts for s in part}, key=sentences.index) == sentences


def test_no_overlap_parts_tile_the_paragraph():
    paragraph = " ".join(_sentence(i) for i in range(30))
    passages = split_article(_article(paragraph), max_words=50, overlap_sentences=0)
    assert " ".join(p.text for p in passages) == paragraph


def test_overlap_never_makes_a_part_with_nothing_new():
    big = " ".join(["Word"] * 30) + "."
    paragraph = " ".join([big, big.replace("Word", "Other"), big.replace("Word", "Third")])
    passages = split_article(_article(paragraph), max_words=40, overlap_sentences=1)
    assert [p.text for p in passages] == _sentences(paragraph)


def test_sentence_longer_than_max_words_is_cut_at_word_boundaries():
    words = [f"w{i}" for i in range(95)]
    passages = split_article(_article(" ".join(words)), max_words=40, overlap_sentences=1)
    assert [len(p.text.split()) for p in passages] == [40, 40, 15]
    assert " ".join(p.text for p in passages).split() == words


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_words": 0}, "max_words must be greater than 0, got 0"),
        ({"overlap_sentences": -1}, "overlap_sentences must be 0 or more, got -1"),
        ({"min_words": -2}, "min_words must be 0 or more, got -2"),
    ],
)
def test_invalid_sizes_are_refused_with_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        split_article(_article(LONG), **kwargs)


# Real corpora: verbatim text, metadata, stable unique ids


@pytest.fixture(scope="module", params=["sample", "story", "shared"])
def corpus(request) -> tuple[Article, ...]:
    """The sample corpus, the story pair (tests/data: web-page markup, curly quotes, a dateline) and
    the two real shared articles (skipped without ../shared: the others run on a fresh clone)."""
    fixture = {"sample": "sample_articles_dir", "story": "story_pair_dir", "shared": "shared_articles_dir"}[
        request.param
    ]
    return load_articles(request.getfixturevalue(fixture)).articles


def test_passages_are_verbatim_slices_of_their_paragraphs(corpus):
    by_id = {a.article_id: a for a in corpus}
    for passage in split_articles(corpus):
        article = by_id[passage.article_id]
        assert passage.text and passage.text == passage.text.strip()
        assert passage.text in PARAGRAPH_SEPARATOR.join(article.paragraphs)
        # Each merged piece lies in one paragraph, and one of them in the paragraph the id names.
        pieces = passage.text.split(PARAGRAPH_SEPARATOR)
        assert all(any(piece in paragraph for paragraph in article.paragraphs) for piece in pieces)
        assert any(piece in article.paragraphs[passage.paragraph] for piece in pieces)


def test_passages_carry_article_metadata(corpus):
    by_id = {a.article_id: a for a in corpus}
    for passage in split_articles(corpus):
        article = by_id[passage.article_id]
        assert (passage.title, passage.date, passage.place, passage.source, passage.path) == (
            article.title,
            article.date,
            article.place,
            article.source,
            article.path,
        )


def test_passages_start_at_their_article_offset(corpus):
    by_id = {a.article_id: a for a in corpus}
    for article in corpus:
        assert article_text(article) == PARAGRAPH_SEPARATOR.join(article.paragraphs)  # no blank ones
    for max_words in (None, 25):
        options = {} if max_words is None else {"max_words": max_words}
        for article in corpus:
            _assert_exact_offsets(by_id[article.article_id], split_article(article, **options))


def test_passage_ids_are_stable_and_unique(corpus):
    first, second = split_articles(corpus), split_articles(corpus)
    assert first == second
    ids = [p.passage_id for p in first]
    assert len(ids) == len(set(ids))
    assert all(
        p.passage_id == f"{p.article_id}::{p.paragraph}.{p.passage_id.rsplit('.', 1)[1]}" for p in first
    )


def test_small_max_words_still_gives_verbatim_parts(corpus):
    # Every real paragraph is under the default size; a small one makes them split.
    by_id = {a.article_id: a for a in corpus}
    assert any(len(split_article(a, max_words=25)) > len(split_article(a)) for a in corpus)
    for article in corpus:
        for passage in split_article(article, max_words=25):
            assert len(passage.text.split()) <= 25
            assert passage.text in PARAGRAPH_SEPARATOR.join(by_id[passage.article_id].paragraphs)
