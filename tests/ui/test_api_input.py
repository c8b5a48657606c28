"""qa/ui/api.py: what /ask takes as history and what it says of a server's files."""

from __future__ import annotations

import pytest

from qa import config
from qa.checks import UserError
from qa.retrieve.conversation import Turn
from qa.ui.api import api_turns, without_server_paths


@pytest.mark.parametrize("history", [5, "who?", {"question": "q"}, 2.5])
def test_a_history_that_is_not_a_list_is_a_message_not_a_traceback(history):
    with pytest.raises(UserError, match="^history must be a list of"):
        api_turns(history)


def test_history_turns_are_read_oldest_first_and_bounded():
    turns = [{"question": f"q{i}", "answer": f"a{i}" if i % 2 else None} for i in range(30)] + [7, "x"]
    read = api_turns(turns)
    assert len(read) == config.MAX_FOLLOW_UP_TURNS - 2  # the last 20 entries, two of them not turns
    assert read[-1] == Turn("q29", "a29") and read[0] == Turn("q12", None)
    assert api_turns(None) == [] and api_turns([]) == []


def test_a_server_path_is_given_relative_to_the_articles_folder_or_by_name():
    data = {
        "citations": [
            {"source": "/srv/news/wire/2024/a.md"},
            {"source": "/elsewhere/b.txt"},
            {"source": "https://example.org/story"},
            {"source": "wire/c.md"},
        ]
    }
    sources = [c["source"] for c in without_server_paths(data, "/srv/news")["citations"]]
    assert sources == ["wire/2024/a.md", "b.txt", "https://example.org/story", "wire/c.md"]
    assert (
        without_server_paths({"citations": [{"source": "/srv/a.md"}]}, "")["citations"][0]["source"] == "a.md"
    )
