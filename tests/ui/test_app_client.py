"""The chat app's named API endpoint, called with gradio_client against a real app process.

The filter checks and start-up errors of app.py run in-process (fast); the endpoint tests (slow)
start `python app.py` once for the module.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from apphelpers import import_app, running_app, write_corpus

from qa.answer.compose import normalize_answer
from qa.checks import UserError
from qa.service import prepare_for_serving
from qa.store.location import LocalLocation

app = import_app()

gradio_client = pytest.importorskip(
    "gradio_client", reason="gradio_client is not installed (pip install -e '.[test]')"
)


QUESTION = "How many customer accounts were broken into?"  # the story pair (tests/data/story-pair)
CONCURRENT = 8


def test_filters_are_checked_with_the_chat_labels():
    assert app.parse_filters("", " ", "  lanternpost ") == {
        "date_from": None,
        "date_to": None,
        "source": "lanternpost",
    }
    assert app.parse_filters("2019-11", "2019", None)["date_to"] == "2019"  # same year: fine
    with pytest.raises(UserError, match="^Date from '2020' is after Date to '2019-12'"):
        app.parse_filters("2020", "2019-12", None)
    with pytest.raises(UserError, match="^Date to must be a date written YYYY, YYYY-MM or YYYY-MM-DD"):
        app.parse_filters(None, "2019/11/02", None)
    with pytest.raises(UserError, match="at most"):
        app.parse_filters(None, None, "x" * 500)


def test_bad_paths_are_one_line_errors(tmp_path, capsys):
    assert app.main(["--articles", str(tmp_path / "missing"), "--index", str(tmp_path / "index")]) == 2
    assert capsys.readouterr().err.strip() == f"error: articles folder {tmp_path / 'missing'} does not exist"
    (tmp_path / "file").write_text("x")
    assert app.main(["--index", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert app.main(["--port", "70000"]) == 2


def test_a_missing_library_is_one_line_with_what_to_do(tmp_path, capsys, monkeypatch):
    def missing(*_args, **_kwargs):
        raise ModuleNotFoundError("No module named 'sentence_transformers'")

    monkeypatch.setattr("qa.service.prepare_for_serving", missing)
    assert (
        app.main(["--articles", str(write_corpus(tmp_path / "articles")), "--index", str(tmp_path / "index")])
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith(
        "error: No module named 'sentence_transformers'; run newsqa from the Python environment"
    )


@pytest.mark.slow
def test_a_start_with_an_unchanged_folder_reads_no_article(tmp_path, capsys, monkeypatch):
    folder = write_corpus(tmp_path / "articles")
    an_hour_ago = (
        time.time() - 3600
    )  # an archive's files, not ones written this second (config.LISTING_RACY_SECONDS)
    for path in folder.iterdir():
        os.utime(path, (an_hour_ago, an_hour_ago))
    location = LocalLocation(tmp_path / "index")
    prepare_for_serving(location, folder)
    assert "no index yet; indexing" in capsys.readouterr().out

    def refuse(*_args, **_kwargs):
        raise AssertionError("an article was read")

    monkeypatch.setattr("qa.ingest.articles._load_file", refuse)
    prepare_for_serving(location, folder)
    assert capsys.readouterr().out.strip() == f"Index {location}: up to date (5 articles)."


@pytest.mark.slow
def test_an_index_whose_folder_is_gone_is_served_as_it_is(tmp_path, capsys):
    folder = write_corpus(tmp_path / "articles")
    location = LocalLocation(tmp_path / "index")
    assert prepare_for_serving(location, folder).articles == folder
    assert prepare_for_serving(location, None).articles == folder.resolve()  # the folder it was built from
    folder.rename(tmp_path / "moved")
    capsys.readouterr()
    served = prepare_for_serving(location, None)
    assert served.articles is None and served.report is None  # never rebuilt from the samples
    assert (
        capsys.readouterr().out.strip()
        == f"{location} was built from {folder.resolve()}, which is gone; serving the index as it is."
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("app_client")
    with running_app(write_corpus(root / "articles"), root / "index", root / "app.log") as app:
        yield app


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server.url, verbose=False)


def check_answer(data: dict) -> None:
    assert data["answer"], data
    assert data["citations"], data
    first = data["citations"][0]
    assert first["text"][first["start"] : first["end"]] == data["answer"]
    for citation in data["citations"]:
        # other articles giving the same answer may write it differently ("2600", "2,600")
        span = citation["text"][citation["start"] : citation["end"]]
        assert normalize_answer(span) == normalize_answer(data["answer"]), citation


@pytest.mark.slow
def test_named_endpoint_returns_the_answer_as_json(client, server):
    data = client.predict(QUESTION, api_name="/ask")
    assert isinstance(data, dict)
    check_answer(data)
    assert "2,600" in data["answer"] or "2600" in data["answer"]
    assert data["question"] == QUESTION
    assert data["reader"].startswith("bundled:")
    assert set(data) >= {
        "question",
        "answer",
        "confidence",
        "no_answer_score",
        "reader",
        "citations",
        "search_query",
        "alternatives",
    }


@pytest.mark.slow
def test_endpoint_takes_options_and_history(client):
    data = client.predict(
        "And in Northmarch?",
        k=8,
        mode="keyword",
        history=[{"question": QUESTION, "answer": "2,600"}],
        api_name="/ask",
    )
    assert data["search_query"].startswith("And in Northmarch? (")
    assert "accounts" in data["search_query"]


@pytest.mark.slow
def test_endpoint_errors_are_messages_not_tracebacks(client):
    with pytest.raises(Exception, match="The question is empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(Exception, match="must be a date written YYYY"):
        client.predict(QUESTION, date_from="2019-13", api_name="/ask")
    with pytest.raises(Exception, match="at most 2,000"):
        client.predict("why " * 600, api_name="/ask")


@pytest.mark.slow
def test_concurrent_requests_are_all_answered(server):
    questions = [
        QUESTION if i % 2 == 0 else "Who is the Transport Minister of Ardenia?" for i in range(CONCURRENT)
    ]

    def ask(question: str) -> dict:
        # One client per thread: each is an independent user of the queue.
        return gradio_client.Client(server.url, verbose=False).predict(question, api_name="/ask")

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        results = list(pool.map(ask, questions))
    assert len(results) == CONCURRENT
    for question, data in zip(questions, results):
        assert data["question"] == question
        check_answer(data)
    assert server.process.poll() is None, server.log()


@pytest.mark.slow
def test_every_parameter_of_ask_is_named_and_described(client):
    parameters = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/ask"][
        "parameters"
    ]
    names = ["question", "k", "mode", "date_from", "date_to", "source", "history"]
    assert [p["parameter_name"] for p in parameters] == names
    for parameter in parameters:
        assert parameter["label"] == parameter["parameter_name"]  # not "1st", "2nd", ...
        assert len(parameter["python_type"]["description"]) > 20, parameter
    by_name = {p["parameter_name"]: p for p in parameters}
    assert "YYYY-MM" in by_name["date_from"]["python_type"]["description"]
    assert "hybrid" in by_name["mode"]["python_type"]["description"]
    (returns,) = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/ask"]["returns"]
    assert returns["label"] == "answer" and "citations" in returns["python_type"]["description"]


@pytest.mark.slow
def test_an_unknown_reader_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    articles = write_corpus(tmp_path / "articles")
    status = app.main(
        ["--articles", str(articles), "--index", str(tmp_path / "index"), "--reader", "no/such"]
    )
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # after the build's progress lines
    assert status == 2 and last.startswith("error: ") and "no/such" in last and "Traceback" not in err
