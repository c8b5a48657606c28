"""qa/store/milvus/: builds, generations, checks, filters and errors of a Milvus store, on a real Milvus Lite
server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa import config
from qa.retrieve.filters import SearchFilter
from qa.store.location import LocalLocation, parse_location, parse_milvus_address
from qa.store.milvus import schema
from qa.store.milvus.client import MilvusStoreError, connect, credentials, tls_options
from qa.store.protocol import StoreError

pytestmark = pytest.mark.slow
REPO_ROOT = Path(__file__).resolve().parents[3]


def article(folder: Path, relative: str, text: str, date: str = "2024-03-01", url: str | None = None) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    front = [f"title: {relative}", f"date: {date}"] + ([f"url: {url}"] if url else [])
    path.write_text("---\n" + "\n".join(front) + "\n---\n\n" + text + "\n", encoding="utf-8")


def copy_samples(folder: Path) -> Path:
    shutil.copytree(config.SAMPLE_ARTICLES_DIR, folder)
    return folder


def test_credentials_and_tls_come_from_the_environment_only():
    assert credentials({}) == {}
    assert credentials({"MILVUS_TOKEN": "root:Milvus", "MILVUS_USER": "ignored"}) == {"token": "root:Milvus"}
    assert credentials({"MILVUS_USER": "reader", "MILVUS_PASSWORD": "s3cret"}) == {
        "user": "reader",
        "password": "s3cret",
    }
    with pytest.raises(MilvusStoreError, match="set both"):
        credentials({"MILVUS_USER": "reader"})
    secure = parse_milvus_address("milvuss://db.example.org:443/news")
    assert secure.uri.startswith("https://")
    assert tls_options(secure, {"MILVUS_SERVER_PEM": "/etc/ca.pem"}) == {"server_pem_path": "/etc/ca.pem"}
    assert (
        tls_options(parse_milvus_address("milvus://db:19530/news"), {"MILVUS_SERVER_PEM": "/etc/ca.pem"})
        == {}
    )


def test_an_unreachable_server_is_one_line_naming_the_address_and_exit_2(capsys):
    pytest.importorskip("pymilvus", reason='pip install -e ".[milvus]"')
    from qa.cli import main
    from qa.store.milvus.lite import free_port
    from qa.ui.app import main as chat

    address = f"milvus://127.0.0.1:{free_port()}/news"  # nothing listens there
    for argv in (
        ["ask", "Who?", "--store", address],
        ["index", "--store", address],
        ["index", "--check", "--store", address],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot reach Milvus at {address}") and err.count("\n") == 1, err
    assert chat(["--store", address]) == 2  # qa chat / python app.py
    err = capsys.readouterr().err
    assert f"cannot reach Milvus at {address}" in err and "Traceback" not in err, err


def test_an_incremental_build_embeds_only_what_changed_and_keeps_one_generation_back(
    milvus_server, tmp_path, embedder
):
    folder = copy_samples(tmp_path / "articles")
    location = parse_location(milvus_server.address("incremental"))
    assert location.info() is None and location.status(folder, embedder.name).describe() == "no index yet"
    first = location.build(folder, embedder)
    assert first.generation == "incremental__gen_000001" and first.embedded_passages == first.passages
    old = location.open()
    assert location.build(folder, embedder).generation is None  # nothing changed: nothing written

    article(
        folder,
        "tram-extension.md",
        "Valmora's Green Line tram will reach the airport by 2027, the city said on Monday.",
    )
    (folder / "cup-final.md").unlink()
    status = location.status(folder, embedder.name)
    assert (status.added, status.removed, status.stale) == (("tram-extension.md",), ("cup-final.md",), True)
    second = location.build(folder, embedder)
    new = location.open()
    assert second.embedded_passages == 1 and second.passages == new.count()
    assert set(new.indexed_articles()) == set(old.indexed_articles()) - {"cup-final.md"} | {
        "tram-extension.md"
    }
    # Copied vectors are the live ones, exactly; the passages keep their text and their order.
    by_id = {p.passage_id: r for r, p in enumerate(old.passages(range(old.count())))}
    kept = [
        (r, by_id[p.passage_id])
        for r, p in enumerate(new.passages(range(new.count())))
        if p.passage_id in by_id
    ]
    assert len(kept) == new.count() - 1
    np.testing.assert_array_equal(new.vectors([a for a, _ in kept]), old.vectors([b for _, b in kept]))

    location.build(folder, embedder, rebuild=True)
    connection = connect(location.address)
    assert connection.collections("incremental__") == [
        "incremental__gen_000002",
        "incremental__gen_000002_articles",
        "incremental__gen_000003",
        "incremental__gen_000003_articles",
    ]
    assert connection.alias_target("incremental") == "incremental__gen_000003"
    assert (
        new.has_newer_generation() and new.count(SearchFilter(source="tram-extension")) == 1
    )  # still serves its own
    with pytest.raises(StoreError, match="incremental__gen_000001"):
        old.keyword_search("tram", 3)  # two builds back: dropped (the error names what is gone)


def test_a_local_and_a_milvus_store_agree_on_source_filters_with_like_wildcards(
    milvus_server, tmp_path, embedder
):
    folder = tmp_path / "articles"
    article(
        folder,
        "wire_desk/a.md",
        "The harbour fee rose to 4.25 euros a tonne.",
        url="https://news.example/100%-rise",
    )
    article(
        folder,
        "wirexdesk/b.md",
        "The harbour fee will be reviewed in spring.",
        url="https://news.example/review",
    )
    article(folder, "Wire_Desk2/c.md", "Harbour pilots asked for a new boat.", date="2023-12-31")
    local, milvus = LocalLocation(tmp_path / "index"), parse_location(milvus_server.address("wildcards"))
    for location in (local, milvus):
        location.build(folder, embedder)
    a, b = local.open(), milvus.open()
    for needle, expected in (
        ("wire_desk", 2),
        ("WIRE_DESK/", 1),
        ("100%-", 1),
        ("0%", 1),
        ("example/", 2),
        ("desk_", 0),
    ):
        search_filter = SearchFilter(source=needle)
        assert a.count(search_filter) == b.count(search_filter) == expected, needle
        assert [r for r, _ in a.keyword_search("harbour", 5, search_filter)] == [
            r for r, _ in b.keyword_search("harbour", 5, search_filter)
        ]
    for bounds in (("2023-12", None), (None, "2023"), ("2024-03-01", "2024-03-01"), ("2023-12-31", "2024")):
        search_filter = SearchFilter(*bounds)
        assert a.count(search_filter) == b.count(search_filter), bounds


def test_check_and_open_find_a_damaged_collection_and_say_how_to_rebuild(
    milvus_server, tmp_path, embedder, capsys
):
    from qa.cli import main

    store = milvus_server.address("damaged")
    location = parse_location(store)
    location.build(copy_samples(tmp_path / "articles"), embedder)
    assert main(["index", "--check", "--store", store]) == 0
    assert "40 rows and 9 articles match its manifest" in capsys.readouterr().out
    connection = connect(location.address)
    live = connection.alias_target("damaged")
    connection.call("deleting", "delete", live, filter=f"{schema.ROW} == 3")
    assert main(["index", "--check", "--store", store]) == 2
    err = capsys.readouterr().err
    assert "is out of step: it holds 39 rows, its manifest says 40" in err and "qa index --rebuild" in err
    with pytest.raises(MilvusStoreError, match="out of step"):
        location.open()
    assert (
        location.open(verify=False).count() == 40
    )  # the manifest's count; the damage shows when row 3 is read
    with pytest.raises(MilvusStoreError, match="row 3 is missing"):
        location.open(verify=False).passages([3])


def test_a_store_built_with_another_model_or_by_someone_else_is_refused(milvus_server, tmp_path, embedder):
    location = parse_location(milvus_server.address("refused"))
    location.build(copy_samples(tmp_path / "articles"), embedder)
    with pytest.raises(MilvusStoreError, match="was built with the embedding model .* not 'other/model'"):
        location.open(embedder="other/model")
    # An alias of someone else's collection: not read as ours.
    connection = connect(location.address)
    client = connection.client
    client.create_collection("foreign", dimension=4)
    client.create_alias("foreign", "foreign_alias")
    with pytest.raises(MilvusStoreError, match="foreign was not written by `qa index`"):
        parse_location(milvus_server.address("foreign_alias")).open()
    with pytest.raises(ValueError, match="--dense-index is for a local index"):
        location.build(tmp_path / "articles", embedder, dense_index="HNSW32")


def test_qa_eval_builds_the_datasets_paragraphs_into_the_milvus_store_and_answers(
    milvus_server, tmp_path, capsys
):
    from qa.cli import main

    store = milvus_server.address("eval_squad")
    out = tmp_path / "run"
    argv = [
        "eval",
        str(REPO_ROOT / "tests" / "data" / "tiny-squad.json"),
        "--corpus-from-dataset",
        "--store",
        store,
        "--reader",
        "bundled",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert parse_location(store).info().article_count > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 13 and metrics["config"]["index"] == store
    assert (
        max(metrics["retrieval_recall_at_k"].values()) >= 90
    )  # each question's own paragraph is found in Milvus


def test_a_generation_loaded_with_replicas_goes_live_loaded(milvus_server, tmp_path, embedder, monkeypatch):
    """QA_MILVUS_REPLICAS: the new collection is released and loaded again with that many replicas
    before the alias moves. Milvus Lite has one query node and ignores the number: this runs the
    path (release, load, search); only Milvus Distributed shows the replicas themselves."""
    monkeypatch.setattr(config, "MILVUS_REPLICAS", 2)
    location = parse_location(milvus_server.address("replicas"))
    location.build(copy_samples(tmp_path / "articles"), embedder)
    connection = connect(location.address)
    assert "Loaded" in str(
        connection.call("state", "get_load_state", connection.alias_target("replicas"))["state"]
    )
    assert location.open().keyword_search("Green Line tram cost", 1)
