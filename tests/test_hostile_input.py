"""Hostile and broken input: fuzzed and crafted article files, hostile questions, escaping in the chat.

Ingestion runs in a child process with a timeout: a regular expression that backtracks forever
cannot be interrupted from inside the process (the regex engine does not check for signals), and
the child's peak memory is measured there (VmHWM; resource.getrusage where /proc is missing).
"""

from __future__ import annotations

import codecs
import html.parser
import json
import os
import random
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from qa.config import MAX_QUESTION_CHARS
from qa.ingest import articles as ingest
from qa.pipeline import QuestionError, clean_question
from qa.types import Answer, Citation
from qa.ui.chat import format_notice, format_question, format_reply

GOOD = (
    "---\ntitle: Harbour budget\ndate: 2024-01-02\n---\n\n"
    "The council approved the new harbour budget on Monday.\n"
)
CHILD_TIMEOUT_S = 120  # a hang, not slowness: the whole fuzz corpus ingests in a few seconds
MAX_RSS_BYTES = 2 * 1024**3
# For the 10 MB files: they peak near 175 MiB; the "**" one once took 1.4 GB, which this catches.
MAX_RSS_BYTES_10MB = 1024**3
FUZZ_SEED = 20241125
FUZZ_FILES = 200

# Loads a folder (or one path) and reports what came out, with checks on every article and passage.
CHILD = textwrap.dedent(
    r"""
    import json, logging, resource, sys, time
    from qa.ingest.articles import IngestError, load_articles
    from qa.ingest.split import PARAGRAPH_SEPARATOR, split_article

    def peak_rss():
        # VmHWM is this process's own peak. ru_maxrss is not: Linux carries the parent's peak over
        # an exec, so a child of a pytest holding a model would report the model's memory.
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    started = time.perf_counter()
    try:
        report = load_articles(sys.argv[1])
    except IngestError as error:
        print(json.dumps({"error": str(error)}))
        sys.exit(0)
    articles, problems = {}, []
    for article in report.articles:
        text = PARAGRAPH_SEPARATOR.join(article.paragraphs)
        passages = split_article(article)
        for field in (text, article.title, article.source):
            field.encode("utf-8")  # strict: what the index writer will do
            if any(
                ord(ch) < 32 and ch not in "\n\t" or 127 <= ord(ch) < 160 and ch != "\x85" for ch in field
            ):
                problems.append(f"{article.article_id}: control character in {field[:60]!r}")
        if not article.paragraphs or not all(p.strip() for p in article.paragraphs) or not article.title:
            problems.append(f"{article.article_id}: empty paragraph or title")
        if not passages or any(p.text not in text for p in passages):
            problems.append(f"{article.article_id}: passages are not slices of the article text")
        articles[article.article_id] = {
            "title": article.title,
            "text": text if len(text) < 300_000 else text[:2000],
            "chars": len(text),
            "passages": len(passages),
        }
    print(json.dumps({
        "articles": articles,
        "skipped": [[s.path, s.reason] for s in report.skipped],
        "problems": problems,
        "seconds": time.perf_counter() - started,
        "maxrss": peak_rss(),
    }))
    """
)


