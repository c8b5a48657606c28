"""Markdown front matter: the YAML block between '---' lines, parsed safely and bounded."""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_FRONT_MATTER_BYTES = 64 * 1024  # real front matter is a few lines; caps YAML parsing work
MAX_FRONT_MATTER_DEPTH = 20  # nested lists and mappings; real front matter uses two or three

_FRONT_MATTER_OPEN = re.compile(r"---[ \t]*\n")
_FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)


class FrontMatterError(ValueError):
    """Front matter that cannot be used; the message says why."""


class _Loader(yaml.SafeLoader):
    """safe_load's loader, but a timestamp that names no real day ("date: 2024-13-45") stays text:
    the article keeps its text and goes undated, as a JSONL line with the same date does."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(metadata, body); a file that does not open with '---' has no front matter."""
    opening = _FRONT_MATTER_OPEN.match(text)
    if not opening:
        return {}, text
    closing = _FRONT_MATTER_CLOSE.search(text, opening.end())
    if not closing:
        raise FrontMatterError("front matter has no closing '---' line")
    block = text[opening.end() : closing.start()]
    if len(block.encode()) > MAX_FRONT_MATTER_BYTES:
        raise FrontMatterError(f"front matter is over {MAX_FRONT_MATTER_BYTES} bytes")
    try:
        _check_yaml_events(block)
        meta = yaml.load(block, Loader=_Loader)  # a SafeLoader: tags such as !!python/object are refused
    except FrontMatterError:
        raise
    except (yaml.YAMLError, ValueError) as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise FrontMatterError(f"invalid YAML front matter ({problem})") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError(f"front matter is a YAML {type(meta).__name__}, not a mapping")
    return meta, text[closing.end() :]


def _check_yaml_events(block: str) -> None:
    """Refuse YAML that is cheap to write but costly to load, before anything is built from it.

    Aliases let a few hundred bytes expand into billions of nodes ("billion laughs"), and PyYAML
    slows quadratically with nesting depth ("[[[[..."); article metadata needs neither.
    """
    depth = 0
    for event in yaml.parse(block, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise FrontMatterError("front matter uses YAML aliases, which are not allowed")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_FRONT_MATTER_DEPTH:
                raise FrontMatterError(f"front matter nests deeper than {MAX_FRONT_MATTER_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
