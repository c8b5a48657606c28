"""The checkable facts a passage states (figures, dates, names): what two copies must share to fold.

Two passages can read almost alike and still disagree on what matters in news: the June report
says the rate rose to 4.25 percent, the September one 4.5 percent, in nearly the same sentence
(issue 12). The reader sees only one passage of a folded pair, so passages fold only when they
state the same facts. The extraction is deliberately plain (patterns, no model): it only has to
tell copies of one story from updates of it, and when it errs it keeps two passages apart, which
costs a slot, never a fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# "412m", "1.2bn", "5k": the scale written as a suffix means the same as the word after a number.
_SCALE_SUFFIX = re.compile(r"(\d)(m|mn|bn|b|k)\b", re.IGNORECASE)
_SCALES = {"m": "million", "mn": "million", "bn": "billion", "b": "billion", "k": "thousand"}
# A thousands separator is a comma before exactly three digits; any other comma is a decimal point.
_THOUSANDS = re.compile(r",(?=\d{3}(?!\d))")
# Number words -> what they stand for. "one" is left out: it is a pronoun far more often than a
# figure ("one of the"). Ordinals count too ("its third increase" against "the fourth increase").
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
    if word != "one"
}
_NUMBER_WORDS |= dict(
    zip("thirty forty fifty sixty seventy eighty ninety".split(), map(str, range(30, 100, 10)))
)
_NUMBER_WORDS |= {word: word for word in "hundred thousand million billion trillion dozen half".split()}
_NUMBER_WORDS |= {
    word: f"#{value}"
    for value, word in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split(), start=1
    )
}
_MONTHS = frozenset(
    "january february march april may june july august september october november december sept".split()
)
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_RELATIVE_DAYS = frozenset("today yesterday tomorrow tonight".split())
# Capitalised words that start sentences or clauses rather than names ("The Green Line" is "Green Line").
_NOT_NAMES = frozenset(
    "a an the and but or nor so yet in on at of for to by with from as after before since until while "
    "when where if then than that this these those there here his her hers its their our my your he she "
    "it they we you i".split()
)
# "Mr. Weber" is one name: the period of a title does not end it.
_TITLE_DOT = re.compile(r"\b(Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Lt|Col|Capt|St)\.")
# After these a capitalised word may just open a sentence or a quote.
_SENTENCE_OPENERS = frozenset('. ! ? : ; " “ ‘ - – —'.split())
# Words, or any other single non-space character: punctuation between two words ends a name.
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\S")


@dataclass(frozen=True)
class Facts:
    """Figures, dates and names, normalised so that copies written differently compare equal.

    Example:
        >>> a = facts_of("Governor Elena Varga said the rate rose to 4.25 percent on Thursday.")
        >>> sorted(a.figures), sorted(a.dates), sorted(a.names)
        (['4.25'], ['thursday'], ['governor elena varga'])
        >>> a == facts_of("Governor Elena Varga said the rate rose to 4.25% on Thursday (Reuters).")
        True
        >>> a == facts_of("Governor Elena Varga said the rate rose to 4.5 percent on Thursday.")
        False
    """

    figures: frozenset[
        str
    ]  # numbers ("1,400" -> "1400", "4.50" -> "4.5"), number words, scales, ordinals ("#3")
    dates: frozenset[
        str
    ]  # month and weekday names, today / yesterday / tomorrow (years and days are figures)
    names: frozenset[str]  # runs of capitalised words, lower-cased ("elena varga", "valmora")


def facts_of(text: str) -> Facts:
    """The figures, dates and names `text` states."""
    text = _TITLE_DOT.sub(
        r"\1", _SCALE_SUFFIX.sub(lambda m: f"{m.group(1)} {_SCALES[m.group(2).lower()]}", text)
    )
    figures = {_normalise_number(match.group()) for match in _NUMBER.finditer(text)}
    tokens = _TOKEN.findall(text)
    dates: set[str] = set()
    for token in tokens:
        lower = token.lower()
        if lower in _NUMBER_WORDS:
            figures.add(_NUMBER_WORDS[lower])
        if _is_date(token):
            dates.add(lower)
    return Facts(frozenset(figures), frozenset(dates), frozenset(_names(tokens)))


def _names(tokens: list[str]) -> set[str]:
    """Runs of capitalised words: two or more anywhere, one where it does not open a sentence.

    Words in parentheses are left out: that is where outlets put what they add to a copy ("(With
    inputs from Reuters)", "VALMORA (AP) -"). Some scripts have no capitals: there no name is
    found, and the other facts and the text tests decide alone.
    """
    names: set[str] = set()
    run: list[str] = []
    run_opens_sentence = False
    opens_sentence, depth = True, 0
    for token in [*tokens, ""]:  # the empty token closes the last run
        lower = token.lower()
        if token and depth == 0 and _is_name_word(token) and lower not in _NOT_NAMES and not _is_date(token):
            if not run:
                run_opens_sentence = opens_sentence
            run.append(lower[:-2] if lower.endswith(("'s", "’s")) else lower)
        else:
            # A capitalised word opening a sentence is as likely "Officials" or "Residents" as a name.
            if len(run) >= 2 or (run and not run_opens_sentence):
                names.add(" ".join(run))
            run = []
        if token == "(":
            depth += 1
        elif token == ")":
            depth = max(0, depth - 1)
        opens_sentence = token in _SENTENCE_OPENERS
    return names


def _is_date(token: str) -> bool:
    lower = token.lower()
    # Lower-case "may" and "march" are a verb more often than a month.
    return lower in _RELATIVE_DAYS or (token[0].isupper() and (lower in _MONTHS or lower in _WEEKDAYS))


def _is_name_word(token: str) -> bool:
    # Capitalised but not all capitals: "Varga", "McDonald"; "NSO", "PTI" and datelines in capitals
    # ("KOLKATA (PTI) -") are agency tags and places an outlet adds to a copy, not the story's facts.
    return token[0].isupper() and token[0].isalpha() and any(ch.islower() for ch in token[1:])


def _normalise_number(text: str) -> str:
    number = _THOUSANDS.sub("", text).replace(",", ".")
    if number.count(".") > 1:  # "1.2.3": a version or a list, not a figure to normalise
        return number
    whole, _, fraction = number.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole
