"""Several chat servers on one Milvus store: two real app.py processes serve the store's live
generation, and a rebuild reaches both from their next question, without a restart (issue 14)."""

from __future__ import annotations

import shutil

import pytest
from apphelpers import running_app, write_corpus

from qa.store.location import parse_location

gradio_client = pytest.importorskip("gradio_client")

pytestmark = pytest.mark.slow

QUESTION = "How much will the bicycle bridge over the Lenne cost?"
NEW_ARTICLE = (
    "---\ntitle: Valmora approves a bicycle bridge over the Lenne\ndate: 2024-10-01\n---\n\n"
    "The Valmora city council approved a bicycle bridge over the river Lenne on Tuesday. "
    "The bridge will cost 18 million euros and open in 2026.\n"
)


def test_two_chat_servers_on_one_milvus_store_both_serve_a_rebuild(milvus_server, tmp_path, embedder):
    articles = write_corpus(tmp_path / "articles")
    store = milvus_server.address("chat")
    location = parse_location(store)
    location.build(articles, embedder)  # before the apps start: they find it up to date
    with (
        running_app(articles, store, tmp_path / "first.log") as first,
        running_app(articles, store, tmp_path / "second.log") as second,
    ):
        clients = [gradio_client.Client(app.url, verbose=False) for app in (first, second)]
        for client in clients:
            before = client.predict(QUESTION, api_name="/ask")
            assert "bicycle-bridge.md" not in {c["article_id"] for c in before["citations"]}

        updated = tmp_path / "updated"
        shutil.copytree(articles, updated)
        (updated / "bicycle-bridge.md").write_text(NEW_ARTICLE, encoding="utf-8")
        assert location.build(updated, embedder).embedded_passages == 1  # a third process rebuilds the store

        for client in clients:
            after = client.predict(QUESTION, api_name="/ask")
            assert after["answer"] == "18 million euros", after
            assert after["citations"][0]["article_id"] == "bicycle-bridge.md"
