"""Soak: N chat clients for M minutes against a real chat server, with a rebuild of its index halfway.

    python -m bench.soak [--clients 20] [--minutes 10] [--json OUT] [--work DIR]

Copies the bundled sample articles (qa/sample_articles) into a temporary folder and starts
`python app.py` on a free port of 127.0.0.1 over them (bench/appserver.py; it builds the index).
Each client is a thread that asks the sample questions (qa/sample_questions.json) one after another
through the plain HTTP API of /ask (POST /gradio_api/call/ask, then its event stream): the standard
library only, one thread a client, where gradio_client starts threads of its own and polls a
heartbeat. A client's loop ends at the deadline and each request has a timeout, so the run stops by
itself.

Halfway through, the bench writes one new article (its own text, about a tide clock no sample article
mentions) into the articles folder and runs `qa index --store INDEX --articles FOLDER` in a
subprocess; the server checks the index between questions and serves the new generation. A probe
then asks about the new article until it is answered from it.

Printed at each minute: requests finished in that minute, errors, p50/p95 latency, the server's
resident memory (VmRSS from /proc/PID/status, sampled every 5 s). At the end: totals, how many
refusals were HTTP 429 (the chat's per-address rate limit, qa/ui/guard.py: every client here
shares 127.0.0.1), and the RSS slope in MB/min (least squares) over the last half of the run.
The server inherits this process's environment: GRADIO_ANALYTICS_MAX_EVENTS=100, for one, shows
how much of its growth is Gradio's record of past events (docs/reliability.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.appserver import SERVER_ENV, running_app
from qa import config

SAMPLE_ARTICLES = ROOT / "qa" / "sample_articles"
SAMPLE_QUESTIONS = ROOT / "qa" / "sample_questions.json"
REQUEST_TIMEOUT_S = 180.0  # one question, queue wait included, on a loaded two-core machine
REBUILD_TIMEOUT_S = 600.0
RSS_EVERY_S = 5.0
PROBE_TRIES = 10

# The article added halfway through (fictional, written for this bench) and a question only it answers.
NEW_ARTICLE_NAME = "harbour-tide-clock.md"
NEW_ARTICLE = """---
title: Port Ellery's harbour wall gets a clock driven by the tide
date: 2024-11-04
source: https://example.org/port-ellery/tide-clock
---

Port Ellery unveiled a clock driven by the rise and fall of the tide on its harbour wall on Monday.
The clock was designed by the marine engineer Oskar Lindqvist, who spent six years on the mechanism.

A float in a shaft below the wall winds the clock twice a day, so it needs no electricity. The town
paid 1.9 million kroner for it, half of which came from a fishing cooperative.

