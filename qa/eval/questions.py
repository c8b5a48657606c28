"""Question sets: JSONL, a JSON array or SQuAD 2.0 JSON -> QuestionSet; its paragraphs as a corpus."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.eval.metrics import gold_answers
from qa.retrieve.filters import SearchFilter


class EvalInputError(ValueError):
    """A question file or option the evaluation cannot use; the message names the file and line or item."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # acceptable answers; empty when the articles cannot answer it
    # The articles that state the answer (id, title, URL or file), when the set names them: an
    # answer that cites none of them has the right words from the wrong evidence.
    sources: tuple[str, ...] = ()
    # Asked as with `qa ask --from/--to`: only articles dated in the range are searched.
    search_filter: SearchFilter | None = None
    # Answers known to be wrong (a thumbs-down in the chat's feedback file); see _feedback.
    wrong_answers: tuple[str, ...] = ()

    @property
    def has_answer(self) -> bool:
        return bool(gold_answers(self.answers))

    @property
    def source(self) -> str | None:
        """The first named source: a SQuAD question names exactly one, its paragraph."""
        return self.sources[0] if self.sources else None


@dataclass(frozen=True)
class Context:
    """A SQuAD paragraph: an article of its own with --corpus-from-dataset; what --reader-only reads."""

    title: str
    text: str

    @property
    def url(self) -> str:
        # SQuAD paragraphs are from the Wikipedia article of that title.
        return f"https://en.wikipedia.org/wiki/{self.title.replace(' ', '_')}"


@dataclass(frozen=True)
class QuestionSet:
    path: Path
    format: str  # "jsonl", "json" (an array of question objects), "squad" or "feedback" (the chat's)
    questions: tuple[Question, ...]
    contexts: tuple[Context, ...] = ()  # SQuAD only; Question.source is "{corpus_name}#{line}"

    @property
    def corpus_name(self) -> str:
        """File name of the corpus written from the contexts; sources refer to its lines."""
        return f"{self.path.stem}.jsonl"

    def context_of(self, question: Question) -> Context | None:
        """The paragraph a SQuAD question was asked about; None when the set has no paragraphs."""
        name, _, line = (question.source or "").rpartition("#")
        if not self.contexts or name != self.corpus_name or not line.isdigit():
            return None
        return self.contexts[int(line) - 1]


_SCHEMA = (
    "one JSON object per line with 'id', 'question' and 'answers' (a list, [] when unanswerable); "
    "optional: 'source' (the article, or a list of the articles, that state the answer), "
    "'from' and 'to' (dates, as --from/--to)"
)


