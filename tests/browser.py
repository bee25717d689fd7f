"""What the browser tests share: Debian's Chromium driven by Playwright, and a live app on a loopback port."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own browser download is not reachable here


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Playwright's ``Browser``), closed on exit."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does this as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


def storefront_app(redis_url: str, data_dir: str, port: int) -> tuple[Flask, Any, Any]:
    """An app on its own key prefix and Celery queue, with a store "northwind" whose widget may run on ``port``.

    Returns (app, services, store); serve it with :func:`serving` and ``app.config["KEY_PREFIX"]``.
    """
    from storebot.app import create_app

    prefix = f"w{uuid.uuid4().hex[:8]}"
    app = create_app({"REDIS_URL": redis_url, "KEY_PREFIX": prefix, "TESTING": True, "DATA_DIR": data_dir,
                      "CELERY": {"task_default_queue": prefix}})  # fmt: skip
    services = app.extensions["storebot"]
    store, _secret = services.stores.create("Northwind Test", [f"http://127.0.0.1:{port}"], store_id="northwind")
    return app, services, store


@contextmanager
def serving(app: Flask, port: int, *, redis_url: str, key_prefix: str) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1:``port`` in a thread; on exit stop it and delete the keys under ``key_prefix``."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{key_prefix}:*"):
            client.delete(key)
