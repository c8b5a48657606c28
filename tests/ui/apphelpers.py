"""Start app.py as a real server process for the browser and client tests."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `bench` is a folder of the checkout, not an installed package
    sys.path.insert(0, str(REPO_ROOT))

# The server process itself is shared with the soak bench (bench/appserver.py).
from bench.appserver import running_app  # noqa: E402, F401

# Two fictional reports of one story (tests/conftest.py's story_pair_dir).
STORY_PAIR = REPO_ROOT / "tests" / "data" / "story-pair"

HOSTILE_TITLE = "<script>window.__xss=1</script>Hostile"
HOSTILE_IMG = '<img src=x onerror="window.__xss=2">'
HOSTILE_PARAGRAPHS = (
    f"The Zorblatt bulletin carried a planted tag {HOSTILE_IMG} beside a script tag "
    "<script>window.__xss=4</script> in its opening paragraph.",
    "The Zorblatt bulletin was printed by the Quibbleton Gazette in the town of Fennimore, "
    "which sold 7,300 copies of it in May 2021.",
)
HOSTILE_ARTICLE = f"""---
title: '{HOSTILE_TITLE}'
date: 2021-05-05
source: 'javascript:window.__xss=3'
---

{HOSTILE_PARAGRAPHS[0]}

{HOSTILE_PARAGRAPHS[1]}
"""


def import_app():
    """The chat app module (qa/ui/app.py; app.py at the top only starts it)."""
    import qa.ui.app

    return qa.ui.app


# Two sample articles that report one rate in June and another in September (the recency note).
RATE_ARTICLES = ("central-bank-rate.md", "central-bank-rate-september.md")


def write_corpus(folder: Path) -> Path:
    """The story pair, the two dated rate reports and a hostile article (markup in its title and
    text), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(STORY_PAIR.iterdir()):
        if path.is_file():
            shutil.copyfile(path, folder / path.name)
    for name in RATE_ARTICLES:
        shutil.copyfile(REPO_ROOT / "qa" / "sample_articles" / name, folder / name)
    (folder / "hostile.md").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    return folder


# An article whose sentence the example-question patterns (qa/ui/examples.py) turn into a question
# that carries markup: the start screen must show it as text.
EXAMPLE_MARKUP = "<img src=x onerror=alert(7)>"
EXAMPLE_SENTENCE = (
    f"In June the Zorblatt press said 4,100 souvenir copies were stamped {EXAMPLE_MARKUP} by hand "
    "at the Quibbleton works."
)
HOSTILE_EXAMPLE_ARTICLE = f"""---
title: 'Zorblatt <b>press</b> run'
date: 2021-06-01
---

{EXAMPLE_SENTENCE}

The stamping took nine days, the press said.
"""

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
