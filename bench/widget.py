"""Benchmark: the widget's gzipped size, and time to first token as the shopper sees it in Chromium.

Serves the demo store (synced and indexed on first use, then reused from --data-dir) with the default local model,
opens it in Debian's chromium, and times, per question, from pressing Enter to the first answer text on screen and to
the end of the answer.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/widget.py [--data-dir bench/out/widget] [--questions 6]
The headline figures are printed last, one per line, as ``name: value``.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storebot.app import create_app  # noqa: E402
from storebot.catalog.sync import SyncOptions, sync_feed  # noqa: E402
from storebot.embedded_redis import free_port  # noqa: E402
from storebot.retrieval.indexer import update_index  # noqa: E402

QUESTIONS = [
    "a waterproof jacket under $150",
    "is the first one warm enough for winter?",
    "tents for two people",
    "what do reviewers say about the fit of the Ridge Shell?",
    "what is your return policy?",
    "headlamps under $40",
]
FEEDS = (
    ("products", "products.json", "shopify"),
    ("reviews", "reviews.csv", "csv"),
    ("policies", "policies.json", "json"),
)


def serve_demo(data_dir: Path) -> tuple[str, str, object]:
    port = free_port()
    app = create_app({"DATA_DIR": str(data_dir), "REDIS_URL": ""})
    services = app.extensions["storebot"]
    if not services.stores.exists("demo"):
        services.stores.create("Northwind Trail Co.", store_id="demo")
        for kind, name, fmt in FEEDS:
            with (ROOT / "fixtures" / "demo" / name).open("rb") as feed:
                sync_feed(services.redis, services.keys("demo"), feed, SyncOptions(fmt=fmt, kind=kind))
    update_index(services.redis, services.keys("demo"), services.index_root, services.embedder)
    services.stores.set_origins("demo", [f"http://127.0.0.1:{port}"])
    services.warm_up()  # as `storebot serve` does in each web worker as it starts
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}", services.stores.get("demo").publishable_key, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "widget")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    bundle = (ROOT / "widgets" / "dist" / "storebot.js").read_bytes()
    url, _key, server = serve_demo(args.data_dir)
    first, total = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{url}/shop/demo")
        page.locator("storebot-chat [part='launcher']").click()
        box = page.locator("storebot-chat textarea")
        for i, question in enumerate(QUESTIONS[: args.questions]):
            box.fill(question)
            started = time.perf_counter()
            box.press("Enter")
            answers = page.locator("storebot-chat [data-role='assistant']")
            answers.nth(i).locator("[part='bubble']").filter(has_text="a").first.wait_for(timeout=120_000)
            first.append((time.perf_counter() - started) * 1000)
            page.locator(f"storebot-chat [data-role='assistant'][data-state='done'] >> nth={i}").wait_for(
                timeout=120_000
            )
            total.append((time.perf_counter() - started) * 1000)
            print(f"{question!r}: first text {first[-1]:.0f} ms, done {total[-1]:.0f} ms")
        browser.close()
    server.shutdown()
    print(f"widget_bytes: {len(bundle)}")
    print(f"widget_gzip_bytes: {len(gzip.compress(bundle, 9))}")
    print(f"browser_first_text_p50_ms: {statistics.median(first):.0f}")
    print(f"browser_first_text_max_ms: {max(first):.0f}")
    print(f"browser_answer_done_p50_ms: {statistics.median(total):.0f}")


if __name__ == "__main__":
    main()