def ingest_in_child(path: Path, timeout: float = CHILD_TIMEOUT_S) -> tuple[dict, str]:
    """(report, stderr) of ingesting `path` in a fresh interpreter; fails the test on a hang or a crash."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=Path(__file__).resolve().parents[1],
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"ingesting {path} did not finish within {timeout:.0f} s (a hang)")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return json.loads(done.stdout), done.stderr


def skipped_by_name(report: dict, root: Path) -> dict[str, str]:
    return {os.path.relpath(path, root): reason for path, reason in report["skipped"]}


def assert_each_skip_warned(report: dict, stderr: str) -> None:
    warnings = [
        line for line in stderr.splitlines() if line.startswith("WARNING qa.ingest.articles: Skipping")
    ]
    assert len(warnings) == len(report["skipped"]), stderr[-3000:]


# --------------------------------------------------------------------------- crafted files


def _write_crafted(folder: Path, outside: Path) -> dict[str, tuple[str, str]]:
    """Hostile files in `folder`: name -> ("ok", text the article must hold) or ("skip", reason part)."""
    folder.mkdir()
    outside.mkdir()
    expect: dict[str, tuple[str, str]] = {}

    def put(name: str, data: bytes | str, outcome: tuple[str, str]) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        expect[name] = outcome

    put("good.md", GOOD, ("ok", "harbour budget"))
    rng = random.Random(7)
    for i in range(4):
        put(f"random-{i}.md", bytes(rng.randrange(256) for _ in range(rng.randint(1, 4000))), ("any", ""))
    with open(folder / "too-big.txt", "wb") as handle:  # sparse: no disk, and must not be read
        handle.truncate(ingest.MAX_FILE_BYTES + 1)
    expect["too-big.txt"] = ("skip", f"over the {ingest.MAX_FILE_BYTES}-byte limit")

    # Encodings
    cafe = "Le Café de São Paulo served 4,000 cups of coffee on its opening day."
    put("latin1.txt", cafe.encode("latin-1"), ("skip", "not UTF-8 text (byte 0xe9"))
    put("utf16-le.txt", codecs.BOM_UTF16_LE + cafe.encode("utf-16-le"), ("ok", "Café de São Paulo"))
    put(
        "utf16-be.md",
        codecs.BOM_UTF16_BE + f"---\ntitle: Café\n---\n{cafe}".encode("utf-16-be"),
        ("ok", "4,000 cups"),
    )
    put("utf32.txt", cafe.encode("utf-32"), ("ok", "São Paulo"))
    put("utf16-no-bom.txt", cafe.encode("utf-16-le"), ("skip", "binary file"))
    put(
        "utf16-broken.txt",
        codecs.BOM_UTF16_LE + "abc".encode("utf-16-le") + b"\x00\xd8",
        ("skip", "not UTF-16 text"),
    )
    put("utf8-bom.md", codecs.BOM_UTF8 + GOOD.encode(), ("ok", "harbour budget"))

    # YAML front matter: anchors are fine, aliases, unsafe and unknown tags, deep nesting are not
    body = "\nThe ferry to Isla Verde now runs every forty minutes.\n"
    put("yaml-anchor.md", f"---\ntitle: &t Ferry timetable\n---{body}", ("ok", "forty minutes"))
    put("yaml-alias.md", f"---\na: &t Ferry\ntitle: *t\n---{body}", ("skip", "YAML aliases"))
    put("yaml-merge.md", f"---\nbase: &b {{title: x}}\n<<: *b\n---{body}", ("skip", "YAML aliases"))
    put(
        "yaml-billion-laughs.md",
        "---\na: &a [lol, lol]\nb: &b [*a, *a]\nc: [*b, *b]\n---" + body,
        ("skip", "YAML aliases"),
    )
    put(
        "yaml-python-tag.md",
        f"---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---{body}",
        ("skip", "constructor"),
    )
    put("yaml-custom-tag.md", f"---\ntitle: !secret value\n---{body}", ("skip", "constructor"))
    put("yaml-binary-tag.md", f"---\ntitle: !!binary aGVsbG8=\n---{body}", ("ok", "forty minutes"))
    put("yaml-huge-int.md", "---\ntitle: 0x" + "f" * 4000 + f"\n---{body}", ("ok", "forty minutes"))
    put("yaml-deep.md", "---\ntitle: " + "[" * 5000 + f"\n---{body}", ("skip", "nests deeper"))
    put("yaml-not-closed.md", "---\ntitle: x\n" + body * 100, ("skip", "no closing '---'"))

    # Markdown nested without end, markup and control characters in the text
    put(
        "deep-quotes.md",
        "> " * 20_000 + "The quoted ferry captain said the crossing was calm.",
        ("ok", "crossing was calm"),
    )
    put(
        "deep-brackets.md",
        "[" * 50_000 + "The bracketed ferry" + "]" * 50_000 + "(x)" * 1000,
        ("ok", "bracketed ferry"),
    )
    put("deep-emphasis.md", "*_" * 30_000 + "The emphatic ferry" + "_*" * 30_000, ("ok", "emphatic ferry"))
    put(
        "deep-list.md",
        "".join("  " * i + "- item\n" for i in range(1000)) + "\nThe listed ferry sailed.",
        ("ok", "listed ferry"),
    )
    put(
        "headings.md",
        "#" * 10_000 + " The heading ferry sailed at dawn.\n" + "\n# x" * 5000,
        ("ok", "heading ferry"),
    )
    put(
        "html.md",
        "---\ntitle: '<script>alert(1)</script>'\n---\n<script>alert(2)</script> The <b>bold</b> ferry.",
        ("ok", "<script>alert(2)</script>"),
    )
    put(
        "control-chars.txt",
        "The \x1b[31mred\x1b[0m ferry\x07 left \x00 port.\x1b]0;owned\x07",
        ("skip", "binary file"),
    )
    put(
        "escape-codes.txt",
        "The \x1b[31mred\x1b[0m ferry\x07 left port.\x9b2J \x7f",
        ("ok", "[31mred[0m ferry left port."),
    )
    put("tweet-tail-spaces.md", "The ferry left — " + " " * 300_000 + "on time.", ("ok", "on time"))
    put("dashes.md", "— a (@b " * 50_000, ("ok", "(@b"))

    # JSONL: one bad line never takes the good ones with it
    lines = [
        json.dumps({"title": "Ferry one", "text": "The first ferry carried 120 cars."}),
        "[" * 100_000,
        '{"text": "A lone surrogate \\ud800 in the text."}',
        '{"text": "The second ferry carried 80 cars.", "title": "Ferry \\u001b[2J two \\ud83d\\ude22"}',
        '"just a string"',
        '{"text": "' + "deep " * 1000 + '", "extra": ' + "[" * 500 + "]" * 500 + "}",
    ]
    put("bulk.jsonl", "\n".join(lines) + "\n", ("jsonl", ""))

    # Things that are not article files
    (outside / "secret.md").write_text(GOOD, encoding="utf-8")
    (folder / "link-outside.md").symlink_to(outside / "secret.md")
    expect["link-outside.md"] = ("skip", "outside the articles folder")
    (folder / "link-loop.md").symlink_to("link-loop.md")
    expect["link-loop.md"] = ("skip", "broken symlink")
    (folder / "link-dangling.md").symlink_to(folder / "nowhere.md")
    expect["link-dangling.md"] = ("skip", "broken symlink")
    (folder / "link-dev-zero.md").symlink_to("/dev/zero")
    expect["link-dev-zero.md"] = ("skip", "outside the articles folder")
    (folder / "link-dir-loop").symlink_to(folder)  # ignored: a folder link inside is walked in its own place
    os.mkfifo(folder / "fifo.md")
    expect["fifo.md"] = ("skip", "not a regular file")
    try:
        os.mknod(folder / "device.txt", 0o600 | 0o020000, os.makedev(1, 3))  # a character device: /dev/null
        expect["device.txt"] = ("skip", "not a regular file")
    except (PermissionError, OSError):
        pass  # not root, or a container that forbids device nodes
    if os.geteuid() != 0:  # root reads a chmod 000 file anyway
        put("unreadable.md", GOOD, ("skip", "cannot read (Permission denied)"))
        (folder / "unreadable.md").chmod(0)
    put("folder-named.md/inner.md", GOOD, ("ok", "harbour budget"))
    deep = folder / "deep"
    for _ in range(ingest.MAX_FOLDER_DEPTH + 5):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "buried.md").write_text(GOOD, encoding="utf-8")
    return expect


def test_crafted_hostile_files_are_ingested_or_skipped_clearly(tmp_path):
    folder = tmp_path / "articles"
    expect = _write_crafted(folder, tmp_path / "outside")
    report, stderr = ingest_in_child(folder)
    assert report["problems"] == []
    assert_each_skip_warned(report, stderr)
    skipped = skipped_by_name(report, folder)
    articles = report["articles"]
    for name, (outcome, detail) in expect.items():
        if outcome == "ok":
            assert name in articles, (name, skipped.get(name))
            found = articles[name]
            assert detail in found["text"] or detail in found["title"], (
                name,
                found["title"],
                found["text"][:300],
            )
        elif outcome == "skip":
            assert name in skipped, (name, articles.get(name))
            assert detail in skipped[name], (name, skipped[name])
        elif outcome == "any":
            assert (name in articles) != (name in skipped), name
    # JSONL: lines 1 and 4 load (escape codes out, the emoji pair kept); each bad line is named
    assert articles["bulk.jsonl#1"]["title"] == "Ferry one"
    assert articles["bulk.jsonl#4"]["title"] == "Ferry [2J two \U0001f622"
    bad_lines = sorted(
        reason.split(":")[0] for path, reason in report["skipped"] if path.endswith("bulk.jsonl")
    )
    assert bad_lines == ["line 2", "line 3", "line 5"]
    assert "nested too deeply" in " ".join(r for p, r in report["skipped"] if p.endswith("bulk.jsonl"))
    assert "bulk.jsonl#6" in articles  # deep, but within the decoder's limit: fine
    assert "folder nested deeper than" in " ".join(skipped.values())
    assert not any(name.startswith("link-dir-loop") for name in articles)
    assert articles["html.md"]["title"] == "<script>alert(1)</script>"  # kept as text; the chat escapes it
    assert report["maxrss"] < MAX_RSS_BYTES


@pytest.mark.parametrize("make", ["fifo", "dev-zero", "missing"])
def test_articles_path_that_is_no_folder_or_file_is_refused_without_hanging(tmp_path, make):
    path = {"fifo": tmp_path / "articles.md", "dev-zero": Path("/dev/zero"), "missing": tmp_path / "nope"}[
        make
    ]
    if make == "fifo":
        os.mkfifo(path)
    report, _ = ingest_in_child(path, timeout=60)
    assert str(path) in report["error"]
    assert ("does not exist" if make == "missing" else "not a folder or a regular file") in report["error"]


@pytest.mark.slow
def test_huge_inputs_stay_within_time_and_memory(tmp_path):
    """A 10 MB one-line article, and the 10 MB patterns that once took 1.4 GB or quadratic time."""
    sentence = "The council approved the harbour budget on Monday after a long debate. "
    cases = {
        "one-line.txt": sentence * (10_000_000 // len(sentence)),
        "stars.md": "**a " + " " * 10_000_000,  # took 1.4 GB: a lazy repeat's memory per character
        "one-word.txt": "x" * 10_000_000,
        "dash-spaces.md": "Ferry — " + " " * 10_000_000 + "(@ferry) May 2, 2024",  # was quadratic: days
    }
    for name, text in cases.items():
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        (folder / name).write_text(text, encoding="utf-8")
    with ThreadPoolExecutor(max_workers=2) as pool:  # each child measures its own peak memory
        reports = dict(
            zip(cases, pool.map(lambda name: ingest_in_child(tmp_path / name.split(".")[0])[0], cases))
        )
    for name, report in reports.items():
        print(f"{name}: ingested in {report['seconds']:.1f} s, peak RSS {report['maxrss'] / 2**20:.0f} MiB")
        assert list(report["articles"]) == [name] and report["problems"] == []
        assert report["maxrss"] < MAX_RSS_BYTES_10MB, (name, report["maxrss"])
        assert report["seconds"] < CHILD_TIMEOUT_S
    # Ten million spaces are not a tweet's attribution: the text stays, its whitespace collapsed.
    assert reports["dash-spaces.md"]["articles"]["dash-spaces.md"]["text"] == "Ferry — (@ferry) May 2, 2024"


# --------------------------------------------------------------------------- fuzzing

FRAGMENTS = [
    b"---\n",
    b"\n---\n",
    b"...\n",
    b"title: &a x\n",
    b"b: *a\n",
    b"!!python/object:os.system",
    b"!custom",
    b"<script>alert(1)</script>",
    b"<img src=x onerror=alert(1)>",
    b"**",
    b"__",
    b"*",
    b"_",
    b"[",
    b"]",
    b"](",
    b"![](x.png)",
    b"\\",
    b"\\[the\\_ad id='1'\\]",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\x00",
    b"\r\n",
    b"\r",
    b"\n\n",
    b"- ",
    b"> ",
    b"# ",
    b"{",
    b"date 2019-11-02 Kolkata: ",
    "\u2014 ANI (@ANI) November 2, 2019".encode(),
    b"[Source link](https://x)",
    b" ",
    b"\t",
    "\U0001f600".encode(),
    b"\xed\xa0\x80",
    b"\xc3",
    b"\x1b[2J",
    b"pic.twitter.com/abc",
    "\u202e".encode(),
    b"%YAML 1.1\n",
    b"? [a]\n: b\n",
    b"|\n  x\n",
]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """Byte flips, truncation, inserted markup/YAML/HTML fragments, repeated runs, random bytes."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op, pos = rng.randrange(6), rng.randint(0, len(out))
        if op == 0 and out:
            for _ in range(rng.randint(1, 20)):
                i = rng.randrange(len(out))
                out[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            del out[pos:]
        elif op == 2:
            out[pos:pos] = rng.choice(FRAGMENTS) * rng.choice([1, 1, 2, 10, 200])
        elif op == 3 and out:
            start = rng.randrange(len(out))
            out[pos:pos] = out[start : start + rng.randint(1, 200)] * rng.randint(2, 50)
        elif op == 4:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        else:
            out[:0] = b"---\n"
    return bytes(out)


def test_fuzzed_articles_each_ingest_or_are_skipped_with_a_warning(
    tmp_path, story_pair_dir, sample_articles_dir
):
    seeds = [
        p.read_bytes()
        for d in (story_pair_dir, sample_articles_dir)
        for p in sorted(d.iterdir())
        if p.is_file()
    ]
    rng = random.Random(FUZZ_SEED)
    folder = tmp_path / "fuzz"
    folder.mkdir()
    names = []
    for i in range(FUZZ_FILES):
        suffix = rng.choice([".md", ".txt", ".markdown", ".jsonl"])
        data = _mutate(rng, rng.choice(seeds))
        if suffix == ".jsonl":  # records around mutated text, some of them mutated in turn
            records = [
                json.dumps({"title": f"r{j}", "text": data.decode("utf-8", "replace")}).encode()
                for j in range(2)
            ]
            data = b"\n".join(_mutate(rng, r) if rng.random() < 0.5 else r for r in records)
        names.append(f"f{i:03d}{suffix}")
        (folder / names[-1]).write_bytes(data)

    started = time.perf_counter()
    report, stderr = ingest_in_child(folder)
    elapsed = time.perf_counter() - started
    print(
        f"fuzz: {FUZZ_FILES} files, {len(report['articles'])} articles, {len(report['skipped'])} skipped, "
        f"{elapsed:.1f} s, peak RSS {report['maxrss'] / 2**20:.0f} MiB"
    )
    assert report["problems"] == []
    assert_each_skip_warned(report, stderr)
    skipped = skipped_by_name(report, folder)
    for name in names:  # every file (every JSONL line) is accounted for: an article or a skip
        if name.endswith(".jsonl"):
            continue
        assert (name in report["articles"]) != (name in skipped), name
    for reason in skipped.values():
        assert reason and "\n" not in reason and len(reason) < 400, reason
    assert report["articles"] and report["skipped"]  # the mutations do both
    assert elapsed < CHILD_TIMEOUT_S and report["maxrss"] < MAX_RSS_BYTES


# --------------------------------------------------------------------------- questions


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much did the tram cost?", "How much did the tram cost?"),
        ("  How\tmuch\n\ndid it\r\ncost?  ", "How much did it cost?"),
        ("How\x00 much\x07 did\x1b[2J it cost?", "How much did [2J it cost?"),
        ("\u202eHow much\u202c did it cost?\ufeff", "How much did it cost?"),
        ("电车线路花了多少钱？", "电车线路花了多少钱？"),
        ("كم كلفة خط الترام؟", "كم كلفة خط الترام؟"),
        ("ट्राम लाइन की लागत कितनी थी?", "ट्राम लाइन की लागत कितनी थी?"),
        ("🚋 cost? 👍🏽", "🚋 cost? 👍🏽"),
        ("<script>alert(1)</script> cost?", "<script>alert(1)</script> cost?"),
        ("\ud83d\ude8b cost?", "\U0001f68b cost?"),  # a surrogate pair, as some JSON decoders leave it
        ("x" * MAX_QUESTION_CHARS, "x" * MAX_QUESTION_CHARS),
    ],
)
def test_clean_question_keeps_the_words_of_any_script(question, expected):
    assert clean_question(question) == expected


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        (" \t\n\x00\x01\u200b\u2028 ", "empty"),
        ("why " * 25_000, "100,000 characters long"),
        ("x" * (MAX_QUESTION_CHARS + 1), "at most 2,000"),
        ("caf\udce9 prices", "not valid text"),  # a latin-1 byte on a UTF-8 command line
        (None, "must be text"),
        (b"bytes?", "must be text"),
    ],
)
def test_clean_question_refuses_clearly(question, message):
    with pytest.raises(QuestionError, match=message):
        clean_question(question)


