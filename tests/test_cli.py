"""The `qa` command as a user runs it: real subprocesses, their exit codes, stdout and stderr."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from qa import config
from qa.retrieve.retriever import Retriever
from qa.store import local as store
from qa.store.local import open_index
from qa.store.local.build import build_index
from qa.store.local.store import LocalStore

# Every command starts a Python and most load the embedding model: seconds each.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
CLI_TIMEOUT_S = 300  # a slow two-core machine loading torch, not a hang
QUESTION = "How much did the tram line cost?"

# The vectors of a passage must not depend on which other passages share its batch, or an incremental
# build (which embeds only what changed) cannot equal a full rebuild. The default backend,
# onnx-int8, quantises activations per batch and breaks that (docs/reliability.md); ONNX float32
# keeps it and starts in about a second, torch keeps it too.
EMBED_BACKEND = (
    "onnx"
    if "onnx" in getattr(config, "EMBED_BACKENDS", ()) and find_spec("onnxruntime") and find_spec("onnx")
    else "torch"
)


@pytest.fixture(scope="module")
def embedder():
    """The default model in EMBED_BACKEND (this module's own, in place of conftest's)."""
    from qa.embed import load_embedder

    return load_embedder(config.DEFAULT_EMBEDDER, EMBED_BACKEND)


NEW_ARTICLE = """---
title: Quibbleton opens a floating library
date: 2024-06-01
source: https://example.org/quibbleton-library
---

The town of Quibbleton opened a floating library on the river Wend on Saturday, with 2,300 books on board.

