"""How the chat looks: its style sheet (the classes qa/ui/chat.py writes) and a Gradio theme with local
fonts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import gradio as gr

CSS = """
.qa-reply { line-height: 1.5; }
.qa-reply .qa-answer { font-size: 1.3em; margin: 0 0 .35em; }
.qa-reply .qa-note { margin: 0 0 .5em; padding: .3em .6em; border-left: 3px solid #d9a400;
  background: rgba(217,164,0,.08); }
.qa-reply .qa-no-answer { color: var(--body-text-color); }
.qa-reply .qa-label { font-weight: 600; margin: .45em 0 .15em; font-size: .92em; }
.qa-reply details.qa-citation { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .3em .65em; margin: .3em 0; background: var(--background-fill-secondary); }
.qa-reply details.qa-citation summary { cursor: pointer; }
.qa-reply .qa-number { font-weight: 700; color: var(--color-accent); }
.qa-reply .qa-title { font-weight: 600; }
.qa-reply .qa-date, .qa-reply .qa-where { white-space: nowrap; }  /* never '2024-' / '09-12' */
.qa-reply .qa-date { color: var(--body-text-color-subdued); }
.qa-reply a.qa-source { color: var(--link-text-color); text-decoration: underline; overflow-wrap: anywhere; }
.qa-reply span.qa-source { color: var(--body-text-color-subdued); font-family: var(--font-mono);
  font-size: .9em; overflow-wrap: anywhere; }
.qa-reply .qa-passage { margin: .45em 0 .2em; padding: .1em 0 .1em .8em;
  border-left: 3px solid var(--color-accent); font-size: .95em; }
.qa-reply mark.qa-mark { background: #ffe066; color: #1f2937; padding: 0 .15em; border-radius: 3px;
  font-weight: 600; }
.qa-reply .qa-where { color: var(--body-text-color-subdued); font-size: .9em; }
.qa-reply details.qa-others { margin-top: .4em; font-size: .92em; }
.qa-reply details.qa-others summary { cursor: pointer; font-weight: 600; }
.qa-reply ul.qa-alternatives { margin: .1em 0 .2em 1.2em; padding: 0; list-style: disc; }
.qa-reply .qa-meta { color: var(--body-text-color-subdued); margin-top: .5em; font-size: .9em; }
.qa-reply .qa-searched { color: var(--body-text-color); font-style: italic; }
.qa-notice { color: var(--body-text-color); }
/* the reply's plain text, for copy and screen readers (qa/ui/script.py) */
.qa-reply .qa-copy { display: none; }
/* each reply is scrolled to its first line; Gradio's scroll-down arrow would cover its sources */
#qa-chat .scroll-down-button-container { display: none !important; }
/* the last answer is at least as tall as the panel (the app's height, 72vh, at least 420px), so a
   short one can be scrolled to the top too; the answer line keeps clear of the panel's icons */
#qa-chat .message-row.bot-row:last-child { min-height: calc(max(72vh, 420px) - 16px); }
.qa-reply .qa-answer { padding-right: 4.5em; }
#qa-hint { color: var(--body-text-color-subdued); font-size: .92em; margin-top: -.25em; }
"""


def theme() -> gr.themes.Base:
    """The default look with local fonts: the app works offline, without fetching web fonts."""
    import gradio as gr

    return gr.themes.Default(
        primary_hue="blue",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )
