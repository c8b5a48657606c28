"""The evaluation report's tables: headline cards, configuration, errors with examples, every question."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qa.eval.metrics import ERROR_CLASSES, RETRIEVAL_DEPTH
from qa.eval.report_markup import escape, figure, fmt
from qa.eval.svg import COLORS, bar_chart

ERROR_MEANINGS = {
    "correct": "exact match with a gold answer (or null for an unanswerable question)",
    "retrieval_miss": "answerable, but no passage the reader saw holds a gold answer",
    "reader_miss": "a passage the reader saw holds the answer; the reader picked another span",
    "false_no_answer": "a passage the reader saw holds the answer; the pipeline answered null",
    "false_answer": "unanswerable, but the pipeline gave an answer",
}
CLASS_COLORS = {
    "correct": COLORS["green"],
    "retrieval_miss": COLORS["grey"],
    "reader_miss": COLORS["orange"],
    "false_no_answer": COLORS["purple"],
    "false_answer": COLORS["red"],
}
SNIPPET_CHARS = 260  # passage text shown either side of a highlighted span


def headline(m: dict[str, Any]) -> str:
    recall = m.get("retrieval_recall_at_k", {})
    k = str(m.get("config", {}).get("k", ""))
    total = m.get("latency_ms", {}).get("total", {})
    best = m["no_answer_threshold"]["best_f1"]
    cards = [
        ("Exact match", fmt(m["exact_match"]), f"F1 {fmt(m['f1'])}"),
        (
            "Has-answer",
            f"EM {fmt(m['has_ans_exact_match'])}",
            f"F1 {fmt(m['has_ans_f1'])} · {m['n_has_answer']} questions",
        ),
        ("No-answer accuracy", fmt(m["no_ans_accuracy"]), f"{m['n_no_answer']} questions"),
        (
            f"Retrieval recall@{k}",
            fmt(recall.get(k)),
            " · ".join(f"@{x} {fmt(v)}" for x, v in recall.items() if x != k),
        ),
        (
            "MRR",
            fmt(m["mrr"], 3),
            "first passage holding the answer, "
            f"top {m.get('config', {}).get('retrieval_depth', RETRIEVAL_DEPTH)}",
        ),
        (
            "Reader when retrieved",
            f"EM {fmt(m.get('reader_exact_match_when_retrieved'))}",
            f"F1 {fmt(m.get('reader_f1_when_retrieved'))}",
        ),
        ("Latency (total)", f"{fmt(total.get('p50'), 0)} ms", f"p50 · p95 {fmt(total.get('p95'), 0)} ms"),
        (
            "Best no-answer threshold",
            f"{best['threshold']:+.3f}",
            f"F1 {fmt(best['f1'])} · EM {fmt(best['exact_match'])} (now {m['no_answer_threshold']['used']})",
        ),
    ]
    body = "".join(
        f"<div class='card'><div class='label'>{escape(a)}</div><div class='value'>{escape(b)}</div>"
        f"<div class='sub'>{escape(c)}</div></div>"
        for a, b, c in cards
    )
    return (
        f"<div class='cards'>{body}</div><p class='note'>EM, F1, accuracies and recall in percent "
        "(SQuAD 2.0 normalisation; unanswerable questions score 1 only for a null answer). "
        "Retrieval figures count answerable questions whose answer text occurs in a retrieved passage.</p>"
    )


def config_table(cfg: dict[str, Any]) -> str:
    keys = (
        "questions",
        "questions_format",
        "limit",
        "corpus",
        "index",
        "index_passages",
        "index_articles",
        "embedder",
        "reader",
        "k",
        "retrieval_depth",
        "mode",
        "no_answer_threshold",
        "git_commit",
        "git_dirty",
        "started",
        "cpu_count",
        "command",
    )
    rows = "".join(
        f"<tr><th>{escape(key)}</th><td>{escape(cfg.get(key))}</td></tr>" for key in keys if key in cfg
    )
    return f"<details><summary>Run configuration</summary><table class='config'>{rows}</table></details>"


def errors_section(records: Sequence[dict[str, Any]], m: dict[str, Any], examples: int) -> str:
    counts = m["errors"]
    n = max(1, m["n"])
    bars = [(name, counts.get(name, 0), CLASS_COLORS[name]) for name in ("correct", *ERROR_CLASSES)]
    rows = "".join(
        f"<tr><td><span class='dot' style='background:{CLASS_COLORS[name]}'></span>{escape(name)}</td>"
        f"<td class='num'>{count}</td>"
        f"<td class='num'>{100 * count / n:.1f}%</td><td>{escape(ERROR_MEANINGS[name])}</td></tr>"
        for name, count, _ in bars
    )
    parts = [
        "<h2>Error attribution</h2>",
        "<div class='plots'>"
        + figure(
            bar_chart("Outcomes", bars),
            "Each wrong answer gets one class: retrieval first (the reader never saw the answer), "
            "then the reader's choice.",
        )
        + "<table class='counts'><tr><th>class</th><th>count</th><th>share</th><th>meaning</th></tr>"
        f"{rows}</table></div>",
    ]
    for name in ERROR_CLASSES:
        wrong = [r for r in records if r["error_class"] == name]
        if not wrong:
            continue
        shown = wrong[:examples]
        note = (
            f"all {len(wrong)}"
            if len(shown) == len(wrong)
            else f"the first {len(shown)} of {len(wrong)} (all are in predictions.jsonl)"
        )
        body = "".join(_example_row(r) for r in shown)
        parts.append(
            f"<details open><summary><b>{escape(name)}</b>: {len(wrong)} questions, showing {note}</summary>"
            "<table class='examples'><tr><th>question</th><th>prediction</th><th>gold</th>"
            f"<th>passage</th></tr>{body}</table></details>"
        )
    return "\n".join(parts)


def _example_row(r: dict[str, Any]) -> str:
    prediction = "<i>null</i>" if r["answer"] is None else f"{escape(r['answer'])}"
    shown = r["no_answer_score"] if r["answer"] is None else r["confidence"]
    prediction += f"<div class='sub'>{'no-answer score' if r['answer'] is None else 'confidence'} {shown:.2f}"
    if r["answer"] is None and r.get("best_candidate"):
        prediction += f"; best span {escape(r['best_candidate'])}"
    prediction += f"; margin {fmt(r.get('margin'), 2)}</div>"
    gold = "<i>unanswerable</i>" if not r["has_answer"] else "<br>".join(escape(g) for g in r["gold"])
    passage = ""
    citation = r["citations"][0] if r["citations"] else None
    if citation is not None:
        span = (citation["start"], citation["end"]) if citation["start"] is not None else None
        label = "cited" if span else "top passage"
        passage += (
            f"<div class='sub'>{label}: {escape(citation['title'])}</div>{_snippet(citation['text'], span)}"
        )
    holder = r.get("answer_passage")
    if (
        r["has_answer"]
        and holder is not None
        and (citation is None or holder["passage_id"] != citation["passage_id"] or r["answer"] is None)
    ):
        if r.get("read_answer_rank") is not None:
            where = f"answer in read passage #{r['read_answer_rank'] + 1}"
        else:
            where = f"answer only at rank {r['answer_rank'] + 1} of {len(r.get('retrieved', []))} (not read)"
        passage += (
            f"<div class='sub'>{where}: {escape(holder['title'])}</div>"
            f"{_snippet(holder['text'], _find(holder['text'], r['gold']))}"
        )
    elif r["has_answer"] and holder is None:
        passage += (
            f"<div class='sub'>none of the {len(r.get('retrieved', []))} retrieved passages "
            "holds the answer</div>"
        )
    return (
        f"<tr><td>{escape(r['question'])}<div class='sub'>{escape(r['id'])}</div></td><td>{prediction}</td>"
        f"<td>{gold}</td><td class='passage'>{passage}</td></tr>"
    )


def all_questions(records: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr class='{escape(r['error_class'] or 'correct')}'><td>{escape(r['id'])}</td>"
        f"<td>{escape(r['question'])}</td>"
        f"<td>{'<i>null</i>' if r['answer'] is None else escape(r['answer'])}</td>"
        f"<td>{'<i>unanswerable</i>' if not r['has_answer'] else ' | '.join(escape(g) for g in r['gold'])}"
        "</td>"
        f"<td>{escape(r['error_class'] or 'correct')}</td><td class='num'>{r['f1']:.2f}</td>"
        f"<td class='num'>{fmt(r['confidence'], 2)}</td>"
        f"<td class='num'>{fmt(r.get('margin'), 2)}</td>"
        f"<td class='num'>{'-' if r['answer_rank'] is None else r['answer_rank'] + 1}</td>"
        f"<td class='num'>{r['timings_ms']['total_ms']:.0f}</td></tr>"
        for r in records
    )
    head = (
        "<tr><th>id</th><th>question</th><th>prediction</th><th>gold</th><th>outcome</th><th>F1</th>"
        "<th>confidence</th><th>margin</th><th>answer rank</th><th>ms</th></tr>"
    )
    return (
        f"<h2>Every question</h2><details><summary>{len(records)} questions (also in predictions.jsonl)"
        f"</summary><table class='all'>{head}{rows}</table></details>"
    )


def _find(text: str, answers: Sequence[str]) -> tuple[int, int] | None:
    lowered = text.lower()
    for answer in sorted(answers, key=len, reverse=True):
        start = lowered.find(answer.lower()) if answer.strip() else -1
        if start >= 0:
            return start, start + len(answer)
    return None


def _snippet(text: str, span: tuple[int, int] | None) -> str:
    if span is None:
        cut = text[: 2 * SNIPPET_CHARS]
        return f"<div class='snippet'>{escape(cut)}{'…' if len(text) > len(cut) else ''}</div>"
    start, end = span
    a, b = max(0, start - SNIPPET_CHARS), min(len(text), end + SNIPPET_CHARS)
    return (
        f"<div class='snippet'>{'…' if a > 0 else ''}{escape(text[a:start])}"
        f"<mark>{escape(text[start:end])}</mark>"
        f"{escape(text[end:b])}{'…' if b < len(text) else ''}</div>"
    )
