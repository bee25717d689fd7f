"""FakeOpenAIServer: an HTTP-level test double for OpenAI's paid Chat Completions API.

It listens on 127.0.0.1 (a free port) in a thread and answers
``POST /v1/chat/completions`` the way api.openai.com does: a JSON body, or with
``"stream": true`` server-sent events ``data: {...}`` ending in ``data: [DONE]``.
It records each request (path, headers, JSON body) so tests can assert what
the real ``openai`` client sent. ``delay`` makes it slow (for timeouts);
``status`` makes it fail the way OpenAI does (401, 404, 429, 500).

Example:
    >>> with FakeOpenAIServer(reply="Hello there") as server:    # doctest: +SKIP
    ...     ChatOpenAI(base_url=server.base_url, api_key="k").invoke("hi").content
    'Hello there'
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ERRORS = {
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached."),
    500: ("server_error", None, "The server had an error while processing your request."),
}


@dataclass
class RecordedRequest:
    """One request as the double received it."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]


class FakeOpenAIServer:
    """A loopback OpenAI-compatible server that replies with ``reply``, word by word when streaming."""

    def __init__(self, reply: str = "The Trailhead jacket is waterproof.", *, delay: float = 0.0, status: int = 200):
        self.reply = reply
        self.delay = delay
        self.status = status
        self.requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def completion(self, body: dict[str, Any]) -> tuple[list[str], str]:
        """The reply's pieces (word by word) within the request's token limit, and the finish reason."""
        words = self.reply.split(" ")
        pieces = [word if i == 0 else f" {word}" for i, word in enumerate(words)]
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if limit is not None and int(limit) < len(pieces):
            return pieces[: int(limit)], "length"
        return pieces, "stop"


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON, as OpenAI's API does (shared by the test doubles)."""

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"{}")
            server.requests.append(RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if server.delay and server._stopping.wait(server.delay):
                return
            try:
                if self.path != "/v1/chat/completions":
                    self._json(
                        404, {"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error"}}
                    )
                elif server.status != 200:
                    kind, code, message = _ERRORS.get(server.status, ("server_error", None, "Error."))
                    self._json(server.status, {"error": {"message": message, "type": kind, "code": code}})
                elif body.get("stream"):
                    self._stream(body)
                else:
                    self._complete(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def _complete(self, body: dict[str, Any]) -> None:
            pieces, finish = server.completion(body)
            self._json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", ""),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(pieces)},
                            "finish_reason": finish,
                        }
                    ],
                    "usage": _usage(body, pieces),
                },
            )

        def _stream(self, body: dict[str, Any]) -> None:
            pieces, finish = server.completion(body)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time())}
            base["model"] = body.get("model", "")
            deltas = [{"role": "assistant", "content": ""}] + [{"content": piece} for piece in pieces]
            for delta in deltas:
                self._event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                self._event({**base, "choices": [], "usage": _usage(body, pieces)})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def _event(self, payload: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
            self.wfile.flush()

    return Handler


def _usage(body: dict[str, Any], pieces: list[str]) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    return {"prompt_tokens": prompt, "completion_tokens": len(pieces), "total_tokens": prompt + len(pieces)}
