"""qa/retrieve/dedup.py: copies of one story fold into one hit that keeps every source."""
import pytest
from crafted import STORY, outlets

from qa import config
from qa.retrieve.dedup import shingle_overlap, shingles

# --------------------------------------------------------------------------- the measure: word runs

def test_shingle_overlap_tells_copies_from_other_stories():
    original = shingles(STORY)
    credited = shingles(STORY + " (With inputs from Reuters)")
    datelined = shingles("MORROW CREEK (AP) - " + STORY)
    new_lede = shingles("A landslide has left a mountain village cut off. " + STORY.split(". ", 1)[1])
    other = shingles(
        "The regional council approved a new budget on Tuesday. Officials said the road programme "
        "would get forty percent more money, and engineers will inspect bridges before winter."
    )
    for copy in (credited, datelined, new_lede):
        assert shingle_overlap(original, copy) >= config.NEAR_DUPLICATE_OVERLAP
    assert shingle_overlap(original, other) < 0.1
    assert shingle_overlap(original, frozenset()) == 0.0
    assert shingle_overlap(shingles("Too short."), shingles("too short")) == 1.0


# --------------------------------------------------------------------------- the crafted corpus (tests/retrieve/crafted.py)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_syndicated_copies_fold_into_one_hit_keeping_every_source(crafted, mode):
    for question, expected in (
        ("Where were the forty families moved overnight?", "forty families"),
        ("What did Maria Okafor say about the mud?", "Maria Okafor"),
        ("Who warned that a second slip was possible?", "second slip"),
        ("What have aid groups sent?", "field kitchens"),  # the passage outlet-b's credit line joined
    ):
        hits = crafted.search(question, 4, mode=mode)
        top = next(hit for hit in hits if expected in hit.passage.text)
        assert outlets(top) == {"outlet-a", "outlet-b", "outlet-c"}, (mode, question)
        assert len({p.source for p in top.passages}) == 3


@pytest.mark.slow
def test_a_quote_repeated_by_two_articles_folds_but_their_other_paragraphs_do_not(crafted):
    hits = crafted.search("What did the minister promise the families who lost their homes?", 5)
    quoted = next(hit for hit in hits if "single family without a roof" in hit.passage.text)
    assert outlets(quoted) == {"outlet-e", "outlet-f"}
    assert sum("single family without a roof" in hit.passage.text for hit in hits) == 1


@pytest.mark.slow
def test_k_hits_are_k_different_pieces_of_evidence(crafted):
    for k in (3, 5, 8):
        hits = crafted.search("Morrow Creek landslide families road", k)
        assert len(hits) == k  # duplicates did not take slots
        for i, a in enumerate(hits):
            for b in hits[i + 1 :]:
                assert shingle_overlap(shingles(a.passage.text), shingles(b.passage.text)) < config.NEAR_DUPLICATE_OVERLAP
        # Every passage appears once, as a hit or as a duplicate of one.
        ids = [p.passage_id for hit in hits for p in hit.passages]
        assert len(ids) == len(set(ids))
    # Nothing to rank is no hits, not an error.
    assert crafted.search("xylophone", 3, mode="keyword") == []
    # Without folding, the copies crowd the top k.
    plain = crafted.search("Where were the forty families moved overnight?", 3, collapse_duplicates=False)
    assert sum("forty families" in hit.passage.text for hit in plain) >= 2 and all(not h.duplicates for h in plain)


@pytest.mark.slow
def test_a_different_article_on_the_same_story_stays_a_separate_hit(crafted):
    hits = crafted.search("Morrow Creek landslide slope survey council", 8)
    followups = [hit for hit in hits if "outlet-d" in outlets(hit)]
    assert followups and all(outlets(hit) == {"outlet-d"} for hit in followups)


# --------------------------------------------------------------------------- the shared articles (real model)


@pytest.mark.slow
def test_near_duplicates_collapse_into_one_hit_keeping_every_source(retriever):
    hits = retriever.search("How many users were targeted by the spies?", 5)
    top = next(hit for hit in hits if "1,400 users" in hit.passage.text)
    assert {p.article_id.split("/")[0] for p in top.passages} == {"shared", "wire", "agency"}
    # No other hit repeats the same passage: the k hits are k different pieces of evidence.
    texts = [hit.passage.text for hit in hits]
    assert len(hits) == 5 and len(texts) == len(set(texts))


@pytest.mark.slow
def test_the_edited_copy_folds_paragraph_by_paragraph_but_the_two_shared_articles_never_do(retriever):
    questions = [
        "How many users were targeted by the spies?",
        "What did the Facebook-owned messaging platform say it had informed authorities about?",
        "What did Mamata Banerjee say about the government?",
        "What did the WhatsApp spokesperson say?",
        "What is Pegasus spyware?",
    ]
    folded = 0
    for question in questions:
        for hit in retriever.search(question, 5):
            articles = {p.article_id for p in hit.passages if p.article_id.startswith("shared/")}
            assert len(articles) <= 1, (question, [p.passage_id for p in hit.passages])
            folded += "agency" in {p.article_id.split("/")[0] for p in hit.passages} and len(hit.passages) > 1
    assert folded >= 2
