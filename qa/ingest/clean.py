"""Article text cleaning: markdown and WordPress boilerplate, and control characters, removed."""

from __future__ import annotations

import re

# Control characters that are not whitespace (ESC, BEL, NUL from a JSON escape, C1 codes): never
# words, and printed by `qa ask` they would drive the user's terminal. Tab, newline and the
# characters str.split() treats as spaces stay, and are then collapsed with the other whitespace.
CONTROL_CHARS = dict.fromkeys(
    [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F, *range(0x80, 0x85), *range(0x86, 0xA0)]
)

# Markdown and WordPress boilerplate, removed in this order by clean(). Emphasis runs before the
# escapes are undone so that "\_" and "\*" stay literal characters, never markers. No pattern may
# scan past the next bracket or marker: on a 20 MB file, a quadratic regex would never finish.
_IMAGE = re.compile(r"!\[[^\[\]\n]*\]\([^()\[\]\s]*\)")
_LINK = re.compile(r"(?<![\\!])\[([^\[\]\n]*)\]\([^()\[\]\s]*\)")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.M)
# The emphasised text is bounded: an unbounded lazy repeat costs memory per character scanned
# (1.4 GB for "**a" before 10 MB of spaces); no real bold or italic run is this long.
_EMPHASIS_MAX_CHARS = 5000
_STRONG = re.compile(
    rf"(?<![\\*\w])(\*\*|__)(?=\S)((?:\\.|(?!\1)[^\n\\]){{1,{_EMPHASIS_MAX_CHARS}}}?)(?<=[^\s\\])\1(?![*\w])"
)
_EMPHASIS = re.compile(
    rf"(?<![\\*\w])([*_])(?=\S)((?:\\.|(?!\1)[^\n\\]){{1,{_EMPHASIS_MAX_CHARS}}}?)(?<=[^\s\\])\1(?![*\w])"
)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~\"'])")
_SHORTCODE = re.compile(
    r"\[/?(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|caption|embed|gallery|audio|video|playlist)(?:\s[^\[\]\n]*)?\]"
)
_TWEET_PIC = re.compile(r"(?:https?://)?pic\.twitter\.com/\w+")


def clean(text: str) -> str:
    """Drop markdown and WordPress boilerplate, keeping the words a reader would see."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HEADING.sub("", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _ESCAPE.sub(r"\1", text)
    text = _SHORTCODE.sub("", text)
    # An embedded tweet keeps its attribution ("— ANI (@ANI) November 2, 2019": who posted it and
    # when, worth citing); only the link to its picture goes.
    return _TWEET_PIC.sub("", text)