def load_questions(path: Path | str) -> QuestionSet:
    """Read a question file, telling JSONL from SQuAD 2.0 JSON by its content.

    Example:
        >>> load_questions("questions.jsonl").questions[0].answers  # doctest: +SKIP
        ('412 million euros',)
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise EvalInputError(f"{path}: the file is empty; expected {_SCHEMA}, or a SQuAD 2.0 JSON file")
    try:
        whole: Any = json.loads(text)
    except json.JSONDecodeError:
        whole = None  # not one JSON document: JSONL (or broken, which the line parser reports)
    if isinstance(whole, dict) and "data" in whole:
        return _squad(path, whole)
    if isinstance(whole, list):
        records = [(f"{path}: item {i}", f"{i}", record) for i, record in enumerate(whole, start=1)]
        return QuestionSet(path, "json", _questions(path, records))
    if isinstance(whole, dict) and "question" not in whole and "\n" in text.strip():
        raise EvalInputError(
            f"{path}: a JSON object without 'data' is neither a SQuAD 2.0 file "
            f"nor JSONL questions ({_SCHEMA})"
        )
    records = []
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other characters it splits on.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvalInputError(
                f"{path}:{number}: not valid JSON ({error.msg}, column {error.colno}); expected {_SCHEMA}, "
                "or a SQuAD 2.0 JSON file"
            ) from None
        records.append((f"{path}:{number}", f"{number}", record))
    if records and all(isinstance(record, dict) and "rating" in record for _w, _i, record in records):
        return QuestionSet(path, "feedback", _questions(path, _feedback(path, records)))
    return QuestionSet(path, "jsonl", _questions(path, records))


def _feedback(path: Path, records: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    """The chat's feedback file (qa/ui/feedback.py: one line a thumbs up/down) as question records.

    Ratings are grouped by the question searched (a follow-up with its context) and its date range;
    the latest rating of each answer counts. Answers rated up are the gold answers, and the articles
    they cite its sources (a thumbs-up on "no answer" makes the question one the articles do not
    answer). A question with no answer rated up is asked as one the articles do not answer, with the
    answers rated down kept as known wrong: leaving it unanswered scores, the rejected answer scores
    0 and so does any other answer (unconfirmed, until rated up in the chat), so that
    `--save-threshold` learns to hold back where users rejected answers. A question whose only
    rating is a thumbs-down on "no answer" has no answer to score against and is left out.
    """
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for where, default_id, record in records:
        rating = record.get("rating")
        if rating not in ("up", "down"):
            raise EvalInputError(f'{where}: \'rating\' must be "up" or "down", got {rating!r}')
        question = record.get("search_query") or record.get("question")
        answer = record.get("answer")
        if not isinstance(answer, (str, type(None))):
            raise EvalInputError(f"{where}: 'answer' must be a string or null, got {_kind(answer)}")
        key = (question, record.get("from"), record.get("to"))
        group = groups.setdefault(key, {"where": where, "id": default_id, "ratings": {}, "sources": {}})
        group["ratings"].pop(answer, None)  # the latest rating of an answer counts, in its place
        group["ratings"][answer] = rating
        if rating == "up" and answer is not None:
            cited = [c.get("article_id") for c in record.get("citations") or () if isinstance(c, dict)]
            group["sources"][answer] = [name for name in cited if isinstance(name, str)]
    questions = []
    for (question, date_from, date_to), group in groups.items():
        ratings = group["ratings"]
        golds = [a for a, r in ratings.items() if r == "up" and a is not None]
        wrong = [a for a, r in ratings.items() if r == "down" and a is not None]
        if not golds and not wrong and ratings.get(None) != "up":
            continue  # only "no answer" rated down: right is unknown
        sources = [name for gold in golds for name in group["sources"].get(gold, ())]
        item = {"id": f"feedback-{group['id']}", "question": question, "answers": golds}
        item.update({"wrong_answers": wrong, "source": list(dict.fromkeys(sources)) or None})
        item.update({"from": date_from, "to": date_to})
        questions.append((group["where"], group["id"], item))
    if not questions:
        raise EvalInputError(f"{path}: no rated answer to ask again (only thumbs-down on 'no answer')")
    return questions


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EvalInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise EvalInputError(f"{path}: is a folder; give a JSONL or SQuAD 2.0 JSON question file") from None
    except OSError as error:
        raise EvalInputError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise EvalInputError(f"{path}:{line}: not UTF-8 text (byte {error.start})") from None


def _questions(path: Path, records: list[tuple[str, str, Any]]) -> tuple[Question, ...]:
    """Questions from (where, default id, record) triples, refusing bad records and duplicate ids."""
    questions: list[Question] = []
    first_seen: dict[str, str] = {}
    for where, default_id, record in records:
        question = _question(record, where, default_id)
        if question.id in first_seen:
            raise EvalInputError(
                f"{where}: duplicate id {question.id!r} (first used at {first_seen[question.id]})"
            )
        first_seen[question.id] = where
        questions.append(question)
    if not questions:
        raise EvalInputError(f"{path}: no questions in the file")
    return tuple(questions)


def _question(record: Any, where: str, default_id: str) -> Question:
    if not isinstance(record, dict):
        raise EvalInputError(
            f"{where}: expected a JSON object with 'id', 'question' and 'answers', got {_kind(record)}"
        )
    qid = record.get("id", default_id)
    if isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
        raise EvalInputError(f"{where}: 'id' must be a non-empty string or a number, got {qid!r}")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalInputError(f"{where}: 'question' must be a non-empty string, got {_kind(question)}")
    _check_question(question, where)
    if "answers" not in record:
        raise EvalInputError(
            f"{where}: no 'answers': give a list of acceptable answers, [] when the articles cannot answer it"
        )
    return Question(
        str(qid),
        question,
        _answers(record["answers"], where),
        _sources(record.get("source"), where),
        _search_filter(record, where),
        tuple(a for a in record.get("wrong_answers") or () if isinstance(a, str)),
    )


def _sources(source: Any, where: str) -> tuple[str, ...]:
    """'source': one article's name, or a list of them (a wire story and its copies state one fact)."""
    names = source if isinstance(source, list) else [source] if source is not None else []
    if not all(isinstance(name, str) for name in names):
        raise EvalInputError(
            f"{where}: 'source' must be a string naming the article, or a list of them, got {_kind(source)}"
        )
    return tuple(dict.fromkeys(name for name in names if name))