def test_fuzzed_questions_are_cleaned_or_refused():
    rng = random.Random(FUZZ_SEED)
    alphabet = [
        chr(c)
        for c in [
            *range(0, 0x80),
            0x85,
            0xA0,
            0x200B,
            0x200D,
            0x202E,
            0x2028,
            0xFEFF,
            0xD800,
            0xDC00,
            0xDFFF,
            0x4E2D,
            0x0639,
            0x0939,
            0x1F600,
            0x1F3FD,
            0x10FFFF,
        ]
    ]
    for _ in range(500):
        question = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 50, 500, 2500])))
        try:
            cleaned = clean_question(question)
        except QuestionError as error:
            assert str(error) and "\n" not in str(error)
            continue
        assert cleaned and cleaned == cleaned.strip() and len(cleaned) <= MAX_QUESTION_CHARS
        cleaned.encode("utf-8")  # strict: no surrogate reaches the tokenizers
        assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned), repr(cleaned)


def test_huge_question_is_refused_before_any_work():
    started = time.perf_counter()
    with pytest.raises(QuestionError):
        clean_question("\x00" * 10_000_000)
    assert time.perf_counter() - started < 1.0


HOSTILE_QUESTIONS = [  # asked of the story pair (tests/data/story-pair): a ferry booking app broken into
    "How many customer accounts were broken into?\x00\x1b[31m",
    "有多少个客户账户被入侵？",
    "كم عدد الحسابات التي تم اختراقها؟",
    "कितने ग्राहक खातों में सेंध लगाई गई?",
    "⛴️📱🔓❓",
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "' OR 1=1 -- {{7*7}} ${jndi:ldap://x}",
    "???",
    "\ud83d\udd13 accounts?",
    "ferry " * 300,
]