Lindqvist said the clock loses about four seconds a week, which the harbour master corrects by hand.
"""
NEW_QUESTION = "Who designed the clock on the Port Ellery harbour wall?"
NEW_ANSWER = "Oskar Lindqvist"
NEW_SOURCE = "tide-clock"


@dataclass(frozen=True)
class Outcome:
    """One question as a client saw it."""

    question: str
    finished_s: float  # since the run started
    latency_s: float
    ok: bool
    error: str = ""  # "http 429", "timeout", "error event: ...", ...
    answer: str | None = None


def ask(url: str, question: str, timeout: float = REQUEST_TIMEOUT_S) -> tuple[dict | None, str]:
    """The /ask endpoint over plain HTTP: (Answer.to_dict(), "") or (None, what went wrong)."""
    # Every parameter of /ask in order (a call with fewer is refused): question, k, mode, date_from,
    # date_to, source, history.
    values = [question, config.DEFAULT_TOP_K, config.DEFAULT_RETRIEVAL_MODE, "", "", "", []]
    body = json.dumps({"data": values}).encode()
    request = urllib.request.Request(
        url + "gradio_api/call/ask", data=body, headers={"Content-Type": "application/json"}
    )
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            event_id = json.load(response)["event_id"]
        with urllib.request.urlopen(url + f"gradio_api/call/ask/{event_id}", timeout=timeout) as stream:
            event = ""
            for raw in stream:  # server-sent events: "event: NAME" then "data: JSON"; heartbeats between
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = json.loads(line[5:])
                    if event == "error":
                        return None, f"error event: {str(data)[:120]}"
                    return data[0], ""
                if time.monotonic() > deadline:
                    return None, "timeout"
        return None, "stream ended without a result"
    except urllib.error.HTTPError as error:
        return None, f"http {error.code}"
    except TimeoutError:
        return None, "timeout"
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        return None, f"{type(error).__name__}: {str(error)[:120]}"


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (VmRSS), None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def slope_per_minute(samples: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_y = sum(y for _, y in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return None
    return 60.0 * sum((t - mean_t) * (y - mean_y) for t, y in samples) / spread


def _answered_from_new_article(data: dict | None) -> bool:
    if not data or NEW_ANSWER not in (data.get("answer") or ""):
        return False
    return any(NEW_SOURCE in (c.get("source") or "") for c in data.get("citations", ()))


class Soak:
    """The clients, the RSS sampler and the rebuild of one run, and what they recorded."""

    def __init__(self, url: str, pid: int, clients: int, seconds: float, articles: Path, index: Path):
        self.url, self.pid, self.clients, self.seconds = url, pid, clients, seconds
        self.articles, self.index = articles, index
        self.outcomes: list[Outcome] = []
        self.rss: list[tuple[float, float]] = []
        self.rebuild: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._stop = threading.Event()

    def now(self) -> float:
        return time.monotonic() - self._started

    def client(self, number: int, questions: Sequence[str]) -> None:
        """One user asking question after question until the deadline (each bounded by its timeout)."""
        order = random.Random(number)
        while self.now() < self.seconds:
            question = order.choice(questions)
            started = time.perf_counter()
            data, error = ask(self.url, question)
            latency = time.perf_counter() - started
            outcome = Outcome(
                question, self.now(), latency, data is not None, error, (data or {}).get("answer")
            )
            with self._lock:
                self.outcomes.append(outcome)
            if error:
                time.sleep(1.0)  # a refused client backs off instead of spinning

    def stop(self) -> None:
        self._stop.set()

    def sample_rss(self) -> None:
        while not self._stop.is_set():
            value = rss_mb(self.pid)
            if value is not None:
                with self._lock:
                    self.rss.append((self.now(), value))
            self._stop.wait(RSS_EVERY_S)

    def rebuild_halfway(self) -> None:
        """Add the new article and run `qa index` in a subprocess; then ask about it until it is
        answered from it (the server switches to a new generation between questions)."""
        if self._stop.wait(self.seconds / 2):
            return
        (self.articles / NEW_ARTICLE_NAME).write_text(NEW_ARTICLE, encoding="utf-8")
        command = [sys.executable, "-m", "qa.cli", "index", "--store", str(self.index)]
        command += ["--articles", str(self.articles)]
        started = self.now()
        try:
            done = subprocess.run(
                command,
                cwd=ROOT,
                env={**os.environ, **SERVER_ENV},
                capture_output=True,
                text=True,
                timeout=REBUILD_TIMEOUT_S,
            )
            code, output = done.returncode, (done.stdout + done.stderr).strip()
        except subprocess.TimeoutExpired:
            code, output = None, f"qa index did not finish within {REBUILD_TIMEOUT_S:.0f} s"
        self.rebuild = {"started_s": started, "finished_s": self.now(), "exit": code, "output": output[-600:]}
        for attempt in range(1, PROBE_TRIES + 1):
            data, error = ask(self.url, NEW_QUESTION)
            if _answered_from_new_article(data):
                self.rebuild.update(answered_after_s=self.now() - self.rebuild["finished_s"], tries=attempt)
                break
            self.rebuild.update(last_answer=(data or {}).get("answer"), last_error=error)
            if self._stop.wait(3.0):
                break
        self.rebuild["answered_from_new_article"] = "answered_after_s" in self.rebuild
        self.rebuild["answer"] = (data or {}).get("answer")

    def minute(self, number: int) -> dict[str, Any]:
        """What finished in minute `number` (the last minute also takes what finished after the deadline)."""
        last = number == math.ceil(self.seconds / 60) - 1
        with self._lock:
            done = [
                o
                for o in self.outcomes
                if number * 60 <= o.finished_s and (last or o.finished_s < number * 60 + 60)
            ]
            rss = [value for t, value in self.rss if t < number * 60 + 60]
        latencies = [o.latency_s for o in done if o.ok]
        return {
            "minute": number + 1,
            "requests": len(done),
            "errors": sum(not o.ok for o in done),
            "http_429": sum(o.error == "http 429" for o in done),
            "p50_s": percentile(latencies, 0.5),
            "p95_s": percentile(latencies, 0.95),
            "rss_mb": rss[-1] if rss else None,
        }


def _row(minute: dict[str, Any], rebuild: dict[str, Any]) -> list[object]:
    start, end = (minute["minute"] - 1) * 60, minute["minute"] * 60
    note = "rebuild" if rebuild and start <= rebuild.get("started_s", -1) < end else ""

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    rss = "-" if minute["rss_mb"] is None else f"{minute['rss_mb']:.0f}"
    p50, p95 = seconds(minute["p50_s"]), seconds(minute["p95_s"])
    return [minute["minute"], minute["requests"], minute["errors"], minute["http_429"], p50, p95, rss, note]


def _line(cells: Sequence[object]) -> str:
    return "".join(str(cell).rjust(width) for cell, width in zip(cells, WIDTHS)).rstrip()


WIDTHS = (6, 10, 8, 13, 8, 8, 8, 9)
HEADERS = ("minute", "requests", "errors", "of them 429", "p50 s", "p95 s", "RSS MB", "")


def run(clients: int = 20, minutes: float = 10.0, work: Path | None = None) -> dict[str, Any]:
    questions = [q["question"] for q in json.loads(SAMPLE_QUESTIONS.read_text(encoding="utf-8"))]
    temporary = None if work is not None else tempfile.mkdtemp(prefix="qa-soak-")
    root = work if work is not None else Path(temporary)
    try:
        articles, index = root / "articles", root / "index"
        shutil.copytree(SAMPLE_ARTICLES, articles)
        print(
            f"Starting the chat server over {len(list(articles.iterdir()))} sample articles ...", flush=True
        )
        started = time.perf_counter()
        with running_app(articles, index, root / "app.log") as server:
            pid = server.process.pid
            print(f"Serving {server.url} (pid {pid}) after {time.perf_counter() - started:.0f} s", flush=True)
            before, error = ask(server.url, NEW_QUESTION)  # also the first, slower question
            before_answer = (before or {}).get("answer") if not error else f"({error})"
            print(f"Before the rebuild, {NEW_QUESTION!r} -> {before_answer!r}", flush=True)
            soak = Soak(server.url, pid, clients, minutes * 60, articles, index)
            threads = [threading.Thread(target=soak.sample_rss, daemon=True)]
            threads.append(threading.Thread(target=soak.rebuild_halfway, daemon=True))
            threads += [
                threading.Thread(target=soak.client, args=(n, questions), daemon=True) for n in range(clients)
            ]
            for thread in threads:
                thread.start()
            print(f"{clients} clients for {minutes:g} min; a rebuild at {minutes * 30:.0f} s", flush=True)
            rows = []
            count = math.ceil(minutes)
            for number in range(count):
                wait_until = min((number + 1) * 60, minutes * 60)
                if number == count - 1:  # the last minute: the clients finish their questions in flight
                    for thread in threads[2:]:
                        thread.join(timeout=max(0.0, wait_until - soak.now()) + REQUEST_TIMEOUT_S + 10)
                else:
                    time.sleep(max(0.0, wait_until - soak.now()))
                rows.append(soak.minute(number))
                if number == 0:
                    print(_line(HEADERS), flush=True)
                print(_line(_row(rows[-1], soak.rebuild)), flush=True)
            threads[1].join(timeout=REBUILD_TIMEOUT_S + PROBE_TRIES * (REQUEST_TIMEOUT_S + 3))
            soak.stop()
            threads[0].join(timeout=RSS_EVERY_S + 5)
            still_running = sum(thread.is_alive() for thread in threads)
            log_bytes = (root / "app.log").stat().st_size
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)

    outcomes = soak.outcomes
    latencies = [o.latency_s for o in outcomes if o.ok]
    errors: dict[str, int] = {}
    for o in outcomes:
        if not o.ok:
            errors[o.error] = errors.get(o.error, 0) + 1
    # Under load and across the rebuild, one question should keep one answer (None: "not in the articles").
    answers: dict[str, dict[str, int]] = {}
    for o in outcomes:
        if o.ok:
            given = answers.setdefault(o.question, {})
            given[str(o.answer)] = given.get(str(o.answer), 0) + 1
    half = minutes * 30
    last_half = [(t, value) for t, value in soak.rss if t >= half]
    elapsed = max(o.finished_s for o in outcomes) if outcomes else minutes * 60
    result = {
        "clients": clients,
        "minutes": minutes,
        "requests": len(outcomes),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "http_429": errors.get("http 429", 0),
        "questions_per_s": len(outcomes) / elapsed if elapsed else None,
        # Each question is two HTTP requests (the call, then its event stream): the rate the guard counts.
        "http_requests_per_s": 2 * len(outcomes) / elapsed if elapsed else None,
        "p50_s": percentile(latencies, 0.5),
        "p95_s": percentile(latencies, 0.95),
        "max_s": max(latencies) if latencies else None,
        "rss_first_mb": soak.rss[0][1] if soak.rss else None,
        "rss_last_mb": soak.rss[-1][1] if soak.rss else None,
        "rss_max_mb": max(value for _, value in soak.rss) if soak.rss else None,
        "rss_slope_last_half_mb_per_min": slope_per_minute(last_half),
        "rss_samples": [[round(t, 1), round(value, 1)] for t, value in soak.rss],
        "answers_by_question": answers,
        "questions_with_more_than_one_answer": sum(len(given) > 1 for given in answers.values()),
        "before_rebuild_answer": before_answer,
        "rebuild": soak.rebuild,
        "threads_still_running": still_running,
        "server_log_bytes": log_bytes,
        "per_minute": rows,
    }
    return result


def summary(result: dict[str, Any]) -> str:
    def figure(value: float | None, unit: str = "", digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}{unit}"

    rebuild = result["rebuild"]
    lines = [
        f"{result['requests']} questions, {result['errors']} errors {result['errors_by_kind'] or ''}, "
        f"{result['http_429']} HTTP 429; {figure(result['questions_per_s'])} questions/s "
        f"({figure(result['http_requests_per_s'])} HTTP requests/s from one address)",
        f"latency p50 {figure(result['p50_s'], ' s')}, p95 {figure(result['p95_s'], ' s')}, "
        f"max {figure(result['max_s'], ' s')}",
        f"server RSS {figure(result['rss_first_mb'], ' MB', 0)} -> {figure(result['rss_last_mb'], ' MB', 0)} "
        f"(max {figure(result['rss_max_mb'], ' MB', 0)}); slope over the last half "
        f"{figure(result['rss_slope_last_half_mb_per_min'], ' MB/min')}",
    ]
    if rebuild:
        lines.append(
            f"rebuild: qa index exit {rebuild.get('exit')} after "
            f"{rebuild['finished_s'] - rebuild['started_s']:.0f} s; {NEW_QUESTION!r} "
            + (
                f"answered from the new article ({rebuild['answer']!r}) {rebuild['answered_after_s']:.1f} s "
                f"later, try {rebuild['tries']}"
                if rebuild.get("answered_from_new_article")
                else f"NOT answered from the new article: {rebuild.get('last_answer')!r} "
                f"{rebuild.get('last_error', '')}"
            )
        )
    else:
        lines.append("rebuild: did not run")
    lines.append(f"before the rebuild: {result['before_rebuild_answer']!r}")
    lines.append(
        f"{len(result['answers_by_question'])} questions asked, "
        f"{result['questions_with_more_than_one_answer']} of them given more than one answer"
    )
    lines.append(
        f"server log: {result['server_log_bytes']:,} bytes; threads still running: "
        f"{result['threads_still_running']}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default: %(default)s)")
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="length of the run (default: %(default)s)"
    )
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the figures here")
    parser.add_argument("--work", type=Path, default=None, help="an empty folder to work in (kept)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.minutes <= 0:
        parser.error(f"--clients and --minutes must be positive, got {args.clients} and {args.minutes}")
    # A SIGTERM unwinds like Ctrl-C, so the server is stopped and the temporary folder removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = run(args.clients, args.minutes, args.work)
    print(summary(result), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    return 0 if result["errors"] == 0 and result["rebuild"].get("answered_from_new_article") else 1


if __name__ == "__main__":
    sys.exit(main())
