"""Small web pages written for the tests: an article with the furniture real news pages put around it.

Imported as `web_pages`: pytest puts this folder on sys.path (tests/ is not a package)."""

from __future__ import annotations

from html import escape

STORY = (
    "The Valmora harbour board approved a plan on Tuesday to rebuild the old north pier, which has "
    "been closed to the public since a storm damaged its wooden deck two winters ago.",
    "Work is due to start in March and the board expects the pier to reopen in the autumn of next "
    "year, after divers have checked every pile below the water line and replaced the rotten ones.",
    "The rebuilding will cost 4.2 million euros, of which the regional fund pays half; the rest comes "
    "from the harbour's own reserves and from a small rise in the mooring fees for larger boats.",
    "Fishermen who still land their catch at the north pier welcomed the decision but asked the board "
    "to keep one berth open during the works, so that the morning market does not have to move.",
    "The board said it would publish the full timetable of the works at the next public meeting, and "
    "that residents could send their questions to the harbour office until the end of the month.",
)
# Furniture: none of these words may reach an article.
MENU = ("Home", "World", "Business", "Sport", "Weather", "Subscribe")
COOKIE = "We use cookies to improve your experience. By continuing you accept all cookies."
RELATED = ("Lighthouse keeper retires after forty years", "New ferry timetable for the islands")
SHARE = "Share this article with your friends on Facebook and Twitter"


def article_page(
    paragraphs: tuple[str, ...] = STORY,
    *,
    title: str = "Harbour board approves the rebuilding of the north pier",
    date: str | None = "2024-05-14",
    canonical: str | None = "https://news.example.org/valmora/north-pier-rebuild",
    charset: str = "utf-8",
) -> str:
    """A news page: menu, cookie banner, headline, the story, a share line, a related list, a footer."""
    meta = f'<meta charset="{charset}">'
    if canonical:
        meta += f'<link rel="canonical" href="{escape(canonical)}">'
    if date:
        meta += f'<meta property="article:published_time" content="{date}T08:30:00+00:00">'
    menu = "".join(f'<li><a href="/{m.lower()}">{m}</a></li>' for m in MENU)
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    related = "".join(f'<li><a href="/r{i}">{escape(r)}</a></li>' for i, r in enumerate(RELATED))
    return (
        f"<!DOCTYPE html><html lang='en'><head>{meta}<title>{escape(title)} | Valmora Courier</title></head>"
        f'<body><header><nav class="menu"><ul>{menu}</ul></nav></header>'
        f'<div class="cookie-banner" id="cookie-consent"><p>{COOKIE}</p><button>Accept</button></div>'
        f"<main><article><h1>{escape(title)}</h1>"
        f'<div class="byline">By Ana Ferreira</div>'
        f'<div class="article-body">{body}</div>'
        f'<div class="share"><p>{SHARE}</p></div>'
        f'<aside class="related"><h3>Related</h3><ul>{related}</ul></aside>'
        f"</article></main><footer><p>Copyright 2024 Valmora Courier. All rights reserved.</p></footer>"
        f"</body></html>"
    )
