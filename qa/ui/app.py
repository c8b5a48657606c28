"""The chat UI: Gradio wiring only (formatting is qa/ui/chat.py); every answer comes from one shared
QAPipeline.

    qa chat [--store DIR|milvus://HOST:PORT/NAME] [--articles DIR] [--host H] [--port P] [--reader NAME]
    (or: python app.py ...)

At start the index is built (or brought up to date) when it is missing or stale against the
articles, then one pipeline is loaded and shared by every session; a question never loads a model.
"""

# No `from __future__ import annotations` here: gr.api reads the endpoint's type hints at runtime.
import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa import arguments, config
from qa.checks import CHAT_LABELS, QuestionError, UserError, check_filter, check_k, check_mode
from qa.logs import quiet_libraries
from qa.retrieve.conversation import Turn
from qa.terminal import safe
from qa.ui.api import api_turns, without_server_paths
from qa.ui.chat import markdown_text
from qa.ui.theme import CSS, theme

if TYPE_CHECKING:  # gradio loads inside the functions: `python app.py --help` stays fast
    import gradio as gr

logger = logging.getLogger("qa.app")

MAX_K = config.MAX_TOP_K
# Several sessions may wait in the queue; the pipeline answers one question at a time (its lock),
# so running more than a couple of events at once only adds threads waiting on that lock.
CONCURRENCY_LIMIT = 2
QUEUE_MAX_SIZE = 64
# Sessions whose chat log the server keeps; the oldest are forgotten first (Gradio keeps 10,000,
# which lets a server's memory grow for hours under many short-lived clients).
SESSION_CAPACITY = 256
LOOPBACK = ("127.0.0.1", "localhost", "::1")
APOLOGY = (
    "Sorry, something went wrong while answering this question. "
    "The error has been logged; please try again or rephrase the question."
)


# --------------------------------------------------------------------------- filters


def parse_filters(date_from: Any, date_to: Any, source: Any) -> dict[str, str | None]:
    """The filter boxes, checked as every door checks them (qa/checks.py): keywords for QAPipeline.ask."""
    checked = check_filter(date_from, date_to, source, CHAT_LABELS)
    return {"date_from": checked.date_from, "date_to": checked.date_to, "source": checked.source}


# --------------------------------------------------------------------------- corpus description


