"""FakeOpenAIFineTuneServer: an HTTP-level test double of OpenAI's paid files and fine-tuning endpoints.

It listens on 127.0.0.1 (a free port) in a thread and answers what the real
``openai`` client sends: ``POST /v1/files`` (multipart upload),
``POST /v1/fine_tuning/jobs``, ``GET /v1/fine_tuning/jobs/<id>`` (the job
moves ``validating_files`` -> ``running`` -> ``outcome`` one poll at a time),
``GET /v1/fine_tuning/jobs/<id>/events`` and ``POST .../cancel``. Every
request is recorded (method, path, body) so a test can assert what was sent,
or that nothing was.

Example:
    >>> with FakeOpenAIFineTuneServer(outcome="failed") as server:  # doctest: +SKIP
    ...     OpenAI(base_url=server.base_url, api_key="k").files.create(file=("a.jsonl", b"{}"), purpose="fine-tune")
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_openai_server import JsonHandler


@dataclass
class FineTuneRequest:
    method: str
    path: str
    body: Any  # JSON for jobs; the uploaded file's text for /files


class FakeOpenAIFineTuneServer:
    """A loopback stand-in for api.openai.com's files and fine-tuning APIs; ``outcome`` is how jobs end."""

    def __init__(self, outcome: str = "succeeded") -> None:
        assert outcome in ("succeeded", "failed", "cancelled")
        self.outcome = outcome
        self.requests: list[FineTuneRequest] = []
        self.files: dict[str, str] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai-ft", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def uploads(self) -> list[FineTuneRequest]:
        return [r for r in self.requests if r.path == "/v1/files"]

    def __enter__(self) -> FakeOpenAIFineTuneServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def advance(self, job: dict[str, Any]) -> None:
        """One poll's worth of progress."""
        steps = ["validating_files", "running", self.outcome]
        if job["status"] in steps[:-1]:
            job["status"] = steps[steps.index(job["status"]) + 1]
        if job["status"] == "succeeded":
            job["fine_tuned_model"] = f"ft:{job['model']}:acme::{job['id'][-8:]}"
            job["trained_tokens"] = 1234
            job["finished_at"] = int(time.time())
        elif job["status"] == "failed":
            job["error"] = {
                "code": "invalid_training_file",
                "message": "Training file has too few examples.",
                "param": "training_file",
            }


def _handler_for(server: FakeOpenAIFineTuneServer) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/v1/files":
                text = _multipart_file(raw, self.headers.get("Content-Type", ""))
                server.requests.append(FineTuneRequest("POST", self.path, text))
                file_id = f"file-{uuid.uuid4().hex[:12]}"
                server.files[file_id] = text
                self._json(
                    200,
                    {
                        "id": file_id,
                        "object": "file",
                        "bytes": len(raw),
                        "created_at": int(time.time()),
                        "filename": "train.jsonl",
                        "purpose": "fine-tune",
                        "status": "processed",
                    },
                )
                return
            body = json.loads(raw or b"{}")
            server.requests.append(FineTuneRequest("POST", self.path, body))
            if self.path == "/v1/fine_tuning/jobs":
                if body.get("training_file") not in server.files:
                    self._json(400, {"error": {"message": "invalid training_file", "type": "invalid_request_error"}})
                    return
                job_id = f"ftjob-{uuid.uuid4().hex[:12]}"
                server.jobs[job_id] = {
                    "id": job_id,
                    "object": "fine_tuning.job",
                    "model": body["model"],
                    "status": "validating_files",
                    "created_at": int(time.time()),
                    "training_file": body["training_file"],
                    "validation_file": body.get("validation_file"),
                    "fine_tuned_model": None,
                    "error": None,
                    "hyperparameters": (body.get("method") or {}).get("supervised", {}).get("hyperparameters", {}),
                    "method": body.get("method"),
                    "organization_id": "org-fake",
                    "result_files": [],
                    "seed": 1,
                    "trained_tokens": None,
                    "finished_at": None,
                }
                self._json(200, server.jobs[job_id])
                return
            match = re.fullmatch(r"/v1/fine_tuning/jobs/([\w-]+)/cancel", self.path)
            if match and match.group(1) in server.jobs:
                server.jobs[match.group(1)]["status"] = "cancelled"
                self._json(200, server.jobs[match.group(1)])
                return
            self._json(404, {"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error"}})

        def do_GET(self) -> None:
            server.requests.append(FineTuneRequest("GET", self.path, None))
            path = self.path.split("?")[0]
            match = re.fullmatch(r"/v1/fine_tuning/jobs/([\w-]+)(/events)?", path)
            job = server.jobs.get(match.group(1)) if match else None
            if job is None:
                self._json(404, {"error": {"message": f"No job at {self.path}", "type": "invalid_request_error"}})
            elif match and match.group(2):
                events = [
                    {
                        "id": f"ftevent-{i}",
                        "object": "fine_tuning.job.event",
                        "created_at": int(time.time()),
                        "level": "error" if job["status"] == "failed" else "info",
                        "message": message,
                        "type": "message",
                    }
                    for i, message in enumerate(["Validating training file", f"Job {job['status']}"])
                ]
                self._json(200, {"object": "list", "data": events, "has_more": False})
            else:
                server.advance(job)
                self._json(200, job)

    return Handler


def _multipart_file(raw: bytes, content_type: str) -> str:
    """The text of the ``file`` part of a multipart body."""
    boundary = content_type.split("boundary=")[-1].strip('"').encode()
    for part in raw.split(b"--" + boundary):
        if b'name="file"' in part:
            return part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0].decode("utf-8", errors="replace")
    return ""
