"""qa/ui/guard.py: what the chat server refuses, tried on the middleware alone and on a real server."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request

import pytest
from apphelpers import running_app, write_corpus

from qa.ui.guard import GuardMiddleware, RateLimiter, RepeatFilter


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def call(middleware: GuardMiddleware, path: str, body: bytes = b"", headers=(), client="10.0.0.1"):
    """One HTTP request through the middleware; (status, what the app behind it received)."""
    seen: dict = {}

    async def app(scope, receive, send):
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                seen["disconnected"] = True
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        seen["body"] = b"".join(chunks)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware.app = app
    pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)] or [b""]
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)
    ]
    sent: list = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": list(headers), "client": (client, 5000)}
    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"], seen


def test_the_upload_route_is_refused_whatever_its_prefix():
    guard = GuardMiddleware(None)
    for path in ("/gradio_api/upload", "/upload", "/gradio_api/upload/"):
        status, seen = call(guard, path, b"x" * 10)
        assert status == 403 and not seen
    assert call(guard, "/gradio_api/queue/join", b"{}")[0] == 200


def test_bodies_over_the_cap_never_reach_the_app_whole():
    guard = GuardMiddleware(None, max_body=5000)
    declared = [(b"content-length", b"6000")]
    assert call(guard, "/gradio_api/queue/join", b"x" * 6000, declared)[0] == 413
    # Chunked, with no length up front: the app sees a hang-up, never a body over the cap.
    status, seen = call(guard, "/gradio_api/queue/join", b"x" * 6000)
    assert seen.get("disconnected") and len(seen["body"]) <= 5000
    assert call(guard, "/gradio_api/queue/join", b"x" * 4000)[1]["body"] == b"x" * 4000


def test_a_client_over_its_rate_waits_and_others_do_not():
    clock = Clock()
    guard = GuardMiddleware(None, limiter=RateLimiter(burst=3, per_second=1.0, clock=clock))
    assert [call(guard, "/x", client="a")[0] for _ in range(4)] == [200, 200, 200, 429]
    assert call(guard, "/x", client="b")[0] == 200
    clock.now = 1.0  # a second later, one more
    assert [call(guard, "/x", client="a")[0] for _ in range(2)] == [200, 429]


def test_repeated_log_messages_are_dropped_then_counted():
    clock = Clock()
    repeat = RepeatFilter(per_minute=3, clock=clock)
    passed = [
        repeat.filter(logging.LogRecord("qa.app", 40, "f", 1, "Could not answer %r", (i,), None))
        for i in range(10)
    ]
    assert passed == [True] * 3 + [False] * 7
    clock.now = 61.0
    later = logging.LogRecord("qa.app", 40, "f", 1, "Could not answer %r", ("z",), None)
    assert repeat.filter(later) and "7 more like this" in later.getMessage()
    other = logging.LogRecord("qa.app", 40, "f", 1, "Another message", (), None)
    assert repeat.filter(other)


@pytest.mark.slow
def test_a_real_chat_server_refuses_uploads_and_large_bodies(tmp_path):
    with running_app(write_corpus(tmp_path / "articles"), tmp_path / "index", tmp_path / "app.log") as app:
        upload = urllib.request.Request(
            app.url + "gradio_api/upload",
            data=b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
            b"\r\nx\r\n--b--\r\n",
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(upload, timeout=30)
        assert refused.value.code == 403
        big = urllib.request.Request(
            app.url + "gradio_api/queue/join",
            data=json.dumps({"data": ["x" * 200_000]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as too_large:
            urllib.request.urlopen(big, timeout=30)
        assert too_large.value.code == 413
        with urllib.request.urlopen(app.url, timeout=30) as page:  # and the chat still serves
            assert page.status == 200
