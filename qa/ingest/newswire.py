"""Wire-service text as it comes: hard-wrapped lines, paragraphs marked by indentation, a sign-off."""

from __future__ import annotations

import re

_INDENTED = re.compile(r"^(?: {2,}|\t)\S")
# "Reuter", "REUTER", "  Reuter^M" alone on the last line: the agency's sign-off, not the story.
_SIGN_OFF = re.compile(r"\n[ \t]*(?:reuters?|ap|afp|upi)[ \t]*(?:\^M|\r)?[ \t]*\Z", re.IGNORECASE)
# Reuters copy also signs off on the last sentence's own line ("... a year ago. REUTER"); only
# after a sentence's end, so that "..., a spokesman told Reuters" keeps its last word.
_SIGN_OFF_INLINE = re.compile(r"(?<=[.!?\"'”’)])[ \t]+reuters?[ \t]*(?:\^M|\r)?[ \t]*\Z", re.IGNORECASE)
# "more" alone on the last line: the wire's mark that the story goes on in a later take.
_CONTINUED = re.compile(r"\n[ \t]*more[ \t]*(?:\^M|\r)?[ \t]*\Z", re.IGNORECASE)


def unwrap(text: str) -> str:
    """Hard-wrapped text -> one line per paragraph, paragraphs separated by a blank line.

    Inside each blank-line-separated block, a line that starts indented (two spaces or a tab)
    opens a new paragraph, as in newswire copy ("    The dry period means ..."); the other
    lines continue the paragraph they follow. Text without indented lines keeps its paragraphs.

    >>> unwrap("Showers continued in\\nthe Bahia zone.\\n    The dry period means\\nlate crops.")
    'Showers continued in the Bahia zone.\\n\\nThe dry period means late crops.'
    """
    if not any(_INDENTED.match(line) for line in text.split("\n")):
        return text  # no indented paragraphs: the blank lines already mark them
    blocks = []
    for block in re.split(r"\n[ \t]*\n", text):
        paragraphs: list[list[str]] = []
        for line in block.split("\n"):
            if not line.strip():
                continue
            if not paragraphs or _INDENTED.match(line):
                paragraphs.append([])
            paragraphs[-1].append(line.strip())
        blocks.extend(" ".join(words) for words in paragraphs)
    return "\n\n".join(blocks)


def strip_sign_off(text: str) -> str:
    """The story without the wire's closing marks: an agency sign-off ("Reuter", on its own line or
    after the last sentence, sometimes twice) and a "more" line that says another take follows.

    >>> strip_sign_off("Prices rose. REUTER\\n Reuter"), strip_sign_off("Prices rose.\\n more")
    ('Prices rose.', 'Prices rose.')
    """
    text = text.rstrip()
    while True:
        stripped = text
        for mark in (_SIGN_OFF, _SIGN_OFF_INLINE, _CONTINUED):
            stripped = mark.sub("", stripped).rstrip()
        if stripped == text:
            return text
        text = stripped
