"""Indexes the retrieve tests share, each built once per run: the crafted corpus and the story pair
with the sample articles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from crafted import HashEmbedder, write_article, write_crafted_corpus

from qa.ingest.articles import load_article_file
from qa.ingest.split import sentence_spans
from qa.retrieve.retriever import Retriever
from qa.store.local.build import build_index
from qa.store.local.store import open_store


@pytest.fixture(scope="session")
def crafted(tmp_path_factory):
    """A Retriever over the crafted corpus (tests/retrieve/crafted.py), with the model-free embedder."""
    corpus = write_crafted_corpus(tmp_path_factory.mktemp("crafted"))
    index_dir = tmp_path_factory.mktemp("crafted-index")
    build_index(corpus, index_dir, HashEmbedder())
    return Retriever(open_store(index_dir), HashEmbedder())


def _holds(path: Path, text: str) -> bool:
    return text in path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def retriever(tmp_path_factory, story_pair_dir, sample_articles_dir, embedder):
    """The real model over the story pair (tests/data/story-pair: two outlets' reports of one story,
    one day) and the sample articles, plus two copies of the report holding "2,600 customer
    accounts": one verbatim, one edited the way agencies edit (same date)."""
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copytree(story_pair_dir, folder / "story")
    shutil.copytree(sample_articles_dir, folder / "sample")
    original = next(p for p in sorted((folder / "story").iterdir()) if _holds(p, "2,600 customer accounts"))
    # A verbatim syndicated copy under another outlet's folder...
    (folder / "wire").mkdir()
    shutil.copy(original, folder / "wire" / "copy.txt")
    # ...and an edited one: new first sentence, a dateline, light rewording, a credit line at the end.
    article = load_article_file(original)[0]
    paragraphs = list(article.paragraphs)
    first = paragraphs[0]
    paragraphs[0] = (
        "A row over the ferry hack reached Harrowgate on Wednesday. " + first[sentence_spans(first)[1][0] :]
    )
    paragraphs[1] = "HARROWGATE (NWA) - " + paragraphs[1]
    paragraphs[-2] = paragraphs[-2].replace("Prior to this, ", "Earlier, ").replace(" had ", " has ")
    paragraphs[-1] = paragraphs[-1] + " (With inputs from NWA)"
    write_article(
        folder,
        "agency/edited.md",
        article.title,
        article.date,
        "https://agency.example/ferry-hack",
        paragraphs,
    )
    index_dir = tmp_path_factory.mktemp("index")
    build_index(folder, index_dir, embedder)
    return Retriever(open_store(index_dir), embedder)
