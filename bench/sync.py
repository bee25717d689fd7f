"""Benchmark: sync 10,000 generated products, then re-sync with 1% changed.

It proves the diff: after the re-sync, exactly the changed 1% was rewritten
(the commit's upsert count) and queued for indexing (the ``changes`` hash),
and every unchanged product's stored JSON is byte-identical.

Run: .venv/bin/python bench/sync.py [--products 10000] [--changed 0.01] [--format jsonl|shopify]
The headline figures are printed last, one per line, as ``name: value``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storebot.catalog.sync import SyncOptions, sync_feed  # noqa: E402
from storebot.embedded_redis import EmbeddedRedis  # noqa: E402
from storebot.keys import StoreKeys  # noqa: E402

CATEGORIES = ["Apparel > Jackets", "Apparel > Pants", "Footwear > Boots", "Gear > Tents", "Gear > Packs"]
COLORS = ["Black", "Moss", "Slate", "Rust", "Sand"]
SIZES = ["XS", "S", "M", "L", "XL"]


def generate(n: int, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    products = []
    for i in range(n):
        pid = f"P{i:06d}"
        price = rng.randint(10, 500)
        variants = [
            {"id": f"{pid}-{s}-{c[:2]}", "sku": f"{pid}-{s}-{c[:2]}", "options": {"size": s, "color": c},
             "price": f"{price}.00", "stock": rng.randint(0, 30)}
            for s in rng.sample(SIZES, 3) for c in rng.sample(COLORS, 2)
        ]  # fmt: skip
        products.append({
            "id": pid,
            "title": f"Trail item {i} {rng.choice(['shell', 'parka', 'boot', 'tent', 'pack'])}",
            "description": " ".join(rng.choice(["light", "warm", "waterproof", "durable", "packable", "recycled"])
                                    for _ in range(40)),
            "brand": rng.choice(["Ridgeline", "Alder", "Northfork", "Cairn"]),
            "category": rng.choice(CATEGORIES).split(" > "),
            "tags": rng.sample(["hiking", "camping", "rain", "winter", "travel"], 2),
            "price": f"{price}.00",
            "currency": "USD",
            "attributes": {"weight": f"{rng.randint(100, 2000)} g", "material": rng.choice(["nylon", "merino"])},
            "images": [f"https://cdn.example/{pid}.jpg"],
            "variants": variants,
        })  # fmt: skip
    return products


def write_jsonl(path: Path, products: list[dict[str, object]]) -> None:
    with path.open("w") as out:
        for p in products:
            out.write(json.dumps(p) + "\n")


def timed_sync(client: redis.Redis, keys: StoreKeys, path: Path) -> tuple[float, object]:
    start = time.perf_counter()
    with path.open("rb") as feed:
        result = sync_feed(client, keys, feed, SyncOptions(fmt="jsonl"), job_id="bench")
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.01, help="Fraction changed in the re-sync.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as url:
        client = redis.Redis.from_url(url)
        keys = StoreKeys("bench", "store")
        products = generate(args.products)
        feed = Path(tmp) / "products.jsonl"
        write_jsonl(feed, products)
        size_mb = feed.stat().st_size / 1e6

        first_s, first = timed_sync(client, keys, feed)
        print(f"initial sync: {first.counts.to_dict()} in {first_s:.2f}s ({size_mb:.1f} MB feed)")
        before = client.hgetall(keys("products"))
        client.delete(keys("changes", "products"))  # the indexer drained the first sync's changes

        rng = random.Random(11)
        changed_ids = set(rng.sample([p["id"] for p in products], int(args.products * args.changed)))
        for p in products:
            if p["id"] in changed_ids:
                p["price"] = f"{int(str(p['price']).split('.')[0]) + 1}.00"
        write_jsonl(feed, products)

        resync_s, resync = timed_sync(client, keys, feed)
        print(f"re-sync:      {resync.counts.to_dict()} in {resync_s:.2f}s")
        queued = {k.decode() for k in client.hkeys(keys("changes", "products"))}
        after = client.hgetall(keys("products"))
        untouched_identical = all(after[k] == v for k, v in before.items() if k.decode() not in changed_ids)
        only_changed = queued == changed_ids and resync.changed_ids == len(changed_ids)

        print(f"products: {args.products}")
        print(f"initial_sync_products_per_s: {args.products / first_s:.0f}")
        print(f"resync_products_per_s: {args.products / resync_s:.0f}")
        print(f"resync_changed: {len(changed_ids)}")
        print(f"resync_rewritten: {resync.changed_ids}")
        print(f"resync_queued_for_indexing: {len(queued)}")
        print(f"only_changed_rewritten_and_queued: {only_changed and untouched_identical}")
        if not (only_changed and untouched_identical):
            sys.exit(1)


if __name__ == "__main__":
    main()
