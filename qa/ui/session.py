"""What the chat's events do, over one session's messages: ask, retry, undo, rate, the API call.

The chat's history (Gradio's messages, HTML for display) goes with a `log`, one JSON-ready entry a
message at the same index: a question as typed, or what its answer said (the turn that follow-ups
build on, and the record a thumbs up/down saves). Undo and retry cut both at the same index, so a
follow-up never builds on an answer that is no longer on screen. No Gradio wiring here (qa/ui/app.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import gradio as gr  # this module is loaded with the app, never by `qa ask`

from qa import config
from qa.retrieve.conversation import Turn
from qa.ui.chat import format_notice, format_question, format_reply, markdown_text
from qa.ui.feedback import FeedbackLog, answer_record

logger = logging.getLogger("qa.app")

APOLOGY = (
    "Sorry, something went wrong while answering this question. "
    "The error has been logged; please try again or rephrase the question."
)
EMPTY_HINT = "Type a question first"


def turns_of(log: Sequence[dict[str, Any]]) -> list[Turn]:
    """The conversation so far, for follow-ups: each answered question with its answer."""
    turns = [Turn(*entry["turn"]) for entry in log if entry.get("turn")]
    return turns[-config.MAX_FOLLOW_UP_TURNS :]


class ChatSession:
    """The event handlers of the chat around one shared pipeline.

    `ask(question, turns, k, mode, date_from, date_to, source)` answers with the options checked
    (it raises the user's errors); `user_errors` are the exceptions whose message is for the user.
    """

    def __init__(
        self,
        pipeline: Any,
        ask: Callable[..., Any],
        user_errors: tuple[type[Exception], ...],
        feedback: FeedbackLog | None,
        *,
        filters: Callable[[Any, Any, Any], dict[str, str | None]],
        examples: Sequence[str] = (),
    ) -> None:
        self.pipeline = pipeline
        self.ask = ask
        self.user_errors = user_errors
        self.feedback = feedback
        self.filters = filters
        # A Markdown component shows the hint: an example (article text) is escaped for it.
        self.hint = EMPTY_HINT + (f", for example: {markdown_text(examples[0])}" if examples else ".")

    def answer(self, message: str, log: list[dict[str, Any]], options: Sequence[Any]) -> tuple[str, dict]:
        """(reply HTML, its log entry); never raises: every failure becomes a reply."""
        try:
            answer = self.ask(message, turns_of(log), *options)
        except self.user_errors as error:
            return format_notice(str(error)), {}
        except Exception:  # noqa: BLE001 - the user gets an apology, the log gets the traceback
            logger.exception("Could not answer %r", message[:200])
            return format_notice(APOLOGY), {}
        k, mode, date_from, date_to, source = options
        record = answer_record(
            answer,
            generation=self.pipeline.store.generation,
            k=int(k),
            mode=str(mode),
            filters=self.filters(date_from, date_to, source),
        )
        return format_reply(answer), {"turn": [answer.question, answer.answer], "record": record}

    def respond(self, message: Any, history: Any, log: Any, *options: Any) -> Iterator[tuple]:
        """Enter or Ask: (history, log, message box, hint) as the question shows, then with its answer."""
        message = message if isinstance(message, str) else ""
        history = list(history or [])
        # A cleared chat starts a new conversation.
        log = list(log or []) if history else []
        if not message.strip():  # nothing asked: no bubble, a hint under the box
            yield history, log, message, gr.update(value=self.hint, visible=True)
            return
        history.append({"role": "user", "content": format_question(message)})
        log.append({"question": message})
        # Show the question at once; the answer follows when the pipeline is done.
        yield history, log, "", gr.update(visible=False)
        reply, entry = self.answer(message, log, options)
        history.append({"role": "assistant", "content": reply})
        log.append(entry)
        yield history, log, "", gr.update(visible=False)

    # Gradio passes the event's data to a parameter annotated with its type: hence the spelled-out options.
    def retry(
        self,
        history: Any,
        log: Any,
        k: Any,
        mode: Any,
        date_from: Any,
        date_to: Any,
        source: Any,
        data: gr.RetryData,
    ) -> Iterator[tuple]:
        """The retry icon: the last question asked again, its old answer gone."""
        history, log, question = self._cut(history, log, data.index)
        yield from self.respond(question, history, log, k, mode, date_from, date_to, source)

    def undo(self, history: Any, log: Any, data: gr.UndoData) -> tuple:
        """The undo icon: the last question and its answer gone, the question back in the box."""
        history, log, question = self._cut(history, log, data.index)
        return history, log, question

    def example(
        self,
        history: Any,
        log: Any,
        k: Any,
        mode: Any,
        date_from: Any,
        date_to: Any,
        source: Any,
        data: gr.SelectData,
    ) -> Iterator[tuple]:
        """An example question clicked on the start screen: asked as if typed."""
        value = data.value if isinstance(data.value, dict) else {}
        question = str(value.get("text") or "")
        yield from self.respond(question, history, log, k, mode, date_from, date_to, source)

    def rate(self, log: Any, data: gr.LikeData) -> None:
        """A thumbs up/down: the answer's record saved with the rating (qa/ui/feedback.py)."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        log = list(log or [])
        if self.feedback is None or not isinstance(index, int) or not 0 <= index < len(log):
            return
        record = log[index].get("record")
        if record:
            self.feedback.save(record, data.liked)

    @staticmethod
    def _cut(history: Any, log: Any, index: Any) -> tuple[list, list, str]:
        history, log = list(history or []), list(log or [])
        index = index[0] if isinstance(index, (list, tuple)) else index
        if not isinstance(index, int) or not 0 <= index < len(history):
            return history, log, ""
        question = log[index].get("question", "") if index < len(log) else ""
        return history[:index], log[:index], question
