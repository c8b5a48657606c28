"""Text from files and file names made safe to print in a terminal or a log line."""

from __future__ import annotations

import unicodedata


def printable(text: object) -> str:
    """Control and bidirectional-override characters escaped (a name holding U+202E would print
    reversed), and bytes that were not UTF-8 in a file name (surrogateescape) as \\x escapes.

    Example:
        >>> printable("bad_\\udce9.txt"), printable("evil\\u202etxt.md")
        ('bad_\\\\xe9.txt', 'evil\\\\u202etxt.md')
    """
    out = []
    for ch in str(text):
        category = unicodedata.category(ch)
        if category == "Cs":
            # os.fsdecode turns an undecodable byte b into U+DC00 + b; anything else is a lone half
            out.append(f"\\x{ord(ch) - 0xDC00:02x}" if 0xDC80 <= ord(ch) <= 0xDCFF else f"\\u{ord(ch):04x}")
        elif category in ("Cc", "Cf") and ch != "\t":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def is_utf8(name: str) -> bool:
    """Whether a name decoded from the file system holds only real text (no surrogateescape bytes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
