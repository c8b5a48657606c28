import shutil

import pytest

from qa.build import build_index
from qa.index import open_index
from qa.retrieve import Retriever, SearchFilter, fuse_rankings


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


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, shared_articles_dir, sample_articles_dir, embedder):
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copytree(shared_articles_dir, folder / "shared")
    shutil.copytree(sample_articles_dir, folder / "sample")
    # A syndicated copy of a shared article, under another outlet's folder.
    (folder / "wire").mkdir()
    original = next(p for p in (folder / "shared").iterdir() if p.suffix == ".txt")
    shutil.copy(original, folder / "wire" / "copy.txt")
    index_dir = tmp_path_factory.mktemp("index")
    build_index(folder, index_dir, embedder)
    return Retriever(open_index(index_dir), embedder)


@pytest.mark.slow
def test_near_duplicates_collapse_into_one_hit_keeping_every_source(retriever):
    hits = retriever.search("How many users were targeted by the spies?", 5)
    paths = [{p.article_id.split("/")[0] for p in hit.passages} for hit in hits]
    top = next(hit for hit in hits if "1,400 users" in hit.passage.text)
    assert {p.article_id.split("/")[0] for p in top.passages} == {"shared", "wire"}
    # No other hit repeats the same passage: the k hits are k different pieces of evidence.
    texts = [hit.passage.text for hit in hits]
    assert len(texts) == len(set(texts)), paths


@pytest.mark.slow
def test_date_filters_on_the_shared_articles(retriever):
    november = retriever.search("WhatsApp privacy breach", 5, search_filter=SearchFilter(date_from="2019-11-01", date_to="2019-11-30"))
    assert november and all(hit.passage.date == "2019-11-02" for hit in november)
    month_bound = retriever.search("WhatsApp privacy breach", 5, search_filter=SearchFilter(date_to="2019-11"))
    assert {h.passage.passage_id for h in month_bound} == {h.passage.passage_id for h in november}
    before = retriever.search("WhatsApp privacy breach", 5, search_filter=SearchFilter(date_to="2019-11-01"))
    assert all(hit.passage.date <= "2019-11-01" for hit in before)
    assert not any("shared/" in hit.passage.article_id for hit in before)


@pytest.mark.slow
def test_source_filter_matches_site_or_folder(retriever):
    beebom = retriever.search("WhatsApp", 5, search_filter=SearchFilter(source="beebom.com"))
    assert beebom and all("beebom.com" in hit.passage.source for hit in beebom)
    wire = retriever.search("WhatsApp", 5, search_filter=SearchFilter(source="wire/"))
    assert wire and all(hit.passage.article_id.startswith("wire/") for hit in wire)


@pytest.mark.slow
def test_every_mode_returns_k_ranked_hits_and_bad_arguments_are_refused(retriever):
    for mode in ("dense", "keyword", "hybrid"):
        hits = retriever.search("central bank interest rate", 3, mode=mode)
        assert [h.rank for h in hits] == list(range(len(hits))) and 0 < len(hits) <= 3
    with pytest.raises(ValueError, match="k must be greater than 0"):
        retriever.search("x", 0)
    with pytest.raises(ValueError, match="hybrid, dense, keyword"):
        retriever.search("x", 3, mode="magic")
