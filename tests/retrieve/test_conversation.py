"""Follow-up rewriting: which questions lean on the conversation, and what is added to them."""

from __future__ import annotations

import pytest

from qa import config
from qa.retrieve.conversation import (
    Turn,
    contextualize,
    is_follow_up,
)

SPIES = Turn("How many users were targeted by the spies?", "1,400")
MAMATA = Turn("Who accused the government of using NSO Group to watch politicians?", "Mamata Banerjee")


@pytest.mark.parametrize(
    "question",
    [
        "When did he say that?",
        "And in India?",
        "What about the tram?",
        "Who paid?",
        "Why?",
        "What did she add?",
        "Where is it?",
        "How much did that cost?",
        "WHEN DID HE SAY THAT?",
        "What did the US say about it?",
    ],
)
def test_follow_ups(question):
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    [
        "Who is the mayor of Valmora?",
        "How many users were targeted by the spies?",
        # an acronym is not a pronoun
        "Who is the IT Minister of India?",
        # a relative "that" and an "it" whose subject is named are not pointing back
        "What is the name of the company that sued NSO Group?",
        "How much did the Green Line tram cost and who paid for it?",
        "",
        "???",
        # starts like "And in India?" but asks its own question with words of its own
        "And in Santa Irena, how much water may people use?",
        "And who paid for the Green Line tram?",
    ],
)
def test_self_contained(question):
    assert not is_follow_up(question)


def test_no_history_or_self_contained_question_is_unchanged():
    assert contextualize("When did he say that?", []) == "When did he say that?"
    assert contextualize("Who is the mayor of Valmora?", [SPIES]) == "Who is the mayor of Valmora?"


def test_pronoun_follow_up_gets_topic_and_last_answer():
    query = contextualize("When did she say that?", [MAMATA])
    assert query.startswith("When did she say that? (")
    for word in ("accused", "government", "NSO", "politicians", "Mamata", "Banerjee"):
        assert word in query


def test_ellipsis_follow_up_gets_topic_without_the_answer_it_replaces():
    query = contextualize("And in India?", [SPIES])
    # It asks what the last question asked: "how many" leads the context, so the answer type holds.
    assert query == "And in India? (how many users targeted spies)"
    assert "1,400" not in query


def test_a_follow_up_with_its_own_asking_word_keeps_it():
    assert (
        contextualize("What about the tram?", [Turn("How much did the bridge cost?", "5 million")])
        == "What about the tram? (how much bridge cost)"
    )
    query = contextualize("When did she say that?", [MAMATA])
    assert "(who" not in query and "when" not in query[query.index("(") :]


def test_answer_numbers_stay_whole():
    assert contextualize("Who said that?", [SPIES]).endswith("(users targeted spies 1,400)")


def test_he_or_she_carries_the_last_answer_only_when_it_names_someone():
    fined = Turn("How much was Nimbly fined?", "500 euros")
    assert contextualize("When did he say that?", [fined]) == "When did he say that? (Nimbly fined)"
    assert contextualize("When was that?", [fined]).endswith("500 euros)")  # "that" may be the figure
    assert contextualize("When did he say that?", [Turn("Who fined Nimbly?", "Jonas Lindqvist")]).endswith(
        "(fined Nimbly Jonas Lindqvist)"
    )


def test_and_with_few_words_of_its_own_is_still_a_follow_up():
    assert (
        is_follow_up("And how much?")
        and is_follow_up("And in India?")
        and is_follow_up("And what did she add?")
    )


def test_follow_up_of_a_follow_up_keeps_the_topic():
    history = [MAMATA, Turn("When did she say that?", "Saturday")]
    query = contextualize("And where?", history)
    assert "NSO" in query and "politicians" in query
    # "And where?" swaps a detail: the last answer is not searched for
    assert "Saturday" not in query


def test_topic_stops_at_the_last_self_contained_question():
    history = [SPIES, MAMATA, Turn("When did she say that?", "Saturday")]
    query = contextualize("And where?", history)
    assert "spies" not in query and "NSO" in query


def test_words_already_in_the_question_are_not_repeated():
    query = contextualize("And the government in India?", [MAMATA])
    assert query.count("government") == 1


def test_no_answer_turn_still_gives_its_topic():
    query = contextualize("When did he say that?", [Turn("Who criticised the tram budget?", None)])
    assert query == "When did he say that? (criticised tram budget)"


def test_context_is_capped_and_keeps_the_answer():
    long = Turn(" ".join(f"word{i}" for i in range(30)) + "?", "Ana Ribeiro")
    query = contextualize("What did she say?", [long])
    context = query[query.index("(") + 1 : -1].split()
    assert len(context) == config.FOLLOW_UP_MAX_CONTEXT_WORDS
    assert context[-2:] == ["Ana", "Ribeiro"]
    assert "word29" in context and "word0" not in context
