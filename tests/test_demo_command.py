"""`storebot demo`, what `make demo` runs: a private Redis, the demo store, the web server and a worker.

Run as a user would, in a subprocess with its own DATA_DIR (so its own embedded Redis and index), and stopped
with SIGTERM as Ctrl-C / `docker stop` would. The worker it starts analyses the demo reviews, so the review
summaries the chat and the dashboard show exist without any other step.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storebot.embedded_redis import free_port

ROOT = Path(__file__).resolve().parent.parent


def _request(url: str, *, data: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=120) as response:
        raw = response.read().decode()
        return json.loads(raw) if response.headers.get_content_type() == "application/json" else raw


class DemoProcess:
    """`storebot demo` in a subprocess, its output collected line by line."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = {**os.environ, "STOREBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "STOREBOT_LOG_FORMAT": "text"}
        env.pop("REDIS_URL", None)  # the demo's own embedded Redis, as on a fresh machine
        env.pop("STOREBOT_REDIS_URL", None)
        self.port = port
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "storebot", "demo", "--port", str(port)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if found := re.search(pattern, line):
                    return found
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        pytest.fail(f"`storebot demo` never printed {pattern!r}; its output:\n" + "\n".join(self.lines[-60:]))

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    process = DemoProcess(tmp_path_factory.mktemp("demo-data"), free_port())
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a cold start: indexes 180 products and 1,165 reviews, then analyses the reviews
def test_make_demo_serves_the_store_the_chat_and_the_analysed_reviews(demo: DemoProcess) -> None:
    demo.wait_for(r"storebot demo is running: http://127\.0\.0\.1:\d+/shop/demo", timeout=600)
    publishable = demo.wait_for(r"publishable key: (pk_\S+)", 5)[1]
    secret = demo.wait_for(r"secret key:\s+(sk_\S+)", 5)[1]
    demo.wait_for(r"Review analysis queued for the worker", 5)
    # The web worker loads the embedding model as it starts, not when the first shopper asks something.
    demo.wait_for(r"web worker \d+: embedding model ready in [\d.]+ s", 120)
    base = f"http://127.0.0.1:{demo.port}"

    page = _request(f"{base}/shop/demo")
    assert "Northwind Trail Co." in page and "<script" in page and publishable in page

    shopper = {"X-Storebot-Key": publishable, "Origin": base}
    answer = _request(f"{base}/api/v1/chat", data={"message": "a waterproof rain jacket under $200"}, headers=shopper)
    assert answer["cards"] and all(float(c["sale_price"] or c["price"]) <= 200 for c in answer["cards"])

    merchant = {"Authorization": f"Bearer {secret}"}
    deadline, summary = time.monotonic() + 900, {}
    while time.monotonic() < deadline:  # the worker the demo started analyses the reviews
        summary = _request(f"{base}/api/v1/products/1001/reviews/summary", headers=merchant)
        if summary["state"] == "analyzed":
            break
        time.sleep(5)
    assert summary["state"] == "analyzed", summary
    assert summary["model"] == "classifier" and summary["analyzed_count"] == summary["review_count"] > 0
    assert summary["pros"] and all(p["review_ids"] for p in summary["pros"])

    assert demo.stop() == 0  # SIGTERM stops the web server, the worker and the embedded Redis cleanly
    assert not any("Traceback" in line for line in demo.lines), "\n".join(demo.lines[-60:])
