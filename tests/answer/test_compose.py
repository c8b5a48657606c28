from qa.answer.compose import assemble_answers, normalize_answer
from qa.types import Hit, Passage, ReaderResult, SpanCandidate


def passage(pid: str, text: str, article: str = "a.md") -> Passage:
    return Passage(
        pid,
        article,
        f"Title {article}",
        "2024-03-14",
        None,
        f"https://example.org/{article}",
        article,
        0,
        text,
    )


def span(p: Passage, index: int, text: str, score: float) -> SpanCandidate:
    start = p.text.index(text)
    return SpanCandidate(p.passage_id, start, start + len(text), text, score)


def test_normalize_answer_follows_squad_rules():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("“412 million euros”.") == "412 million euros"
    assert normalize_answer("a") == ""


def test_same_answer_from_two_articles_is_one_answer_citing_both():
    first = passage("a.md::0.0", "The bank raised its rate to 4.5 percent on Tuesday.", "a.md")
    second = passage("b.md::2.0", "Rates went up to 4.5 percent, the bank said.", "b.md")
    hits = [Hit(first, 0.9, 0), Hit(second, 0.8, 1)]
    result = ReaderResult(
        reader="bundled:test",
        candidates=(
            span(first, 0, "4.5 percent", 0.6),
            span(second, 1, "4.5 percent", 0.5),
            span(first, 0, "Tuesday", 0.3),
        ),
        no_answer_score=0.2,
    )
    answer = assemble_answers("What is the rate?", hits, result)
    assert answer.answer == "4.5 percent"
    assert [c.article_id for c in answer.citations] == ["a.md", "b.md"]
    # Corroboration: two articles agreeing beat either alone (noisy-OR of 0.6 and 0.5).
    assert abs(answer.confidence - 0.8) < 1e-6
    for citation in answer.citations:
        assert citation.text[citation.start : citation.end] == answer.answer
    assert [alt.answer for alt in answer.alternatives] == ["Tuesday"]


def test_an_article_repeating_a_name_is_one_source_not_corroboration():
    lead = passage("f.md::0.0", "The University of Valmora announced the find.", "f.md")
    later = passage(
        "f.md::2.0", "The study was led by Dr. Laila Haddad of the University of Valmora.", "f.md"
    )
    hits = [Hit(lead, 0.9, 0), Hit(later, 0.8, 1)]
    result = ReaderResult(
        reader="bundled:test",
        candidates=(
            span(later, 1, "Dr. Laila Haddad", 0.41),
            span(lead, 0, "University of Valmora", 0.28),
            span(later, 1, "University of Valmora", 0.25),
        ),
        no_answer_score=0.2,
    )
    answer = assemble_answers("Who led the study?", hits, result)
    # Without the rule the repeated name would score 1 - 0.72 * 0.75 = 0.46 and win.
    assert answer.answer == "Dr. Laila Haddad"
    repeated = answer.alternatives[0]
    assert repeated.answer == "University of Valmora" and abs(repeated.confidence - 0.28) < 1e-6
    assert [c.passage_id for c in repeated.citations] == ["f.md::0.0", "f.md::2.0"]  # both still cited


def test_other_boundaries_of_the_answer_are_not_other_answers():
    text = "Mayor Ana Ribeiro opened the line; her deputy Tomas Vidal cut the ribbon."
    lead = passage("t.md::0.0", text, "t.md")
    other = passage("u.md::0.0", "Ribeiro thanked the builders.", "u.md")
    hits = [Hit(lead, 0.9, 0), Hit(other, 0.8, 1)]
    result = ReaderResult(
        reader="bundled:test",
        candidates=(
            span(lead, 0, "Ana Ribeiro", 0.6),
            span(lead, 0, "Mayor Ana Ribeiro", 0.2),  # overlaps the answer in its passage: a variant
            span(lead, 0, "Tomas Vidal", 0.1),  # elsewhere in the passage: a real alternative
            span(other, 1, "Ribeiro", 0.05),  # in another article: its own source, kept
        ),
        no_answer_score=0.1,
    )
    answer = assemble_answers("Who opened the line?", hits, result)
    assert answer.answer == "Ana Ribeiro"
    assert [a.answer for a in answer.alternatives] == ["Tomas Vidal", "Ribeiro"]
    # Declined too, the candidates list no variants of one another.
    declined = assemble_answers("Who opened the line?", hits, result, no_answer_threshold=-0.9)
    assert declined.answer is None and [a.answer for a in declined.alternatives] == [
        "Ana Ribeiro",
        "Tomas Vidal",
        "Ribeiro",
    ]


def test_weak_evidence_gives_null_answer_with_closest_passages():
    hit = Hit(passage("a.md::0.0", "The festival opened with a silent film."), 0.4, 0)
    result = ReaderResult(
        "bundled:test", (SpanCandidate("a.md::0.0", 4, 12, "festival", 0.1),), no_answer_score=0.7
    )
    answer = assemble_answers("Who won the election?", [hit], result)
    assert answer.answer is None
    assert answer.citations[0].passage_id == "a.md::0.0"
    assert answer.citations[0].start is None and answer.citations[0].end is None
    # The rejected span stays visible to a user who wants to judge.
    assert answer.alternatives[0].answer == "festival"


def test_threshold_moves_the_null_decision():
    hit = Hit(passage("a.md::0.0", "The tram cost 412 million euros."), 0.9, 0)
    result = ReaderResult(
        "bundled:test", (SpanCandidate("a.md::0.0", 14, 31, "412 million euros", 0.4),), no_answer_score=0.5
    )
    assert assemble_answers("Cost?", [hit], result, no_answer_threshold=0.0).answer is None
    assert assemble_answers("Cost?", [hit], result, no_answer_threshold=0.2).answer == "412 million euros"


def test_near_duplicate_passages_are_cited_with_exact_offsets():
    original = passage("a.md::1.0", "Mayor Ana Ribeiro opened the line.", "a.md")
    copy = passage("b.md::4.0", "On Monday, Mayor Ana Ribeiro opened the line.", "b.md")
    hit = Hit(original, 0.9, 0, duplicates=(copy,))
    result = ReaderResult(
        "bundled:test", (SpanCandidate("a.md::1.0", 6, 17, "Ana Ribeiro", 0.7),), no_answer_score=0.1
    )
    answer = assemble_answers("Who opened the line?", [hit], result)
    assert [c.article_id for c in answer.citations] == ["a.md", "b.md"]
    assert all(c.text[c.start : c.end] == "Ana Ribeiro" for c in answer.citations)


def test_answer_serialises_to_json():
    hit = Hit(passage("a.md::0.0", "The tram cost 412 million euros."), 0.9, 0)
    result = ReaderResult(
        "bundled:test", (SpanCandidate("a.md::0.0", 14, 31, "412 million euros", 0.8),), no_answer_score=0.1
    )
    data = assemble_answers("Cost?", [hit], result).to_dict()
    assert data["answer"] == "412 million euros"
    assert set(data["citations"][0]) >= {
        "article_id",
        "title",
        "date",
        "source",
        "paragraph",
        "start",
        "end",
        "text",
    }