def _placeholder(pipeline: Any) -> str:
    summary = pipeline.store.summary(max_titles=6)
    count, titles = summary.article_count, summary.titles
    first, last = summary.first_date, summary.last_date
    span = "" if first is None else first if first == last else f"{first} to {last}"
    lines = [f"**Ask a question about the {count} indexed article{'s' if count != 1 else ''}**"]
    if span:
        lines[0] += f" ({markdown_text(span)})"
    lines += [f"- {markdown_text(t[:90] + ('…' if len(t) > 90 else ''))}" for t in titles[:6]]
    if count > 6:
        lines.append(f"- … and {count - 6} more")
    lines.append("")
    lines.append(
        "Answers are copied word for word from the articles; open a numbered source to see the paragraph."
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- the app


def build_app(
    pipeline: Any,
    *,
    examples: Sequence[str] = (),
    title: str = "News QA",
    feedback_file: Path | None = None,
) -> "gr.Blocks":
    """The chat app around one loaded pipeline (shared by every session).

    `examples`: questions shown on the start screen (qa/ui/examples.py's `examples_for` makes them
    from the indexed articles). `feedback_file`: where thumbs up/down are appended (default:
    feedback.jsonl in the store's state folder, beside the index; qa/ui/feedback.py).
    Launch it with `.queue()` and `launch(css=CSS)`, as `main` does:

        >>> demo = build_app(QAPipeline.load("index/"), examples=["Who is the mayor?"])  # doctest: +SKIP
        >>> demo.queue().launch(css=CSS)  # doctest: +SKIP
    """
    import gradio as gr

    from qa.ui.api import describe_endpoint, parameter_descriptions
    from qa.ui.feedback import FEEDBACK_FILE, FeedbackLog
    from qa.ui.script import CHAT_JS
    from qa.ui.session import ChatSession

    def ask(
        question: Any, turns: Sequence[Turn], k: Any, mode: Any, date_from: Any, date_to: Any, source: Any
    ):
        """The checked options passed to the shared pipeline; QuestionError/FilterError for the user."""
        if not isinstance(question, str):
            raise QuestionError(f"A question must be text, got {type(question).__name__}")
        return pipeline.ask(
            question,
            k=check_k(k, CHAT_LABELS),
            mode=check_mode(mode, CHAT_LABELS),
            history=list(turns),
            **parse_filters(date_from, date_to, source),
        )

    def ask_api(
        question: str,
        k: int = config.DEFAULT_TOP_K,
        mode: str = config.DEFAULT_RETRIEVAL_MODE,
        date_from: str = "",
        date_to: str = "",
        source: str = "",
        history: list[dict] | None = None,
    ) -> dict:
        """Answer a question from the indexed articles; returns Answer.to_dict() as JSON (the fields of
        `qa ask --json`)."""
        try:
            answer = ask(question, api_turns(history), k, mode, date_from, date_to, source)
        except UserError as error:
            raise gr.Error(str(error), print_exception=False) from None
        except Exception:  # noqa: BLE001
            logger.exception("API: could not answer %r", str(question)[:200])
            raise gr.Error(APOLOGY, print_exception=False) from None
        return without_server_paths(answer.to_dict(), articles_root)

    location = getattr(pipeline, "location", None)
    info = location.info() if location is not None else None
    articles_root = info.articles_dir if info is not None else ""
    if feedback_file is None and location is not None:
        feedback_file = location.state_dir / FEEDBACK_FILE
    session = ChatSession(
        pipeline,
        ask,
        (UserError,),
        FeedbackLog(feedback_file) if feedback_file is not None else None,
        filters=parse_filters,
        examples=examples,
    )
    reader = getattr(pipeline.reader, "name", type(pipeline.reader).__name__)
    with gr.Blocks(title=title, analytics_enabled=False, fill_height=True) as demo:
        gr.Markdown(
            f"## {markdown_text(title)}\n"
            "Ask about the indexed news articles. Every answer is a span copied from an article, "
            "with numbered sources: open one to read the paragraph with the answer marked. "
            f'Follow-up questions ("When did he say that?") build on the earlier ones. '
            f"<small>Reader: {markdown_text(reader)}</small>",
            latex_delimiters=[],
        )
        log = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=4, min_width=360):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    elem_id="qa-chat",
                    height="72vh",
                    min_height=420,
                    layout="panel",
                    autoscroll=False,  # each reply is scrolled to its first line (qa/ui/script.py)
                    render_markdown=False,  # replies are HTML built by qa.ui.chat from escaped text
                    sanitize_html=True,  # and the browser's sanitizer runs on them as well
                    allow_tags=False,
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike"),
                    # copied as plain text, not as the reply's HTML (qa/ui/script.py)
                    buttons=["copy", "copy_all"],
                    placeholder=_start_text(pipeline) if examples else _placeholder(pipeline),
                    examples=[{"text": q} for q in examples] or None,
                )
                with gr.Row():
                    message = gr.Textbox(
                        # one line even on a phone (the chat above says about what)
                        placeholder="Ask a question…",
                        show_label=False,
                        container=False,
                        scale=8,
                        autofocus=True,
                        elem_id="qa-question",
                        max_lines=6,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
                hint = gr.Markdown(visible=False, elem_id="qa-hint", latex_delimiters=[])
            with gr.Column(scale=1, min_width=220):
                gr.Markdown("#### Search options")
                k = gr.Slider(1, MAX_K, value=config.DEFAULT_TOP_K, step=1, label="Passages to read (k)")
                mode = gr.Dropdown(
                    list(config.RETRIEVAL_MODES),
                    value=config.DEFAULT_RETRIEVAL_MODE,
                    label="Retrieval",
                    info="hybrid = meaning + keywords",
                )
                date_from = gr.Textbox(label="Date from", placeholder="YYYY[-MM[-DD]]", max_lines=1)
                date_to = gr.Textbox(label="Date to", placeholder="YYYY[-MM[-DD]]", max_lines=1)
                source = gr.Textbox(label="Source contains", placeholder="e.g. beebom.com", max_lines=1)

        options = [k, mode, date_from, date_to, source]
        outputs = [chatbot, log, message, hint]
        queued = {
            "api_visibility": "private",
            "concurrency_id": "pipeline",
            "concurrency_limit": CONCURRENCY_LIMIT,
            "show_progress": "minimal",
        }
        asked = [message, chatbot, log, *options]
        gr.on([message.submit, send.click], session.respond, asked, outputs, **queued)
        chatbot.retry(session.retry, [chatbot, log, *options], outputs, **queued)
        chatbot.example_select(session.example, [chatbot, log, *options], outputs, **queued)
        chatbot.undo(
            session.undo, [chatbot, log], [chatbot, log, message], api_visibility="private", queue=False
        )
        chatbot.like(session.rate, [log], None, api_visibility="private", queue=False)
        # The chat's trash icon starts a new conversation: forget the turns too.
        chatbot.clear(lambda: [], None, log, api_visibility="private", queue=False)
        gr.api(ask_api, api_name="ask", concurrency_id="pipeline", concurrency_limit=CONCURRENCY_LIMIT)
        describe_endpoint(demo, "ask", parameter_descriptions(MAX_K))
        demo.load(None, None, None, js=CHAT_JS)
    return demo


def _start_text(pipeline: Any) -> str:
    """The start screen above the example questions: what is indexed, in one line."""
    summary = pipeline.store.summary(max_titles=0)
    count, first, last = summary.article_count, summary.first_date, summary.last_date
    span = "" if first is None else first if first == last else f"{first} to {last}"
    line = f"**Ask a question about the {count} indexed article{'s' if count != 1 else ''}**"
    if span:
        line += f" ({markdown_text(span)})"
    return line + "\n\nAnswers are copied word for word from the articles, with their sources. For example:"


# --------------------------------------------------------------------------- command line


def guarded_app_kwargs() -> dict[str, Any]:
    """Gradio's FastAPI app with the guard in front (qa/ui/guard.py): no uploads, small bodies, a rate."""
    from starlette.middleware import Middleware

    from qa.ui.guard import GuardMiddleware

    return {"middleware": [Middleware(GuardMiddleware)]}


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Chat with the news articles: answers with their sources."
    )
    arguments.add_store(parser)
    arguments.add_articles(
        parser,
        "articles folder; built into the index when it is missing or stale "
        "(default: the folder the index was built from, else the bundled samples)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s; 0.0.0.0 for all)"
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")
    parser.add_argument(
        "--auth",
        metavar="USER:PASS",
        default=None,
        help="ask for this user name and password (Gradio's login page); the chat has no login otherwise",
    )
    arguments.add_reader(parser)
    arguments.add_allow_shrink(parser)
    arguments.add_watch(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    quiet_libraries()
    if not 0 < args.port < 65536:
        print(f"error: --port must be between 1 and 65535, got {args.port}", file=sys.stderr)
        return 2
    if args.auth is not None and ":" not in args.auth:
        print("error: --auth must be USER:PASS", file=sys.stderr)
        return 2
    from qa.ui.guard import RepeatFilter

    # Gradio keeps a record of its last 10,000 events in memory; 100 is plenty for its summary, and
    # keeps a busy server's memory level (bench/soak.py: 1.92 -> 0.18 MB/min over 10 minutes).
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "100")

    for handler in logging.getLogger().handlers:
        handler.addFilter(RepeatFilter())  # a flood of bad requests logs a few lines, not megabytes
    if args.host not in LOOPBACK and args.auth is None:
        print(
            f"warning: listening on {args.host}: anyone who can reach port {args.port} can ask questions "
            "and read the indexed articles; the chat has no login unless started with --auth USER:PASS",
            file=sys.stderr,
        )
    try:
        from qa import service

        user_errors = service.user_errors()
    except ImportError as error:
        print(f"error: {error}; {config.INSTALL_HINT}", file=sys.stderr)
        return 1
    try:
        prepared = service.prepare_for_serving(
            args.store,
            args.articles,
            allow_shrink=args.allow_shrink,
            say=lambda line: print(line, flush=True),
        )
        print(f"Loading the pipeline (reader: {args.reader}) ...", flush=True)
        pipeline = service.open_pipeline(args.store, reader=args.reader, embedder=prepared.embedder)
        if args.watch:
            if prepared.articles is None:
                raise UserError(
                    "--watch needs the articles folder the index is built from: pass --articles DIR"
                )
            service.watch_in_background(
                args.store, prepared.articles, say=lambda line: print(line, flush=True)
            )
        from qa.ui.examples import examples_for  # questions from the indexed articles (issue 29)

        demo = build_app(pipeline, examples=examples_for(pipeline))
        demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
        demo.launch(
            server_name=args.host,
            server_port=args.port,
            css=CSS,
            theme=theme(),
            share=False,
            ssr_mode=False,
            show_error=False,
            auth=tuple(args.auth.split(":", 1)) if args.auth else None,
            app_kwargs=guarded_app_kwargs(),
            max_file_size=0,  # the app takes no files; the guard refuses the upload route as well
            state_session_capacity=SESSION_CAPACITY,
        )
    except KeyboardInterrupt:
        return 130
    except user_errors as error:
        print(f"error: {safe(error)}", file=sys.stderr)
        return 2
    except ImportError as error:  # a library loaded on first use (sentence-transformers, torch) is missing
        print(f"error: {error}; {config.INSTALL_HINT}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
