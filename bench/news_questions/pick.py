"""The stories the news question set was written over: a seeded random choice from Reuters-21578.

    python -m bench.news_questions.pick [--corpus FILE] [--count N] [--lead]

Prints one JSON object per chosen story: its id, date, topics and, with --lead, the headline and
first sentence as ingest gives them, which is all a question writer saw before writing the
question (the body was read only afterwards, to mark the answer). The stories are those with a
headline, a dateline and a body of 120 to 600 words, spread over topics (at most PER_TOPIC of one
first topic, more for untagged general news) and never two with the same headline.

The corpus is Reuters-21578, Distribution 1.0 (research use only): this prints from it and
writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench import ROOT

CORPUS = ROOT.parent / "shared" / "corpora" / "reuters21578.jsonl"
SEED = 25  # issue 25
COUNT = 165
PER_TOPIC = 10
PER_UNTAGGED = 40  # stories without a topic are the general news (politics, disasters, courts)


def eligible(corpus: Path) -> Iterator[dict]:
    """Records with a headline, a dateline and a body of a few paragraphs, in file order."""
    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            words = len((record.get("text") or "").split())
            if record.get("title") and record.get("dateline") and 120 <= words <= 600:
                yield record


def choose(corpus: Path, count: int = COUNT, seed: int = SEED) -> list[dict]:
    """`count` records, a seeded shuffle of the eligible ones capped per first topic."""
    records = list(eligible(corpus))
    random.Random(seed).shuffle(records)
    chosen, per_topic, headlines = [], Counter(), set()
    for record in records:
        topic = (record["topics"] or ["none"])[0]
        if per_topic[topic] >= (PER_UNTAGGED if topic == "none" else PER_TOPIC):
            continue
        if record["title"] in headlines:  # the wire repeated stories under the same headline
            continue
        per_topic[topic] += 1
        headlines.add(record["title"])
        chosen.append(record)
        if len(chosen) == count:
            break
    return chosen


def leads(stories: list[int], corpus: Path) -> dict[int, tuple[str, str]]:
    """{story: (headline, first sentence)} as ingest gives them."""
    from bench.news_questions.check import ingested
    from qa.ingest.split import sentence_spans

    result = {}
    for story, article in ingested(corpus, stories).items():
        start, end = sentence_spans(article.paragraphs[0])[0]
        result[story] = (article.title, article.paragraphs[0][start:end])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--lead", action="store_true", help="also print headline and first sentence")
    args = parser.parse_args(argv)
    chosen = choose(args.corpus, args.count)
    stories = [int(record["id"].removeprefix("reuters-")) for record in chosen]
    lead = leads(stories, args.corpus) if args.lead else {}
    for story, record in zip(stories, chosen):
        row = {"story": story, "date": record["date"][:10], "topics": record["topics"]}
        if story in lead:
            row["headline"], row["first_sentence"] = lead[story]
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
