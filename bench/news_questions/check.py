"""Check the news question set: its shape always, and every answer span against ingested Reuters text.

    python -m bench.news_questions.check [--corpus FILE]

Shape: the fields `qa eval` reads (id, question, answers, source) plus story (the story the question
was written from) and split; ids unique over both halves; a story's questions all in one half;
about a quarter unanswerable, and those name no source; answers short quotes. Spans: each answer is
copied verbatim from the text ingest makes of a source story (`qa.ingest.articles.load_article_file`
on ../shared/corpora/reuters21578.jsonl), whole, inside one passage the reader can be given
(`qa.ingest.split.split_article`), so an answer the reader gives can match it; and every source
named holds an answer. Prints one line per problem and exits 1 if there is any, else 0, with the
counts either way.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench import ROOT

FOLDER = ROOT / "bench" / "news_questions"
SPLITS = ("tune", "measure")
CORPUS = ROOT.parent / "shared" / "corpora" / "reuters21578.jsonl"
FIELDS = {"id", "question", "answers", "story", "split"}  # and "source" when there are answers
UNANSWERABLE_SHARE = (0.2, 0.3)  # "about a quarter"
MAX_SPAN_CHARS = 150  # a clause at most: Reuters text is not to be copied into the repository


def _is_source_name(name: object) -> bool:
    """The article id ingest gives Reuters story N: "reuters21578.jsonl#N", line N of the file."""
    prefix = f"{CORPUS.name}#"
    return isinstance(name, str) and name.startswith(prefix) and name[len(prefix) :].isdigit()


def _story(name: str) -> int:
    return int(name.rpartition("#")[2])


def load(folder: Path = FOLDER) -> dict[str, list[dict]]:
    """{split: its question records, in file order}."""
    return {
        split: [
            json.loads(line)
            for line in (folder / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        for split in SPLITS
    }


def shape_problems(sets: dict[str, list[dict]]) -> list[str]:
    """What is wrong with the files whatever the corpus: fields, ids, halves, the unanswerable share."""
    problems, seen_ids, story_split = [], set(), {}
    for split, records in sets.items():
        for record in records:
            where = f"{split}.jsonl {record.get('id')!r}"
            keys = set(record)
            if not FIELDS <= keys or not keys <= FIELDS | {"source"}:
                problems.append(f"{where}: fields {sorted(keys)}, expected {sorted(FIELDS)} (+ source)")
                continue
            if record["id"] in seen_ids:
                problems.append(f"{where}: duplicate id")
            seen_ids.add(record["id"])
            if record["split"] != split:
                problems.append(f"{where}: split {record['split']!r} in the {split} file")
            if not isinstance(record["question"], str) or not record["question"].strip().endswith("?"):
                problems.append(f"{where}: question {record['question']!r} is not a question")
            if not isinstance(record["story"], int) or isinstance(record["story"], bool):
                problems.append(f"{where}: story must be a Reuters story number, got {record['story']!r}")
                continue
            if story_split.setdefault(record["story"], split) != split:
                problems.append(f"{where}: story {record['story']} has questions in both halves")
            answers = record["answers"]
            if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
                problems.append(f"{where}: answers must be a list of non-empty strings, got {answers!r}")
                continue
            problems += [
                f"{where}: answer of {len(a)} characters, over {MAX_SPAN_CHARS}: a span, not a passage"
                for a in answers
                if len(a) > MAX_SPAN_CHARS
            ]
            sources = record.get("source")
            if answers and (
                not isinstance(sources, list) or not sources or not all(map(_is_source_name, sources))
            ):
                problems.append(f"{where}: source {sources!r}, expected a list of {CORPUS.name}#N names")
            if not answers and "source" in record:
                # An unanswerable question names no source: eval's source recall is over answerable ones.
                problems.append(f"{where}: unanswerable but names a source")
    everything = [r for records in sets.values() for r in records]
    share = sum(1 for r in everything if not r.get("answers")) / max(len(everything), 1)
    if not UNANSWERABLE_SHARE[0] <= share <= UNANSWERABLE_SHARE[1]:
        problems.append(f"unanswerable share {share:.2f}, expected about a quarter")
    return problems


def ingested(corpus: Path, stories: Iterable[int]) -> dict[int, object]:
    """{story number: Article} for `stories`, as `qa index` ingests the Reuters JSONL file.

    Only those lines are read: the file is copied with every other line blank (ingest numbers the
    lines, blank ones included), so each story keeps the article id the whole archive gives it.
    """
    from qa.ingest.articles import load_article_file

    wanted = set(stories)
    with tempfile.TemporaryDirectory(prefix="news-questions-") as folder:
        copy = Path(folder) / corpus.name
        with open(corpus, encoding="utf-8") as lines, open(copy, "w", encoding="utf-8") as target:
            for number, line in enumerate(lines, start=1):
                target.write(line if number in wanted else "\n")
        return {_story(a.article_id): a for a in load_article_file(copy, folder)}


def span_problems(sets: dict[str, list[dict]], corpus: Path = CORPUS) -> list[str]:
    """Answers that are not verbatim in one passage of a story the question names as its source,
    and sources that hold none of the answers.

    The source is the story the question was written from, or, where that story does not hold the
    answer and another one does (the question is then not unanswerable), that other story.
    """
    from qa.ingest.split import split_article

    records = [(split, r) for split, rs in sets.items() for r in rs]
    named = {id(r): [_story(name) for name in r.get("source", [])] for _, r in records}
    articles = ingested(corpus, {r["story"] for _, r in records} | {s for ns in named.values() for s in ns})
    problems = []
    for split, record in records:
        where = f"{split}.jsonl {record['id']!r}"
        if record["story"] not in articles:
            problems.append(f"{where}: story {record['story']} is not among the ingested stories")
        sources = named[id(record)]
        missing = [story for story in sources if story not in articles]
        if missing:
            problems.append(f"{where}: source stories {missing} are not among the ingested stories")
            continue
        passages = {story: [p.text for p in split_article(articles[story])] for story in sources}
        for answer in record["answers"]:
            if not any(answer in text for texts in passages.values() for text in texts):
                problems.append(f"{where}: {answer!r} is in no passage of its source stories {sources}")
        for story, texts in passages.items():
            # every story named states the answer: the list is the stories to cite, not a guess
            if not any(answer in text for answer in record["answers"] for text in texts):
                problems.append(f"{where}: source story {story} holds none of the answers")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="default: %(default)s")
    args = parser.parse_args(argv)
    sets = load()
    problems = shape_problems(sets)
    if args.corpus.is_file():
        problems += span_problems(sets, args.corpus)
    else:
        print(f"{args.corpus}: not here, spans not checked (shape only)")
    for problem in problems:
        print(problem)
    for split, records in sets.items():
        unanswerable = sum(1 for r in records if not r["answers"])
        stories = len({r["story"] for r in records})
        print(f"{split}: {len(records)} questions over {stories} stories, {unanswerable} unanswerable")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
