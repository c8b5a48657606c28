"""qa/retrieve/fusion.py: score fusion and reciprocal rank fusion, on crafted rankings and on a real index."""

import pytest
from crafted import HashEmbedder

from qa import config
from qa.retrieve.fusion import fuse_rankings, fuse_scores, with_article_scores
from qa.retrieve.retriever import Retriever


def test_fusion_rewards_agreement_between_rankings():
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    keyword = [(3, 12.0), (1, 9.0), (4, 5.0)]
    fused = [pid for pid, _ in fuse_rankings([(1.0, dense), (1.0, keyword)])]
    # 1 is near the top of both; 3 tops one and is third in the other; 2 and 4 appear once.
    assert fused[:2] == [1, 3]
    assert set(fused) == {1, 2, 3, 4}


def test_fusion_weights_shift_the_order():
    dense = [(1, 0.9), (2, 0.8)]
    keyword = [(2, 3.0), (1, 1.0)]
    assert fuse_rankings([(2.0, dense), (1.0, keyword)])[0][0] == 1
    assert fuse_rankings([(1.0, dense), (2.0, keyword)])[0][0] == 2


def test_score_fusion_rewards_agreement_and_gives_no_keyword_credit_without_a_shared_word():
    ids = [10, 11, 12, 13]
    dense = [0.70, 0.68, 0.62, 0.40]
    keyword = [0.0, 9.0, 8.0, 0.0]
    fused = fuse_scores(ids, dense, keyword, dense_weight=0.6)
    # 11 is nearly the best by cosine and the best by BM25; 12 overtakes 10 on its keywords; 13 has neither.
    assert [pid for pid, _ in fused] == [11, 12, 10, 13]
    assert all(0.0 <= score <= 1.0 for _, score in fused)
    assert fused[0][1] == pytest.approx(0.6 * (0.68 - 0.40) / 0.30 + 0.4, abs=1e-6)


def test_score_fusion_weight_picks_either_side_at_its_ends():
    ids, dense, keyword = [1, 2, 3], [0.9, 0.5, 0.1], [1.0, 2.0, 3.0]
    assert [pid for pid, _ in fuse_scores(ids, dense, keyword, dense_weight=1.0)] == [1, 2, 3]
    assert [pid for pid, _ in fuse_scores(ids, dense, keyword, dense_weight=0.0)] == [3, 2, 1]


def test_score_fusion_does_not_stretch_near_equal_keyword_scores():
    # A word in every passage of a tiny corpus gives near-equal BM25: the dense side must decide.
    ranked = fuse_scores([1, 2], [0.30, 0.60], [2.0001, 2.0], dense_weight=0.6)
    assert [pid for pid, _ in ranked] == [2, 1]


def test_score_fusion_edge_cases():
    assert fuse_scores([], [], []) == []
    # One candidate: the top of the dense scale, no keyword credit.
    assert fuse_scores([4], [0.2], [0.0]) == [(4, config.DENSE_WEIGHT)]
    assert [pid for pid, _ in fuse_scores([5, 3], [0.5, 0.5], [0.0, 0.0])] == [3, 5]  # ties by id


# --------------------------------------------------------------------------- fusion over a real index

QUESTION = "Where were the forty families moved overnight?"


@pytest.mark.slow
def test_hybrid_fuses_exact_cosines_and_bm25_of_every_candidate_from_the_store(crafted):
    store, depth = crafted.store, 6
    dense_top, keyword_top = crafted.dense_ranking(QUESTION, depth), crafted.keyword_ranking(QUESTION, depth)
    candidates = sorted({row for row, _ in dense_top} | {row for row, _ in keyword_top})
    assert len(candidates) > depth  # the two sides disagree somewhere, so some candidates lack one score
    # BM25 of a dense-only candidate comes from the store on keyword_search's scale (0: no shared word).
    bm25 = dict(store.keyword_search(QUESTION, store.count()))
    question = HashEmbedder().encode([QUESTION])[0]
    expected = fuse_scores(
        candidates, store.vectors(candidates) @ question, [bm25.get(r, 0.0) for r in candidates]
    )
    assert crafted.hybrid_ranking(QUESTION, depth) == expected


@pytest.mark.slow
def test_rrf_fuses_the_two_rankings_with_the_dense_weight(crafted):
    rrf = Retriever(crafted.store, HashEmbedder(), fusion="rrf", rrf_k=10.0, dense_weight=0.7)
    dense_top, keyword_top = rrf.dense_ranking(QUESTION, 8), rrf.keyword_ranking(QUESTION, 8)
    assert rrf.hybrid_ranking(QUESTION, 8) == fuse_rankings(
        [(0.7, dense_top), (1.0 - 0.7, keyword_top)], 10.0
    )


def test_retriever_refuses_unknown_fusion_and_bad_weights():
    with pytest.raises(ValueError, match="score, rrf"):
        Retriever(None, None, fusion="magic")
    with pytest.raises(ValueError, match="dense_weight must be between 0 and 1, got 1.5"):
        Retriever(None, None, dense_weight=1.5)
    with pytest.raises(ValueError, match="rrf_k must be 0 or more, got -1"):
        Retriever(None, None, rrf_k=-1)


# ------------------------------------------------------------- a passage ranked with its article's best


def test_article_scores_lift_a_later_paragraph_of_the_best_story_past_other_stories_leads():
    # Rows 1 and 4 are one story's lead and answer paragraph; 2 and 3 other stories' leads.
    ranked = [(1, 0.95), (2, 0.80), (3, 0.75), (4, 0.40)]
    articles = ["times", "gannett", "knight", "times"]
    assert with_article_scores(ranked, articles, 1.0) == ranked
    # Row 4 at 0.5: 0.5 * 0.40 + 0.5 * 0.95 = 0.675, under both other leads; at 0.2: 0.84, past both.
    assert [row for row, _ in with_article_scores(ranked, articles, 0.5)] == [1, 2, 3, 4]
    blended = with_article_scores(ranked, articles, 0.2)
    assert [row for row, _ in blended] == [1, 4, 2, 3]
    assert dict(blended) == pytest.approx({1: 0.95, 4: 0.84, 2: 0.80, 3: 0.75})


def test_article_scores_keep_each_story_in_its_own_order_and_ties_in_the_ranking_order():
    ranked = [(7, 0.8), (8, 0.8), (9, 0.6), (10, 0.5)]
    articles = ["a", "b", "a", "b"]
    blended = with_article_scores(ranked, articles, 0.5)
    assert [row for row, _ in blended] == [7, 8, 9, 10]  # 0.8, 0.8, 0.7, 0.65: ties keep 7 before 8
    assert all(score <= 0.8 for _, score in blended)  # never above the article's best