@pytest.mark.slow
def test_pipeline_answers_or_refuses_every_hostile_question(tmp_path, story_pair_dir, embedder):
    from qa.pipeline import QAPipeline
    from qa.store.local.build import build_index

    build_index(story_pair_dir, tmp_path / "index", embedder)
    pipeline = QAPipeline.load(tmp_path / "index", reader="bundled", embedder=embedder)
    for question in HOSTILE_QUESTIONS:
        answer = pipeline.ask(question)
        assert answer.question == clean_question(question)
        if answer.answer is not None:  # the core promise holds whatever was asked
            first = answer.citations[0]
            assert first.text[first.start : first.end] == answer.answer
        assert_safe_html(format_reply(answer))
    for bad in ("", "\x00\u200b", "q" * 100_000, "caf\udce9"):
        with pytest.raises(QuestionError):
            pipeline.ask(bad)


# --------------------------------------------------------------------------- escaping in the chat

ALLOWED_TAGS = {
    "div",
    "p",
    "strong",
    "span",
    "details",
    "summary",
    "blockquote",
    "mark",
    "a",
    "small",
    "ul",
    "li",
    "br",
}
ALLOWED_ATTRIBUTES = {"class", "href", "title", "target", "rel", "open"}
HOSTILE_PIECES = [
    "<script>alert(1)</script>",
    "</div><script>",
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "' onfocus='alert(1)",
    "javascript:alert(1)",
    "<a href=javascript:alert(1)>x</a>",
    "<!--",
    "-->",
    "<![CDATA[",
    "&lt;script&gt;",
    "&#60;script&#62;",
    "<svg/onload=alert(1)>",
    "<style>*{}</style>",
    "\x00",
    "\x1b[2J",
    "\r\n",
    "\n\n",
    "**bold**",
    "[x](javascript:alert(1))",
    "`code`",
    "<",
    ">",
    "&",
    '"',
    "'",
    "電車",
    "مرحبا",
    "🚋",
    "<iframe src=//evil>",
    "<math><mi//xlink:href=x>",
    "<details open ontoggle=alert(1)>",
    "</mark><b>",
]


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_comment(self, data):
        self.comments.append(data)

    def unknown_decl(self, data):
        self.comments.append(data)


