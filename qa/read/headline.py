"""A paragraph read with its article's headline in front, so that a paragraph that never names its
subject ("Turnout was 68.4 percent") can still answer a question that does ("the Seabright election").

The same text goes to the reader in training (qa/training/features.py) and in use
(qa/read/steps.py); answers may only come from the paragraph, never the headline.
The headline is text before the paragraph, so of a paragraph longer than one window (384 tokens)
only the first window reads it; news paragraphs almost always fit in one.
"""

from __future__ import annotations

from typing import NamedTuple


class HeadlinedText(NamedTuple):
    """What the reader reads, and where the paragraph starts in it."""

    text: str
    paragraph_start: int  # characters of headline before the paragraph (0: no headline)


def with_headline(headline: str, paragraph: str) -> HeadlinedText:
    """``"Headline. paragraph"`` (no full stop added after a headline that ends in one).

    >>> with_headline("Seabright election", "Turnout was 68.4 percent.")
    HeadlinedText(text='Seabright election. Turnout was 68.4 percent.', paragraph_start=20)
    >>> with_headline("  ", "Turnout was 68.4 percent.").paragraph_start
    0
    >>> lead = "Port Ellery: Turnout was 68.4 percent, the highest since 1998."
    >>> with_headline("Turnout was 68.4…", lead).paragraph_start
    0
    """
    # SQuAD titles are Wikipedia page names ("Super_Bowl_50").
    headline = " ".join(headline.replace("_", " ").split())
    # A paragraph that holds the whole headline learns nothing from it: above all the lead of a
    # plain-text article, whose title is made from that lead's first sentence (read twice, it
    # moved "31 of the 57 seats" to "57").
    if not headline or headline.rstrip("…") in " ".join(paragraph.split()):
        return HeadlinedText(paragraph, 0)
    prefix = headline + ("" if headline[-1] in ".?!:;…" else ".") + " "
    return HeadlinedText(prefix + paragraph, len(prefix))
