"""Benchmark: compute every recommendation for a 10,000-product catalog, then serve them from the cache.

The catalog is generated from the demo store's 180 products (fixtures/demo): each is copied into ~56
siblings with their own title, colourway, price and description sentence, keeping the real categories and
tags (the complementary fallback learns from those). The events are synthetic: sessions view a product,
often a second one from a category that goes with it (boots with socks, tents with sleeping pads...), and
a share of them buy, with an order id.

Measured: syncing and indexing the catalog (the product vectors come from an on-disk embedding cache,
``.storebot/bench-cache/recs-embeddings.sqlite``, so reruns skip the model), recording the events through
``EventStore``, the time to compute similar + complementary recommendations for every product
(``Recommender.refresh``, what the Celery task runs), and the API's latency serving them from the Redis
cache through the real Flask app (its test client: no network, one process), p50 and p99.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/recs.py [--limit 10000] [--sessions 20000] [--requests 2000]
The headline figures are printed last, one per line, as ``name: value``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SqliteEmbeddingCache  # noqa: E402
from storebot.app import create_app  # noqa: E402
from storebot.catalog.feeds import parse_feed  # noqa: E402
from storebot.catalog.models import Product  # noqa: E402
from storebot.catalog.sync import SyncOptions, sync_feed  # noqa: E402
from storebot.config import SETTINGS_BY_NAME  # noqa: E402
from storebot.embedded_redis import EmbeddedRedis  # noqa: E402
from storebot.retrieval.documents import PRODUCT_VECTOR_FIELDS  # noqa: E402
from storebot.retrieval.indexer import update_index  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".storebot" / "bench-cache" / "recs-embeddings.sqlite"
COLOURWAYS = ["Slate", "Moss", "Rust", "Sand", "Glacier", "Ember", "Pine", "Dusk", "Stone", "Tide", "Fern", "Ash",
              "Cobalt", "Sierra"]  # fmt: skip
EDITIONS = ["", "Pro", "Lite", "Trail", "Alpine"]
PAIRS = {  # what shoppers in the synthetic sessions add to what they viewed (leaf category -> leaf categories)
    "hiking boots": ["socks", "hiking pants", "daypacks"], "trail runners": ["socks", "shorts", "water bottles"],
    "rain jackets": ["hiking pants", "hats & gloves", "daypacks"], "tents": ["sleeping pads", "sleeping bags"],
    "sleeping bags": ["sleeping pads", "tents"], "backpacks": ["water bottles", "headlamps", "camp kitchen"],
    "insulated jackets": ["hats & gloves", "base layers"], "base layers": ["socks", "fleece & midlayers"],
}  # fmt: skip


def demo_products() -> list[Product]:
    with open(ROOT / "fixtures" / "demo" / "products.json", "rb") as feed:
        return [row.record for row in parse_feed(feed, "shopify") if row.record is not None]


def generate(n: int, seed: int = 11) -> list[Product]:
    """``n`` products: siblings of the demo's, each with its own name, price and a sentence of its own."""
    rng = random.Random(seed)
    base = demo_products()
    out = []
    for i in range(n):
        src = base[i % len(base)]
        copy = Product.from_dict(src.to_dict())
        colour, edition = COLOURWAYS[(i // len(base)) % len(COLOURWAYS)], EDITIONS[(i // 7) % len(EDITIONS)]
        copy.id = f"g{i:05d}"
        copy.title = " ".join(part for part in (src.title, edition, f"({colour})") if part)
        factor = Decimal(str(round(rng.uniform(0.7, 1.4), 2)))
        copy.price = (src.price * factor).quantize(Decimal("0.01")) if src.price is not None else None
        copy.sale_price = None
        copy.description = f"The {colour.lower()} {edition.lower() or 'standard'} edition, batch {i}. {src.description}"
        copy.url = f"/products/{copy.id}"
        for j, variant in enumerate(copy.variants):
            variant.id = f"{copy.id}-v{j}"
            variant.price = copy.price
            variant.sale_price = None
        if rng.random() < 0.05:  # some sold out
            copy.availability, copy.stock = "out_of_stock", 0
            for variant in copy.variants:
                variant.availability, variant.stock = "out_of_stock", 0
        out.append(copy)
    return out


def synthetic_events(products: list[Product], sessions: int, seed: int = 5) -> list[dict[str, object]]:
    rng = random.Random(seed)
    by_leaf: dict[str, list[Product]] = {}
    for p in products:
        by_leaf.setdefault(p.category[-1].lower(), []).append(p)
    # A long tail: the first products of each category are far more popular.
    events: list[dict[str, object]] = []
    for s in range(sessions):
        sid = f"bench-sess-{s:06d}"
        first = rng.choice(products[: max(len(products) // 3, 1)] if rng.random() < 0.7 else products)
        basket = [first]
        for leaf in PAIRS.get(first.category[-1].lower(), []):
            if rng.random() < 0.5 and by_leaf.get(leaf):
                pool = by_leaf[leaf]
                basket.append(pool[min(int(rng.expovariate(1 / 8)), len(pool) - 1)])
        if rng.random() < 0.3:
            basket.append(rng.choice(products))  # noise
        for p in basket:
            events.append({"type": "view", "product_id": p.id, "session_id": sid})
        if rng.random() < 0.25:
            for p in basket[:2]:
                events.append({"type": "add_to_cart", "product_id": p.id, "session_id": sid})
                events.append({"type": "purchase", "product_id": p.id, "session_id": sid, "order_id": f"o{s:06d}"})
    return events


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=10_000, help="products in the generated catalog")
    parser.add_argument("--sessions", type=int, default=20_000, help="synthetic shopper sessions")
    parser.add_argument("--requests", type=int, default=2_000, help="API requests timed")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as url:
        config: dict[str, object] = {"REDIS_URL": url, "DATA_DIR": tmp, "LOG_LEVEL": "WARNING", "TESTING": True}
        if "RATE_LIMITS_ENABLED" in SETTINGS_BY_NAME:
            config["RATE_LIMITS_ENABLED"] = False  # the bench measures serving, not the limiter
        app = create_app(config)
        services = app.extensions["storebot"]
        from storebot.retrieval.embeddings import SentenceTransformerEmbeddings

        CACHE.parent.mkdir(parents=True, exist_ok=True)
        services.__dict__["embedder"] = SentenceTransformerEmbeddings(cache=SqliteEmbeddingCache(CACHE))
        store, _secret = services.stores.create("Bench", ["https://bench.example"], store_id="bench")
        keys = services.keys(store.id)

        products = generate(args.limit)
        started = time.perf_counter()
        # Warm the on-disk cache in chunks, so an interrupted first run keeps what it embedded.
        for compose in PRODUCT_VECTOR_FIELDS.values():
            texts = [compose(p) for p in products]
            for start in range(0, len(texts), 500):
                services.embedder.encode(texts[start : start + 500])
        embed_s = time.perf_counter() - started
        started = time.perf_counter()
        feed = io.BytesIO("".join(json.dumps(p.to_dict()) + "\n" for p in products).encode())
        sync_feed(services.redis, keys, feed, SyncOptions(fmt="jsonl", kind="products"))
        sync_s = time.perf_counter() - started
        started = time.perf_counter()
        update_index(services.redis, keys, services.index_root, services.embedder)
        index_s = time.perf_counter() - started
        print(f"catalog: {len(products)} generated products embedded in {embed_s:.1f}s ({services.embedder.encoded} "
              f"texts through the model, the rest from {CACHE.name}), synced in {sync_s:.1f}s, indexed in "
              f"{index_s:.1f}s")  # fmt: skip

        events = synthetic_events(products, args.sessions)
        recorder = services.events(store.id)
        started = time.perf_counter()
        for start in range(0, len(events), 100):
            recorder.record_batch(events[start : start + 100])
        events_s = time.perf_counter() - started
        print(f"events: {len(events)} from {args.sessions} sessions recorded in {events_s:.1f}s "
              f"({len(events) / events_s:.0f}/s, batches of 100); stream holds {recorder.count()}")  # fmt: skip

        recommender = services.recommender(store.id)
        summary = recommender.refresh()
        print(f"refresh: {json.dumps(summary)}")

        client = app.test_client()
        rng = random.Random(3)
        pk = {"key": store.publishable_key}
        ids = [p.id for p in products]
        timings: dict[str, list[float]] = {"similar": [], "complementary": []}
        client.get(f"/api/v1/products/{ids[0]}/recommendations", query_string=pk)  # first request: app warm-up
        for _ in range(args.requests):
            kind = rng.choice(("similar", "complementary"))
            pid = rng.choice(ids)
            t = time.perf_counter()
            response = client.get(f"/api/v1/products/{pid}/recommendations", query_string={**pk, "kind": kind})
            timings[kind].append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)
        session_ms = []
        for _ in range(200):
            sid = f"bench-sess-{rng.randrange(args.sessions):06d}"
            t = time.perf_counter()
            response = client.get("/api/v1/recommendations", query_string={**pk, "kind": "personal", "session": sid})
            session_ms.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        trending_ms = []
        for _ in range(200):
            t = time.perf_counter()
            client.get("/api/v1/recommendations", query_string={**pk, "kind": "trending"})
            trending_ms.append((time.perf_counter() - t) * 1000)
        both = timings["similar"] + timings["complementary"]
        for kind, values in timings.items():
            print(f"api {kind}: p50 {statistics.median(values):.2f} ms, p99 {percentile(values, 0.99):.2f} ms "
                  f"({len(values)} requests)")  # fmt: skip
        print(f"api personal: p50 {statistics.median(session_ms):.2f} ms, p99 {percentile(session_ms, 0.99):.2f} ms")
        print(f"api trending: p50 {statistics.median(trending_ms):.2f} ms, p99 {percentile(trending_ms, 0.99):.2f} ms")

        print(f"recs_products: {len(products)}")
        print(f"recs_compute_all_s: {summary['seconds']:.1f}")
        print(f"recs_similar_s: {summary.get('similar_s', 0):.1f}")
        print(f"recs_complementary_s: {summary['complementary_s']:.1f}")
        print(f"recs_complementary_from_events: {summary['complementary_from_events']}")
        print(f"recs_api_p50_ms: {statistics.median(both):.2f}")
        print(f"recs_api_p99_ms: {percentile(both, 0.99):.2f}")
        print(f"recs_personal_p50_ms: {statistics.median(session_ms):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
