"""A made-up corpus and a deterministic embedder for the segment tests: fast, and the same in every
process (the crash tests embed in a subprocess)."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

import numpy as np

WORDS = (
    "harbour tram council budget lantern festival river bridge mayor ferry rate bank drought "
    "election storm fishing museum library airport school hospital market vineyard tunnel"
).split()


class HashEmbedder:
    """Words and character trigrams hashed into 128 dimensions, L2-normalised: similar texts are
    close, no two different texts in these corpora tie exactly, and a text's vector never depends on
    its batch. (Exact ties at the k-th dense score are FAISS's to break, by its heap, in a single
    index as in several: the equality tests need none.)"""

    name = "test-hash-embedder"
    dimension = 128
    backend = "hash"

    def encode(self, texts, *, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            text = text.lower()
            grams = re.findall(r"\w+", text) + [text[j : j + 3] for j in range(len(text) - 2)]
            for gram in grams:
                digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
                out[i, digest[0] % self.dimension] += 1.0 + digest[1] / 255
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


def article_text(i: int, rng: random.Random, version: int = 0) -> str:
    words = [rng.choice(WORDS) for _ in range(3)]
    name = "".join(rng.choice("bcdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3)).capitalize()
    paragraphs = [
        f"The {words[0]} of {name} reported {rng.randint(10, 9999)} visitors in {2000 + i % 24}, "
        f"the {words[1]} office said on Monday.",
        f"Officials in {name} said the {words[2]} would cost {rng.randint(2, 900)} million crowns"
        + (f", revised in version {version}." if version else "."),
        f"Residents of {name} and the {words[0]} {words[1]} committee met again about the {words[2]}.",
    ]
    return "\n\n".join(paragraphs[: 1 + i % 3])


def write_article(folder: Path, i: int, version: int = 0) -> Path:
    rng = random.Random(i * 7919 + version)
    path = folder / f"story-{i:03d}.md"
    date = f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}"
    body = article_text(i, rng, version)
    path.write_text(f"---\ntitle: Story {i}\ndate: {date}\n---\n\n{body}\n", encoding="utf-8")
    return path


def write_corpus(folder: Path, count: int, start: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        write_article(folder, i)
    return folder


QUESTIONS = [
    "How many visitors did the harbour report?",
    "What would the tram cost in million crowns?",
    "When did the committee meet about the budget?",
    "lantern festival river",
    "Which office said the bridge cost?",
    "ferry airport tunnel school",
]
