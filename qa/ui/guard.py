"""What the chat server refuses before Gradio sees a request: uploads (the app takes none), large
bodies, and a client asking faster than anyone types; and a log that repeated errors cannot flood.

An ASGI middleware, handed to Gradio's FastAPI app through `launch(app_kwargs=...)`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

# A question, its filters and a follow-up history fit in a few kilobytes; Gradio's own requests
# (queue joins, heartbeats) are smaller still.
MAX_BODY_BYTES = 64 * 1024
# Per client address: a burst of this many requests, then this many a second. A chat turn costs
# Gradio about four requests (join, stream, heartbeat); 20 clients on one address stay well below.
RATE_BURST = 240
RATE_PER_SECOND = 40.0
MAX_CLIENTS_TRACKED = 4096
# Repeated log messages: this many a minute for one message template, then one line that says how
# many more were dropped.
LOG_REPEATS_PER_MINUTE = 5


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per client address; the oldest addresses are forgotten past a bound."""

    def __init__(self, burst: int = RATE_BURST, per_second: float = RATE_PER_SECOND, clock=time.monotonic):
        self.burst, self.per_second, self.clock = burst, per_second, clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(client, None) or _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            self._buckets[client] = bucket
            while len(self._buckets) > MAX_CLIENTS_TRACKED:
                self._buckets.popitem(last=False)
            return allowed


def _is_upload(path: str) -> bool:
    # Gradio serves uploads at /gradio_api/upload (and /upload); this app has no file input.
    return path.rstrip("/").endswith("/upload")


class GuardMiddleware:
    """Refuses uploads (403), bodies over `max_body` (413) and clients over their rate (429)."""

    def __init__(self, app, max_body: int = MAX_BODY_BYTES, limiter: RateLimiter | None = None):
        self.app = app
        self.max_body = max_body
        self.limiter = limiter if limiter is not None else RateLimiter()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if _is_upload(scope.get("path", "")):
            return await _refuse(send, 403, "this chat takes no uploads")
        client = (scope.get("client") or ("unknown", 0))[0]
        if not self.limiter.allow(client):
            return await _refuse(send, 429, "too many requests: slow down")
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await _refuse(send, 413, f"request body over {self.max_body} bytes")
        received = 0

        async def counted_receive():
            # A chunked body says no length up front: count it as it arrives, and hang up past the cap.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    return {"type": "http.disconnect"}
            return message

        return await self.app(scope, counted_receive, send)


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RepeatFilter(logging.Filter):
    """Lets through at most `per_minute` records of one message template a minute, then one line
    saying how many were dropped: 20,000 bad requests write a few lines, not megabytes."""

    def __init__(self, per_minute: int = LOG_REPEATS_PER_MINUTE, clock=time.monotonic):
        super().__init__()
        self.per_minute, self.clock = per_minute, clock
        self._seen: dict[tuple[str, str], tuple[float, int, int]] = {}  # key -> (window start, sent, dropped)
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self.clock()
        with self._lock:
            start, sent, dropped = self._seen.get(key, (now, 0, 0))
            if now - start >= 60.0:
                if dropped:
                    record.msg = f"{record.msg} [{dropped} more like this in the last minute were not logged]"
                start, sent, dropped = now, 0, 0
            if sent >= self.per_minute:
                self._seen[key] = (start, sent, dropped + 1)
                return False
            self._seen[key] = (start, sent + 1, dropped)
            if len(self._seen) > MAX_CLIENTS_TRACKED:
                self._seen.pop(next(iter(self._seen)))
            return True
