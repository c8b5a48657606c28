"""Follow-up questions: rewrite "When did he say that?" into a self-contained search query."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa import config
from qa.types import Query

_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
# Words that point back at an earlier turn instead of naming what they mean. Personal pronouns
# almost always do; "it", "that", "there" are as often part of a self-contained question
# ("the company that sued NSO", "how much did it cost and who paid for it" with its subject named),
# so they count only in a question with few words of its own.
_POINTING = {"he", "she", "him", "her", "his", "hers", "they", "them", "their", "theirs", "same"}
_WEAK_POINTING = {"it", "its", "that", "this", "those", "these", "there", "then", "also", "else"}
_REFERRING = _POINTING | _WEAK_POINTING
# Words that stand for a person: the last answer is carried for them only when it names one.
_PERSONAL = {"he", "she", "him", "her", "his", "hers"}
# "And in India?", "What about the tram?": the question swaps one detail of the last one.
_OPENERS = ("and ", "and?", "what about", "how about", "also ", "but ", "same ")
_STOPWORDS = (
    {
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "and",
        "or",
        "say",
        "said",
        "about",
        "as",
        "into",
        "has",
        "have",
        "had",
        "can",
        "could",
        "would",
        "will",
        "should",
        "any",
        "some",
        "me",
        "tell",
        "please",
        "not",
        "no",
    }
    | config.QUESTION_WORDS
    | _REFERRING
)
# The phrase that sets the answer type ("how many" wants a count, "when" a date). "What about" and
# "how about" only swap a detail, so they ask nothing of their own.
_ASKING = re.compile(
    r"\b(?:how (?:many|much|long|old|far|big|large|often)|whom|whose|who|when|where|which|why|what|how)\b",
    re.IGNORECASE,
)
_SWAPPING = re.compile(r"\b(?:what|how) about\b", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """One earlier exchange: the question as the user asked it and the answer given (None: no answer)."""

    question: str
    answer: str | None = None


def _words(text: str) -> list[str]:
    """The words of `text`, acronyms ("IT", "US", "WHO") marked by keeping their capitals.

    Every other word is lower-cased, so "IT Minister" is not read as the pronoun "it". A text in
    capitals throughout has no telling acronyms, so all of it is lower-cased.
    """
    words = _WORD.findall(text)
    shouting = all(not w.islower() for w in words)
    return [w if not shouting and len(w) > 1 and w.isupper() else w.lower() for w in words]


def content_words(text: str) -> list[str]:
    """The words that name something: not stopwords, not pointing words; acronyms count."""
    return [w for w, lowered in zip(_WORD.findall(text), _words(text)) if lowered not in _STOPWORDS]


def _answer_words(answer: str) -> list[str]:
    # Whole tokens, so "1,400" and "4.25" stay one term instead of "1" and "400".
    words = (w.strip(".,;:!?\"'“”‘’()[]") for w in answer.split())
    return [w for w in words if w and w.lower() not in _STOPWORDS]


def _points_back(question: str) -> bool:
    """True when the question uses a word that stands for something named in an earlier turn."""
    words = set(_words(question))
    if words & _POINTING:
        return True
    return (
        bool(words & _WEAK_POINTING)
        and len(content_words(question)) < config.FOLLOW_UP_WEAK_POINTING_MIN_WORDS
    )


def is_follow_up(question: str) -> bool:
    """Whether the question leans on the conversation ("And in India?", "When did he say that?").

    Example:
        >>> is_follow_up("When did he say that?"), is_follow_up("Who is the mayor of Valmora?")
        (True, False)
    """
    if not _WORD.search(question):
        return False
    lowered = question.strip().lower()
    own_words = len(content_words(question))
    # "And in India?" leans on the last question; "And in Santa Irena, how much water may people
    # use?" only starts like it.
    opened = lowered.startswith(_OPENERS) and (
        not _asking_phrase(question) or own_words < config.FOLLOW_UP_OPENER_MIN_WORDS
    )
    return opened or _points_back(question) or own_words < config.FOLLOW_UP_SELF_CONTAINED_MIN_WORDS


def contextualize(question: str, history: Sequence[Turn]) -> str:
    """The search text of `follow_up_query`: the question, then the carried words in parentheses.

    Example:
        >>> contextualize("And in India?", [Turn("How many users were targeted by the spies?", "1,400")])
        'And in India? (how many users targeted spies)'
        >>> earlier = [Turn("Who accused the government of spying?", "Mamata Banerjee")]
        >>> contextualize("When did she say that?", earlier)
        'When did she say that? (accused government spying Mamata Banerjee)'
    """
    return follow_up_query(question, history).search_text


def follow_up_query(question: str, history: Sequence[Turn]) -> Query:
    """The question, plus what the conversation was about when the question leans on it.

    Context words are appended (not substituted): the question itself still decides the answer
    type ("When ..." wants a date), the context steers retrieval; a question that asks nothing of
    its own ("And in India?", "What about the tram?") takes the earlier question's asking phrase.
    The words come from the earlier questions back to the last self-contained one (so a follow-up
    of a follow-up keeps the topic) and, when the question points at something ("he", "that"),
    from the last answer: "When did he say that?" wants the person just named, while "And in
    India?" swaps the detail the last answer gave and is better searched without it.

    Example:
        >>> earlier = [Turn("How many users were targeted by the spies?", "1,400")]
        >>> follow_up_query("And in India?", earlier).context
        ('how many', 'users', 'targeted', 'spies')
    """
    if not history or not is_follow_up(question):
        return Query(question)
    own = {w.lower() for w in content_words(question)}
    topic: list[str] = []
    asking = ""
    for turn in reversed(history):
        topic = content_words(turn.question) + topic
        asking = asking or _asking_phrase(turn.question)
        if not is_follow_up(turn.question):
            break
    if _asking_phrase(question):
        asking = ""  # "When did he say that?" sets its own answer type
    answer = _carried_answer(question, history[-1].answer)
    seen = set(own)
    topic = [w for w in topic if not (w.lower() in seen or seen.add(w.lower()))]
    answer = [w for w in answer if not (w.lower() in seen or seen.add(w.lower()))][
        : config.FOLLOW_UP_MAX_CONTEXT_WORDS
    ]
    # Over the cap, the oldest topic words go first; what "he" or "that" stands for stays.
    room = config.FOLLOW_UP_MAX_CONTEXT_WORDS - len(answer)
    unique = (topic[-room:] if room > 0 else []) + answer
    # "And in India?" asks what the last question asked: its asking phrase leads the context.
    unique = ([asking] if asking else []) + unique
    return Query(question.strip(), tuple(unique)) if unique else Query(question)


def _carried_answer(question: str, answer: str | None) -> list[str]:
    """The last answer's words, when the question points at it: "When did he say that?" after
    "Mamata Banerjee". "He" or "she" stands for a person, so an answer with figures ("500 euros",
    perhaps a wrong answer) or without a capitalised word is no referent of theirs."""
    if not answer or not _points_back(question):
        return []
    if set(_words(question)) & _PERSONAL and not _names_someone(answer):
        return []
    return _answer_words(answer)


def _names_someone(answer: str) -> bool:
    return not any(ch.isdigit() for ch in answer) and any(word[:1].isupper() for word in answer.split())


def _asking_phrase(question: str) -> str:
    """The question's own asking phrase, lower-cased ("how many"), or "" when it has none."""
    match = _ASKING.search(_SWAPPING.sub(" ", question))
    return match.group().lower() if match else ""