def _search_filter(record: dict[str, Any], where: str) -> SearchFilter | None:
    """'from' / 'to': the question is asked about articles dated in that range, as with --from/--to."""
    if record.get("from") is None and record.get("to") is None:
        return None
    try:
        return SearchFilter(record.get("from"), record.get("to"))
    except ValueError as error:
        message = str(error).replace("date_from", "'from'").replace("date_to", "'to'")
        raise EvalInputError(f"{where}: {message}") from None


def _answers(answers: Any, where: str) -> tuple[str, ...]:
    if not isinstance(answers, list):
        raise EvalInputError(
            f"{where}: 'answers' must be a list of strings ([] when unanswerable), got {_kind(answers)}"
        )
    texts: list[str] = []
    for i, answer in enumerate(answers):
        text = answer.get("text") if isinstance(answer, dict) else answer  # SQuAD-style {"text": ...}
        if not isinstance(text, str):
            raise EvalInputError(f"{where}: answers[{i}] must be a string, got {_kind(answer)}")
        if text not in texts:
            texts.append(text)
    return tuple(texts)


def _check_question(question: str, where: str) -> None:
    from qa.pipeline import QuestionError, clean_question

    try:
        clean_question(question)
    except QuestionError as error:
        raise EvalInputError(f"{where}: {error}") from None


def _kind(value: Any) -> str:
    return (
        "nothing"
        if value is None
        else f"a JSON {type(value).__name__.replace('dict', 'object').replace('list', 'array')}"
    )


def _squad(path: Path, document: dict[str, Any]) -> QuestionSet:
    """SQuAD 2.0: data[].paragraphs[].{context, qas[].{id, question, answers, is_impossible}}."""
    data = document["data"]
    if not isinstance(data, list):
        raise EvalInputError(f"{path}: 'data' must be a list of articles (SQuAD 2.0), got {_kind(data)}")
    corpus_name = f"{path.stem}.jsonl"
    contexts: list[Context] = []
    line_of: dict[str, int] = {}
    records: list[tuple[str, str, Any]] = []
    for i, article in enumerate(data):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise EvalInputError(f"{path}: data[{i}] must be an object with a 'paragraphs' list (SQuAD 2.0)")
        title = str(article.get("title") or f"Article {i + 1}").replace("_", " ")
        for j, paragraph in enumerate(paragraphs):
            where = f"{path}: data[{i}].paragraphs[{j}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
                raise EvalInputError(f"{where}: expected an object with a 'context' string and a 'qas' list")
            qas = paragraph.get("qas")
            if not isinstance(qas, list):
                raise EvalInputError(f"{where}: 'qas' must be a list of questions, got {_kind(qas)}")
            context = paragraph["context"]
            if context.strip() and context not in line_of:
                contexts.append(Context(title, context))
                line_of[context] = len(contexts)  # 1-based, as ingest numbers JSONL lines
            source = f"{corpus_name}#{line_of[context]}" if context in line_of else None
            for m, qa in enumerate(qas):
                if isinstance(qa, dict):
                    # SQuAD 2.0 keeps plausible answers of impossible questions apart; answers is [].
                    impossible = bool(qa.get("is_impossible"))
                    qa = {**qa, "source": source, **({"answers": []} if impossible else {})}
                records.append((f"{where}.qas[{m}]", f"{i}.{j}.{m}", qa))
    if not records:
        raise EvalInputError(f"{path}: no questions in the SQuAD file")
    return QuestionSet(path, "squad", _questions(path, records), tuple(contexts))


def write_corpus(question_set: QuestionSet, corpus_dir: Path) -> Path:
    """The SQuAD paragraphs as one JSONL corpus file (one article per paragraph); returns its folder.

    Question.source of each question is "<file>#<line>", the article id ingest gives that line.
    Each paragraph keeps its article's title as it is: a reader that reads headlines reads it, and
    `--reader-only` gives the same paragraph the same title (a paragraph number added to the title
    would be read as part of the headline, in this measurement only).
    """
    corpus_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for context in question_set.contexts:
        record = {
            "title": context.title,
            "date": None,
            "url": context.url,
            "text": context.text,
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    path = corpus_dir / question_set.corpus_name
    content = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != content:
        path.write_text(content, encoding="utf-8")
    return corpus_dir