def assert_safe_html(markup: str) -> None:
    """Only the tags and attributes qa.ui.chat writes itself; links only to http(s)."""
    parser = _Collector()
    parser.feed(markup)
    parser.close()
    assert not parser.comments, markup
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, (tag, markup)
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES, (tag, name, markup)
            if name == "href":
                assert value and value.startswith(("http://", "https://")), markup
    assert "\x00" not in markup and "\x1b" not in markup


def _hostile(rng: random.Random) -> str:
    return "".join(rng.choice(HOSTILE_PIECES + [" ", "text"]) for _ in range(rng.randint(0, 8)))


def test_chat_formatting_escapes_fuzzed_hostile_strings():
    rng = random.Random(FUZZ_SEED)
    for _ in range(300):
        text = _hostile(rng) + " the answer " + _hostile(rng)
        start = text.index("the answer")
        source = rng.choice(
            [_hostile(rng), "https://example.org/" + _hostile(rng), "javascript:alert(1)", ""]
        )
        citation = Citation(
            passage_id=_hostile(rng) + "::0.0",
            article_id=_hostile(rng),
            title=_hostile(rng),
            date=_hostile(rng) or None,
            source=source,
            paragraph=rng.randint(0, 5),
            start=start,
            end=start + len("the answer"),
            text=text,
            score=0.5,
        )
        has_answer = rng.random() < 0.7
        alternative = Answer(_hostile(rng), _hostile(rng) or "alt", 0.3, 0.1, _hostile(rng), (citation,))
        answer = Answer(
            question=_hostile(rng),
            answer="the answer" if has_answer else None,
            confidence=0.8 if has_answer else None,
            no_answer_score=0.2,
            reader=_hostile(rng),
            citations=(citation,),
            search_query=_hostile(rng),
            alternatives=(alternative,),
            timings_ms={"total_ms": 12.0},
        )
        assert_safe_html(format_reply(answer))
        assert_safe_html(format_question(_hostile(rng)))
        assert_safe_html(format_notice(_hostile(rng)))
