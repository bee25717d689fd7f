"""The served app's access log (`storebot serve`: real gunicorn in a subprocess) never prints query strings,
keys or the Authorization header: gunicorn's own access log is off and storebot's logs the path only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from storebot.services import Services
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_key_in_the_query_string_never_reaches_the_served_log(
    log_format: str, app_config: dict[str, object], services: Services, store: tuple[str, str], tmp_path: Path
) -> None:
    publishable = services.stores.get(store[0]).publishable_key
    secret = store[1]
    port = free_port()
    env = {**os.environ, "REDIS_URL": str(app_config["REDIS_URL"]), "HF_HUB_OFFLINE": "1",
           "STOREBOT_KEY_PREFIX": str(app_config["KEY_PREFIX"]), "STOREBOT_DATA_DIR": str(tmp_path / "data"),
           "STOREBOT_LOG_FORMAT": log_format, "STOREBOT_RATE_LIMITS_ENABLED": "0"}  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "storebot", "serve", "--port", str(port), "--threads", "2"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(f"{base}/healthz") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, f"serve did not start:\n{log.read_text()}"
            time.sleep(0.3)
        headers = {"Authorization": f"Bearer {secret}", "Referer": f"https://acme.example/shop?key={publishable}"}
        assert get(f"{base}/healthz?key={publishable}&token={secret}", headers) == 200
        # A real store's key from a foreign origin: refused (403) before any model loads, but logged.
        refused = get(f"{base}/api/v1/search?q=tent&key={publishable}", {**headers, "Origin": "https://evil.example"})
        assert refused == 403
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    text = log.read_text()
    assert "pk_" not in text and "sk_" not in text and publishable not in text and secret not in text, text
    assert "Bearer" not in text and "key=" not in text and "q=tent" not in text and "acme.example/shop" not in text
    if log_format == "json":
        access = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        access = [line for line in access if line.get("logger") == "storebot.access"]
        seen = {(line["path"], line["status"]) for line in access}
        assert {("/healthz", 200), ("/api/v1/search", 403)} <= seen, text
    else:
        assert "storebot.access: GET /api/v1/search 403" in text, text
