"""The crafted corpus of the retrieve tests: a wire story in three outlets' versions, a follow-up, a
quote two articles repeat, others; and a model-free embedder to index it with."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np

STORY = (
    "Rescue teams reached the village of Morrow Creek on Tuesday after a landslide cut the only road. "
    "Officials said forty families had been moved to the school hall overnight. "
    "The regional council promised to reopen the road within ten days and to pay for temporary housing. "
    "Engineers will inspect the slope again on Friday before any family is allowed back."
)


class HashEmbedder:
    """Bag of words hashed into 256 dimensions: cosines follow shared words, and no model loads."""

    name = "test/hashed-words"
    dimension = 256

    def encode(self, texts, *, show_progress=False):
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, zlib.crc32(word.encode()) % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)


LANDSLIDE = [
    STORY,
    "Residents described a roar before dawn. Maria Okafor, who runs the village shop, said the mud "
    "stopped a few metres from her door. Her family of five spent the night with neighbours on the hill.",
    "The council's chief engineer, Tomas Reyes, said the hillside had moved after three weeks of heavy "
    "rain. He warned that a second slip was possible and asked drivers to keep away from the valley road.",
    "Aid groups have sent blankets, drinking water and two field kitchens. The school will stay closed "
    "to pupils until the families can return home.",
]
QUOTE = (
    "“We will not leave a single family without a roof, and every household that lost its home will "
    "receive support until the valley road is open again,” the minister for regional affairs said"
)
OTHER_STORIES = {
    "outlet-d/followup.md": (
        "2024-05-09",
        "https://outlet-d.example/landslide-inquiry",
        [
            "An inquiry into the Morrow Creek landslide opened on Thursday. Geologists told the panel that "
            "the slope had been marked as unstable in a survey ten years ago, but no drainage was built.",
            "The council leader said the report would be published in full and apologised to residents.",
        ],
    ),
    "outlet-e/minister.md": (
        "2024-05-03",
        "https://outlet-e.example/minister-visit",
        [
            "The minister visited the school hall on Wednesday and met families who had spent "
            "three nights there.",
            QUOTE + " during the visit.",
        ],
    ),
    "outlet-f/budget.md": (
        "2024-05-04",
        "https://outlet-f.example/emergency-fund",
        [
            "Parliament approved an emergency fund for landslide victims on Thursday after a short debate.",
            QUOTE + " in a statement.",
        ],
    ),
    "outlet-g/festival.md": (
        "2023-08-20",
        "https://outlet-g.example/harvest-festival",
        [
            "The harvest festival drew record crowds to the old town this weekend, "
            "with music on three stages and a parade of decorated tractors through the main square.",
        ],
    ),
    "undated/notes.md": (
        None,
        "https://outlet-h.example/notes",
        [
            "Road closures this week include the valley road near Morrow Creek "
            "and two lanes of the ring road.",
        ],
    ),
}


def write_article(folder: Path, relative: str, title: str, date: str | None, url: str, paragraphs) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    front = [f"title: {title}", f"url: {url}"] + ([f"date: {date}"] if date else [])
    path.write_text(
        "---\n" + "\n".join(front) + "\n---\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
    )


def write_crafted_corpus(folder: Path) -> Path:
    """A wire story in three outlets' versions, a follow-up, a quote repeated by two articles, others."""
    write_article(
        folder,
        "outlet-a/landslide.md",
        "Landslide cuts off Morrow Creek",
        "2024-05-01",
        "https://outlet-a.example/landslide",
        LANDSLIDE,
    )
    # Syndicated: the same story with the outlet's credit line (a short last paragraph joins the last
    # passage).
    write_article(
        folder,
        "outlet-b/landslide.md",
        "Landslide isolates village",
        "2024-05-01",
        "https://outlet-b.example/news/landslide",
        [*LANDSLIDE, "(With inputs from Reuters)"],
    )
    # Syndicated with a new first sentence and a dateline.
    lede = "A landslide has left a mountain village cut off. " + STORY.split(". ", 1)[1]
    write_article(
        folder,
        "outlet-c/landslide.md",
        "Village cut off by landslide",
        "2024-05-02",
        "https://outlet-c.example/landslide",
        ["MORROW CREEK (AP) - " + lede, *LANDSLIDE[1:]],
    )
    for relative, (date, url, paragraphs) in OTHER_STORIES.items():
        write_article(folder, relative, relative.split("/")[1][:-3].title(), date, url, paragraphs)
    return folder


def outlets(hit) -> set[str]:
    """The outlet folders a hit cites ("outlet-a", ...)."""
    return {p.article_id.split("/")[0] for p in hit.passages}