The library barge was built by the Fennimore boatyard for 640,000 crowns, the mayor said.
"""


def qa(*args: str | bytes, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess:
    """`python -m qa.cli ARGS` from the repository root, offline, with its output captured as text."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        "QA_EMBED_BACKEND": EMBED_BACKEND,
    }
    try:
        return subprocess.run(
            [sys.executable, "-m", "qa.cli", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"qa {' '.join(map(str, args))[:200]} did not finish in {timeout:.0f} s:\n{error.stderr}")


def assert_ok(done: subprocess.CompletedProcess, status: int = 0) -> None:
    assert done.returncode == status and "Traceback" not in done.stderr, (
        done.returncode,
        done.stdout,
        done.stderr,
    )


def assert_user_error(done: subprocess.CompletedProcess, message: str) -> None:
    """Exit status 2 and one line on stderr: 'error: ...' naming the problem; no traceback."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert message in lines[0], lines[0]


@pytest.fixture(scope="module")
def articles(sample_articles_dir) -> Path:
    """The nine sample articles (qa/sample_articles), a folder the tests may not change."""
    return sample_articles_dir


@pytest.fixture(scope="module")
def indexed(articles, embedder, tmp_path_factory) -> Path:
    # (embedder: loaded here first, so that an ONNX export happens once, before the subprocesses)
    index_dir = tmp_path_factory.mktemp("cli") / "index"
    done = qa("index", "--articles", str(articles), "--index", str(index_dir))
    assert_ok(done)
    assert re.search(
        r"Indexed .* \d+ passages \(\d+ embedded, 0 reused; 9 new, 0 changed, 0 removed articles\)",
        done.stdout,
    )
    # The figures a user sizing an archive needs: throughput, peak memory, size on disk (that of the files).
    figures = re.search(
        r"([\d,]+) articles/s, ([\d,]+) passages/s, peak memory ([\d.]+) GiB, index ([\d.]+) MiB on disk",
        done.stdout,
    )
    assert figures and float(figures[3]) > 0, done.stdout
    on_disk = sum(
        p.stat().st_size
        for p in store.current_generation(index_dir).rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )
    assert float(figures[4]) == pytest.approx(on_disk / 2**20, abs=0.06)
    return index_dir


def test_status_of_a_fresh_index_is_up_to_date(articles, indexed):
    # (`qa index` run again says "already up to date": tests/test_crash_safety.py runs it.)
    status = qa("index", "--status", "--articles", str(articles), "--index", str(indexed))
    assert_ok(status)
    assert status.stdout.strip() == f"{indexed}: up to date (9 articles)"


def test_incremental_index_embeds_only_changes_and_matches_a_full_rebuild(
    tmp_path, articles, indexed, embedder
):
    folder, index_dir = tmp_path / "articles", tmp_path / "index"
    shutil.copytree(articles, folder)
    shutil.copytree(indexed, index_dir)
    before = {p.passage_id for p in open_index(index_dir).passages}
    (folder / "library.md").write_text(NEW_ARTICLE, encoding="utf-8")
    with open(folder / "tram-line.md", "a", encoding="utf-8") as handle:
        handle.write("\nThe tram line will be extended to the airport by 2027, the transport office said.\n")
    (folder / "film-festival.txt").unlink()

    status = qa("index", "--status", "--articles", str(folder), "--index", str(index_dir))
    assert_ok(status, 1)  # 1: stale, for scripts
    assert "stale: 1 new, 1 changed, 1 removed, 7 unchanged articles" in status.stdout
    for line in ("new: library.md", "changed: tram-line.md", "removed: film-festival.txt"):
        assert line in status.stdout

    done = qa("index", "--articles", str(folder), "--index", str(index_dir))
    assert_ok(done)
    counts = re.search(
        r"(\d+) passages \((\d+) embedded, (\d+) reused; 1 new, 1 changed, 1 removed articles\)", done.stdout
    )
    assert counts, done.stdout
    after = open_index(index_dir)
    changed = [p for p in after.passages if p.article_id in ("library.md", "tram-line.md")]
    assert int(counts[2]) == len(changed) and int(counts[1]) == len(after.passages)
    # Passage ids are stable: every passage of an unchanged article keeps its id.
    unchanged = {p.passage_id for p in after.passages if p.article_id not in ("library.md", "tram-line.md")}
    assert unchanged == {i for i in before if not i.startswith(("tram-line.md::", "film-festival.txt::"))}
    assert not any(p.article_id == "film-festival.txt" for p in after.passages)
    assert_ok(qa("index", "--status", "--articles", str(folder), "--index", str(index_dir)))

    build_index(folder, tmp_path / "full", embedder, rebuild=True)
    full = open_index(tmp_path / "full")
    assert [p.passage_id for p in after.passages] == [p.passage_id for p in full.passages]
    assert [p.text for p in after.passages] == [p.text for p in full.passages]
    np.testing.assert_allclose(after.vectors, full.vectors, atol=1e-5)
    incremental_search, full_search = (
        Retriever(LocalStore(after), embedder),
        Retriever(LocalStore(full), embedder),
    )
    for question in (
        "How many books are on the floating library?",
        QUESTION,
        "When will the tram reach the airport?",
    ):
        for mode in ("dense", "keyword", "hybrid"):
            got = incremental_search.search(question, 5, mode=mode)
            want = full_search.search(question, 5, mode=mode)
            assert [h.passage.passage_id for h in got] == [h.passage.passage_id for h in want], (
                question,
                mode,
            )
            np.testing.assert_allclose([h.score for h in got], [h.score for h in want], atol=1e-4)


@pytest.fixture(scope="module")
def asked(indexed) -> dict[str, tuple[str, subprocess.CompletedProcess]]:
    """Every `qa ask` of this module, run side by side (each one loads the model): name -> (what
    the one line of a refusal says, the finished command)."""
    root = indexed.parent
    damaged, flipped = root / "damaged", root / "flipped"
    shutil.copytree(indexed, damaged)
    vectors = store.current_generation(damaged) / store.VECTORS_FILE
    vectors.write_bytes(vectors.read_bytes()[:-3])  # cut short: every load sees it
    shutil.copytree(indexed, flipped)
    vectors = store.current_generation(flipped) / store.VECTORS_FILE
    data = bytearray(vectors.read_bytes())
    data[-3] ^= 0x55  # same size: `qa index --check` finds it
    vectors.write_bytes(bytes(data))
    ask = ("--reader", "bundled")
    # Questions too long or with control characters, and bad option values, are refused by the same
    # code in-process (tests/test_hostile_input.py); each command here costs a model load.
    cases = {
        "json": (("ask", QUESTION, "--index", str(indexed), *ask, "--json"), ""),
        "empty question": (("ask", " \t ", "--index", str(indexed), *ask), "The question is empty"),
        "not UTF-8": (("ask", b"caf\xe9 prices?", "--index", str(indexed), *ask), "not valid text"),
        "damaged index": (("ask", QUESTION, "--index", str(damaged), *ask), "is damaged: vectors.npy"),
        "no index": (("ask", QUESTION, "--index", str(root / "none"), *ask), "No index in"),
        "flipped byte found by --check": (
            ("index", "--check", "--index", str(flipped)),
            "is damaged: vectors.npy",
        ),
        "reader folder typo": (
            ("ask", QUESTION, "--index", str(indexed), "--reader", str(root / "models" / "tinyroberta-typo")),
            "does not exist",
        ),
        "no training file": (
            ("train-reader", "--train", str(root / "none.json"), "--out", str(root / "run")),
            "training file not found",
        ),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:  # independent commands, mostly importing torch
        return dict(zip(cases, pool.map(lambda case: (case[1], qa(*case[0])), cases.values())))


def test_ask_json_gives_the_answer_and_its_citation(asked):
    done = asked["json"][1]
    assert_ok(done)
    data = json.loads(done.stdout)
    assert (
        "412 million" in data["answer"]
        and data["question"] == QUESTION
        and data["reader"].startswith("bundled:")
    )
    first = data["citations"][0]
    assert first["text"][first["start"] : first["end"]] == data["answer"]
    assert set(data) >= {
        "question",
        "answer",
        "confidence",
        "no_answer_score",
        "citations",
        "search_query",
        "alternatives",
        "timings_ms",
    }


@pytest.mark.parametrize(
    "name",
    [
        "empty question",
        "not UTF-8",
        "damaged index",
        "no index",
        "reader folder typo",
        "no training file",
        "flipped byte found by --check",
    ],
)
def test_ask_refuses_bad_input_in_one_line_with_exit_status_2(asked, name):
    message, done = asked[name]
    assert_user_error(done, message)
    if name in ("damaged index", "flipped byte found by --check"):
        assert "qa index --rebuild" in done.stderr


def test_output_piped_into_a_reader_that_leaves_ends_quietly(articles, indexed):
    # `qa ... | head -1`: the pipe is closed before the command writes; no traceback, the shell's 141.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_EMBED_BACKEND": EMBED_BACKEND}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "index",
            "--status",
            "--articles",
            str(articles),
            "--index",
            str(indexed),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    try:
        stderr = process.communicate(timeout=60)[1].decode("utf-8", "replace")
    finally:
        process.kill()
    assert process.returncode == 141 and stderr == "", (process.returncode, stderr)


def test_index_run_again_without_articles_keeps_the_folder_it_was_built_from(tmp_path, articles, embedder):
    # `qa index --store S` again must mean "bring S up to date", never "rebuild S from the samples".
    own = tmp_path / "own articles"
    own.mkdir()
    (own / "quibbleton.md").write_text(NEW_ARTICLE, encoding="utf-8")
    index_dir = tmp_path / "index"
    assert_ok(qa("index", "--articles", str(own), "--index", str(index_dir)))
    status = qa("index", "--status", "--index", str(index_dir), timeout=60)
    assert_ok(status)
    assert status.stdout.strip() == f"{index_dir}: up to date (1 articles)"
    again = qa("index", "--index", str(index_dir))
    assert_ok(again)
    assert again.stdout.strip() == f"{index_dir}: already up to date (2 passages from 1 articles)"
    shutil.rmtree(own)
    assert_user_error(
        qa("index", "--index", str(index_dir), timeout=60),
        "which is gone; name the articles with --articles DIR",
    )


def test_the_terminal_tells_a_weak_answer_from_none_and_lists_the_candidates():
    from qa.terminal import format_answer
    from qa.types import Answer, Citation

    closest = Citation(
        "a.md::0.0",
        "a.md",
        "Spyware report",
        "2019-11-02",
        "https://example.org/a",
        0,
        None,
        None,
        "Over 1,400 users were targeted.",
        0.8,
    )
    weak = Answer("How many users?", "1,400", 0.31, 0.001, "bundled:test", (closest,))
    declined = format_answer(
        Answer("How many users?", None, None, 0.001, "bundled:test", (closest,), alternatives=(weak,))
    )
    assert declined.startswith(
        "The articles may hold an answer, but none is clear enough to give. Closest passages:"
    )
    assert "Candidates considered, too weak to give as an answer: '1,400' (0.31)" in declined
    refused = format_answer(
        Answer(
            "How many users?",
            None,
            None,
            0.9,
            "bundled:test",
            (closest,),
            alternatives=(Answer("How many users?", "1,400", 0.05, 0.9, "bundled:test", (closest,)),),
        )
    )
    assert refused.startswith("The articles do not hold an answer to this question. Closest passages:")


def test_the_terminal_marks_the_span_and_cuts_only_long_passages():
    from qa.terminal import format_answer
    from qa.types import Answer, Citation

    short = "The tram cost 412 million euros."
    cited = Citation(
        "a.md::0.0", "a.md", "Tram opens", "2024-03-14", "https://example.org/t", 0, 14, 31, short, 0.9
    )
    shown = format_answer(
        Answer("How much?", "412 million euros", 0.9, 0.0, "bundled:test", (cited,), search_query="How much?")
    )
    assert shown.endswith("paragraph 1: The tram cost [412 million euros].") and "Searched for" not in shown
    long = "The promised line " * 12 + "cost 412 million euros. " + "Riders praised it " * 12
    start = long.index("412")
    cut = Citation(
        "a.md::0.0",
        "a.md",
        "Tram opens",
        "2024-03-14",
        "https://example.org/t",
        0,
        start,
        start + 17,
        long,
        0.9,
    )
    shown = format_answer(
        Answer("How much?", "412 million euros", 0.9, 0.0, "bundled:test", (cut,), search_query="How much?")
    )
    snippet = shown.splitlines()[-1]
    assert "[412 million euros]" in snippet
    # Cut where the passage goes on, and at a space: whole words on both sides.
    inner = snippet.removeprefix("    paragraph 1: ...").removesuffix("...")
    assert (
        snippet.endswith("...")
        and inner != snippet
        and long.find(inner.replace("[", "").replace("]", "")) >= 0
    )
    assert inner.split(" ", 1)[0] in {"The", "promised", "line"} and inner.rsplit(" ", 1)[1] in {
        "Riders",
        "praised",
        "it",
    }


def test_a_missing_library_is_one_line_with_what_to_do(indexed, monkeypatch, capsys):
    from qa import cli

    def missing(*_args, **_kwargs):
        raise ModuleNotFoundError("No module named 'sentence_transformers'")

    monkeypatch.setattr("qa.pipeline.QAPipeline.load", missing)
    assert cli.main(["ask", QUESTION, "--index", str(indexed)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: No module named 'sentence_transformers'; run newsqa from the Python environment"
    )
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_index_check_passes_on_a_whole_index(indexed):
    done = qa("index", "--check", "--index", str(indexed), timeout=120)
    assert done.returncode == 0 and "files match their checksums" in done.stdout, done.stderr


def test_index_refuses_articles_that_are_no_folder_in_one_line(tmp_path):
    fifo = tmp_path / "articles.md"
    os.mkfifo(fifo)
    for articles, message in (
        (tmp_path / "none", "does not exist"),
        (fifo, "not a folder or a regular file"),
    ):
        done = qa(
            "index", "--status", "--articles", str(articles), "--index", str(tmp_path / "index"), timeout=60
        )
        assert_user_error(done, message)


def test_unknown_option_value_is_refused_by_the_parser():
    done = qa("ask", QUESTION, "--mode", "telepathy")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "invalid choice: 'telepathy'" in done.stderr


def test_bad_question_and_bad_wait_are_refused_before_any_model_loads(tmp_path):
    # No index exists here: had the models loaded first, the message would be about the index.
    assert_user_error(
        qa("ask", "   ", "--index", str(tmp_path / "index"), timeout=60), "The question is empty"
    )
    assert_user_error(
        qa("index", "--wait", "nan", "--index", str(tmp_path / "index"), timeout=60), "--wait must be"
    )
    # Date filters are named as the user typed them, not as SearchFilter's fields.
    bad_from = qa("ask", QUESTION, "--from", "02/11/2019", "--index", str(tmp_path / "index"), timeout=60)
    assert_user_error(bad_from, "--from must be a date written YYYY, YYYY-MM or YYYY-MM-DD")
    reversed_range = qa(
        "ask", QUESTION, "--from", "2020", "--to", "2019-12", "--index", str(tmp_path / "index"), timeout=60
    )
    assert_user_error(reversed_range, "--from '2020' is after --to '2019-12'")
    assert not (tmp_path / "index").exists()
