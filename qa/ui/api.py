"""The chat server's named endpoint `/ask`: each parameter named and described on its API page.

`gr.api` makes one input per parameter of the function, labelled "1st", "2nd", ..., and the API page
describes each as "The input value that is provided in the 1st Api component"; here each input is
labelled with its parameter's name and given its description, which the page and gradio_client's
`view_api()` show after that sentence.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from qa import config
from qa.checks import UserError
from qa.retrieve.conversation import Turn

RETURNS = (
    "The answer as `qa ask --json` prints it: question, answer (null when the articles do not hold one), "
    "confidence, no_answer_score, reader, search_query, note, alternatives, timings_ms and citations "
    "(article_id, title, date, source, paragraph, start, end, text; text[start:end] is the answer)."
)


def parameter_descriptions(max_k: int) -> dict[str, str]:
    """What each parameter of /ask means, in the words of the API page."""
    return {
        "question": f"The question, in plain English (at most {config.MAX_QUESTION_CHARS:,} characters).",
        "k": f"How many passages the reader reads: 1 to {max_k} (default {config.DEFAULT_TOP_K}).",
        "mode": "How passages are found: 'hybrid' (meaning and keywords, the default), 'dense' "
        "(meaning) or 'keyword' (BM25).",
        "date_from": "Only articles dated in or after this period: YYYY, YYYY-MM or YYYY-MM-DD; "
        "empty for no bound.",
        "date_to": "Only articles dated in or before this period (the whole month or year it names); "
        "empty for no bound.",
        "source": "Only articles whose source URL or file path contains this text (any case); empty for all.",
        "history": "Earlier turns for a follow-up question, oldest first: "
        '[{"question": "...", "answer": "..." or null}]; empty for a new conversation.',
    }


def describe_endpoint(demo: Any, api_name: str, descriptions: dict[str, str]) -> None:
    """Label the inputs of `api_name` (made by gr.api inside `demo`) with their parameter names and
    descriptions; a parameter without one is refused, so a new parameter cannot go undescribed."""
    for function in demo.fns.values():
        if function.api_name != api_name:
            continue
        names = list(inspect.signature(function.fn).parameters)
        for block, name in zip(function.inputs, names):
            if name not in descriptions:
                raise ValueError(f"/{api_name}: parameter {name!r} has no description")
            block.label = name
            block._api_info = {**block.api_info(), "additional_description": descriptions[name]}
        for block in function.outputs:
            block.label = "answer"
            # (the page reads a return value's "description", a parameter's "additional_description")
            block._api_info = {**block.api_info(), "description": RETURNS}
        return
    raise ValueError(f"no endpoint /{api_name} in the app")


def api_turns(history: Any) -> list[Turn]:
    """/ask's `history`: earlier turns, oldest first, as [{"question": ..., "answer": ...}]."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise UserError(
            'history must be a list of {"question": ..., "answer": ...} turns, oldest first, '
            f"got {type(history).__name__}"
        )
    return [
        Turn(str(t.get("question", ""))[:2000], t["answer"] if isinstance(t.get("answer"), str) else None)
        for t in history[-config.MAX_FOLLOW_UP_TURNS :]
        if isinstance(t, dict)
    ]


def without_server_paths(data: dict[str, Any], articles_root: str) -> dict[str, Any]:
    """An article without a URL is cited by its path; the API gives it relative to the articles
    folder (or its bare name), never the server's absolute path."""
    for citation in data.get("citations", ()):
        source = citation.get("source") or ""
        if "://" in source or not Path(source).is_absolute():
            continue
        path = Path(source)
        root = Path(articles_root) if articles_root else None
        citation["source"] = str(path.relative_to(root)) if root and path.is_relative_to(root) else path.name
    return data
