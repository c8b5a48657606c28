"""Indexes the retrieve tests share, each built once per run: the crafted corpus and the shared articles."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from crafted import HashEmbedder, write_article, write_crafted_corpus

from qa.ingest.articles import load_article_file
from qa.ingest.split import sentence_spans
from qa.retrieve.retriever import Retriever
from qa.store.build import build_index
from qa.store.local_store import open_store


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
def retriever(tmp_path_factory, shared_articles_dir, sample_articles_dir, embedder):
    """The real model over the shared and sample articles, plus two copies of the shared article
    holding "1,400 users": one verbatim, one edited the way agencies edit (same date)."""
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
    write_article(folder, "agency/edited.md", article.title, article.date, "https://agency.example/spyware", paragraphs)
    index_dir = tmp_path_factory.mktemp("index")
    build_index(folder, index_dir, embedder)
    return Retriever(open_store(index_dir), embedder)
