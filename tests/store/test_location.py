"""One way to name a store everywhere: a folder, or milvus://HOST:PORT/NAME (qa/store/location.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import config
from qa.store.location import LocalLocation, parse_location, parse_milvus_address


def test_a_path_or_nothing_names_a_local_folder(tmp_path):
    assert parse_location(tmp_path / "idx") == LocalLocation(tmp_path / "idx")
    assert parse_location(None) == LocalLocation(config.DEFAULT_INDEX_DIR)
    assert parse_location("~/idx") == LocalLocation(Path.home() / "idx")


def test_a_milvus_address_names_host_port_and_alias():
    address = parse_milvus_address("milvus://127.0.0.1:19531/news_archive")
    assert (address.host, address.port, address.name, address.tls) == (
        "127.0.0.1",
        19531,
        "news_archive",
        False,
    )
    assert address.uri == "http://127.0.0.1:19531" and str(address) == "milvus://127.0.0.1:19531/news_archive"
    assert parse_milvus_address("milvuss://db.example.org:443/news").uri == "https://db.example.org:443"


@pytest.mark.parametrize(
    "text, message",
    [
        ("milvus://user:secret@host:19530/news", "environment"),
        ("milvus://host/news", "host and a port"),
        ("milvus://host:19530/", "collection name"),
        ("milvus://host:19530/9news", "collection name"),
        ("milvus://host:19530/news-archive", "collection name"),
        ("postgres://host:5432/news", "unknown store"),
    ],
)
def test_a_bad_address_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_location(text)


def test_the_command_line_refuses_a_bad_address_in_one_line(capsys):
    from qa.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["ask", "Who?", "--store", "milvus://user:pw@host:1/news"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "credentials in the environment" in err and "Traceback" not in err


def test_settings_of_a_milvus_store_live_in_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    address = parse_milvus_address("milvus://127.0.0.1:19531/news")
    assert address.state_dir == tmp_path / "newsqa" / "milvus" / "127.0.0.1-19531-news"
