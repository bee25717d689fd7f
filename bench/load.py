"""Benchmark: the API under load: gunicorn with N workers on loopback, a Celery worker, a private Redis.

The demo store is synced and indexed on first use (then reused from --data-dir), twice: store ``demo`` answers
chat with a fast fake model (an OpenAI-compatible double on loopback, tests/fake_openai_server.py), store
``demo-local`` with the bundled local model (its own ``llm_backend=local`` store setting). Client threads use
HTTP/1.1 keep-alive connections and reconnect every ``--requests-per-connection`` searches (20: a shopper's visit)
or every 5 chat turns (one chat session), as many shoppers would, rather than pinning each client to one worker for
the whole run. Each scenario is bounded by a request count and a time limit:

* ``search_warm``: 40 distinct shopper queries, cycled (the query embeddings come from the Redis cache);
* ``search_cold``: a query never seen before on every request (the model embeds each one);
* ``chat_fake``: POST /api/v1/chat with the fake model (a new session every 5 turns);
* ``chat_local``: the same with the local SmolLM2 model.

Per scenario: requests/s, p50 / p99 latency, errors (anything but a 200), and each gunicorn worker's share of
the CPU seconds the workers spent. Which worker accepts a connection is the kernel's choice: with two long-lived
chat connections, both landed on one worker in some runs and the local-model chats ran at half the rate, which
the split shows. The RSS of every gunicorn worker is
sampled every 0.5 s from the end of warm-up to the end of the run: start, end and max of the workers' total.
Rate limits are off for the run (one client IP would hit them); everything else is as deployed.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/load.py [--workers 2] [--threads 8] [--clients 8]
     [--requests-per-connection 20] [--quick]
The headline figures are printed last, one per line, as ``name: value``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402
from storebot.app import create_app  # noqa: E402
from storebot.catalog.sync import SyncOptions, sync_feed  # noqa: E402
from storebot.embedded_redis import free_port  # noqa: E402
from storebot.retrieval.indexer import update_index  # noqa: E402
from tests.fake_openai_server import FakeOpenAIServer  # noqa: E402

FEEDS = (("products", "products.json", "shopify"), ("reviews", "reviews.csv", "csv"),
         ("policies", "policies.json", "json"))  # fmt: skip
QUERIES = [
    "waterproof jacket under $150", "rain jacket in medium", "down jacket", "fleece", "hiking boots",
    "trail runners size 10", "tent for two", "ultralight tent", "sleeping bag for winter", "sleeping pad",
    "headlamp", "headlamp under $40", "water bottle", "insulated bottle", "camp stove", "backpack 40l",
    "daypack", "merino socks", "wool beanie", "gloves", "trekking poles", "rain pants", "softshell",
    "camp chair", "hammock", "cooler", "blue jacket", "red tent", "in stock boots", "womens hiking boots",
    "mens rain jacket", "kids jacket", "lantern", "first aid kit", "water filter", "gaiters", "sun hat",
    "base layer", "puffy vest", "duffel bag",
]  # fmt: skip
CHAT_TURNS = ["a waterproof jacket under $150", "is the first one warm enough for winter?", "tents for two people",
              "what do reviewers say about the fit?", "what is your return policy?"]  # fmt: skip


def prepare(data_dir: Path) -> tuple[Any, dict[str, str]]:
    """Sync and index the demo catalog into stores ``demo`` and ``demo-local``; their publishable keys."""
    app = create_app({"DATA_DIR": str(data_dir), "REDIS_URL": ""})
    services = app.extensions["storebot"]
    keys = {}
    for store_id, settings in (("demo", {}), ("demo-local", {"llm_backend": "local"})):
        if not services.stores.exists(store_id):
            services.stores.create("Northwind Trail Co.", store_id=store_id)
            for kind, name, fmt in FEEDS:
                with (ROOT / "fixtures" / "demo" / name).open("rb") as feed:
                    sync_feed(services.redis, services.keys(store_id), feed, SyncOptions(fmt=fmt, kind=kind))
        store = services.stores.get(store_id)
        store.settings = settings
        services.stores.save(store)
        update_index(services.redis, services.keys(store_id), services.index_root, services.embedder)
        keys[store_id] = store.publishable_key
    return services, keys


@dataclass
class Scenario:
    name: str
    requests: int
    seconds: float
    clients: int
    make: Callable[[int], tuple[str, str, bytes | None]]  # i -> (method, path, body)
    per_connection: int = 0  # requests before a client reconnects (0: never)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def run(self, port: int) -> None:
        counter = iter(range(self.requests))
        lock = threading.Lock()
        deadline = time.monotonic() + self.seconds

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            sent = 0
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                if self.per_connection and sent == self.per_connection:
                    conn.close()
                    conn, sent = http.client.HTTPConnection("127.0.0.1", port, timeout=120), 0
                sent += 1
                method, path, body = self.make(i)
                headers = {"Content-Type": "application/json"} if body else {}
                started = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    status, payload = 0, str(exc).encode()
                took = time.perf_counter() - started
                with lock:
                    self.latencies.append(took)
                    if status != 200:
                        self.errors += 1
                        if len(self.error_samples) < 3:
                            self.error_samples.append(f"{status} {payload[:200]!r}")
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(self.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.elapsed = time.perf_counter() - started

    def figures(self) -> dict[str, float]:
        ms = [x * 1000 for x in self.latencies]
        return {"requests": len(ms), "rps": len(ms) / self.elapsed if self.elapsed else 0.0,
                "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99), "errors": self.errors}  # fmt: skip


class WorkerCpu:
    """Each gunicorn worker's share of the CPU seconds the workers spent between ``start`` and ``shares``."""

    def __init__(self, master_pid: int) -> None:
        self.master = psutil.Process(master_pid)
        self._before: dict[int, float] = {}

    def _now(self) -> dict[int, float]:
        seconds = {}
        for child in self.master.children(recursive=False):
            try:
                times = child.cpu_times()
            except psutil.Error:
                continue
            seconds[child.pid] = times.user + times.system
        return seconds

    def start(self) -> None:
        self._before = self._now()

    def shares(self) -> list[float]:
        spent = [max(0.0, v - self._before.get(pid, 0.0)) for pid, v in sorted(self._now().items())]
        total = sum(spent)
        return [v / total for v in spent] if total else []


class RssSampler:
    """The summed RSS (MB) of the gunicorn master's worker processes, sampled in a thread."""

    def __init__(self, master_pid: int, interval: float = 0.5) -> None:
        self.master = psutil.Process(master_pid)
        self.interval = interval
        self.samples: list[float] = []
        self.per_worker: dict[int, list[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> float:
        total = 0.0
        for child in self.master.children(recursive=False):
            try:
                rss = child.memory_info().rss / 2**20
            except psutil.Error:
                continue
            self.per_worker.setdefault(child.pid, []).append(rss)
            total += rss
        self.samples.append(total)
        return total

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def workers_with_mapped(master_pid: int, suffix: str) -> int:
    """How many of the gunicorn master's workers have a file ending in ``suffix`` memory-mapped."""
    count = 0
    for child in psutil.Process(master_pid).children(recursive=False):
        try:
            count += any(m.path.endswith(suffix) for m in child.memory_maps())
        except psutil.Error:
            continue
    return count


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer on port {port} within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "load")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=8, help="client threads for search")
    parser.add_argument(
        "--requests-per-connection",
        type=int,
        default=20,
        help="requests a client sends on one keep-alive connection before reconnecting (0: never)",
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the requests (a smoke run)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    services, keys = prepare(args.data_dir)
    fake = FakeOpenAIServer(reply="The Ridge Shell is a good pick for rain. It is in stock.").start()
    port = free_port()
    env = {**os.environ, "REDIS_URL": services.redis_url, "STOREBOT_DATA_DIR": str(args.data_dir),
           "STOREBOT_LLM_BACKEND": "openai-compatible", "STOREBOT_LLM_BASE_URL": fake.base_url,
           "STOREBOT_LLM_MODEL": "fake-fast", "STOREBOT_RATE_LIMITS_ENABLED": "false",
           "STOREBOT_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    log = (args.data_dir / "load-server.log").open("wb")
    web = subprocess.Popen([sys.executable, "-m", "storebot", "serve", "--host", "127.0.0.1", "--port", str(port),
                            "--workers", str(args.workers), "--threads", str(args.threads)],
                           env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    worker = subprocess.Popen([sys.executable, "-m", "storebot", "worker", "--pool", "solo"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        wait_ready(port, web)
        demo, local = keys["demo"], keys["demo-local"]

        def search(i: int) -> tuple[str, str, bytes | None]:
            q = QUERIES[i % len(QUERIES)].replace(" ", "+").replace("$", "%24")
            return "GET", f"/api/v1/search?key={demo}&q={q}&limit=10", None

        run_id = uuid.uuid4().hex[:6]

        def cold(i: int) -> tuple[str, str, bytes | None]:
            q = f"{QUERIES[i % len(QUERIES)]} {run_id}{i}".replace(" ", "+").replace("$", "%24")
            return "GET", f"/api/v1/search?key={demo}&q={q}&limit=10", None

        def chat(key: str) -> Callable[[int], tuple[str, str, bytes | None]]:
            def make(i: int) -> tuple[str, str, bytes | None]:
                body = {"message": CHAT_TURNS[i % len(CHAT_TURNS)], "session_id": f"load-{run_id}-{i // 5:05d}"}
                return "POST", f"/api/v1/chat?key={key}", json.dumps(body).encode()

            return make

        # Warm-up: every worker loads the embedding model, the index and (for demo-local) the local model. Which
        # worker takes a new connection is the kernel's choice, so local chats go on until every worker has the
        # model's GGUF file mapped (llama.cpp mmaps it), or RSS would count a late model load as growth.
        for _ in range(args.workers * 4):
            Scenario("warmup", 10, 120, 2, search).run(port)
            Scenario("warmup", 1, 300, 1, chat(demo)).run(port)
        for _ in range(args.workers * 10):
            if workers_with_mapped(web.pid, ".gguf") >= args.workers:
                break
            Scenario("warmup", 1, 300, 1, chat(local)).run(port)
        else:
            print(f"warning: only {workers_with_mapped(web.pid, '.gguf')} of {args.workers} workers loaded the local "
                  "model during warm-up", flush=True)  # fmt: skip
        rss = RssSampler(web.pid)
        rss.start()
        scenarios = [
            Scenario("search_warm", int(3000 * scale), 30, args.clients, search),
            Scenario("search_cold", int(400 * scale), 30, args.clients, cold),
            Scenario("chat_fake", int(300 * scale), 60, 4, chat(demo)),
            Scenario("chat_local", max(int(24 * scale), 4), 120, 2, chat(local)),
            Scenario("search_warm_again", int(3000 * scale), 30, args.clients, search),
        ]
        cpu = WorkerCpu(web.pid)
        for scenario in scenarios:
            # A chat client's connection lasts one shopper's session (5 turns); a search client's a visit.
            scenario.per_connection = 5 if scenario.name.startswith("chat") else args.requests_per_connection
            cpu.start()
            scenario.run(port)
            f = scenario.figures()
            split = " / ".join(f"{share:.0%}" for share in cpu.shares())
            print(f"{scenario.name:<18} {f['requests']:>5} requests in {scenario.elapsed:5.1f} s  "
                  f"{f['rps']:7.1f} req/s  p50 {f['p50_ms']:7.1f} ms  p99 {f['p99_ms']:7.1f} ms  "
                  f"errors {f['errors']}  rss {rss.sample():.0f} MB  worker cpu {split}", flush=True)  # fmt: skip
            for sample in scenario.error_samples:
                print(f"  error: {sample}")
        rss.stop()
    finally:
        for process in (web, worker):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        fake.stop()
        services.close()

    by_name = {s.name: s.figures() for s in scenarios}
    workers = {pid: (v[0], v[-1], max(v)) for pid, v in rss.per_worker.items()}
    for pid, (first, last, peak) in workers.items():
        print(f"gunicorn worker {pid}: rss start {first:.0f} MB, end {last:.0f} MB, max {peak:.0f} MB")
    print()
    print(f"gunicorn_workers: {args.workers}")
    for name, f in by_name.items():
        print(f"{name}_rps: {f['rps']:.1f}")
        print(f"{name}_p50_ms: {f['p50_ms']:.1f}")
        print(f"{name}_p99_ms: {f['p99_ms']:.1f}")
        print(f"{name}_errors: {f['errors']}")
    print(f"errors_total: {sum(f['errors'] for f in by_name.values())}")
    print(f"rss_workers_start_mb: {rss.samples[0]:.0f}")
    print(f"rss_workers_end_mb: {rss.samples[-1]:.0f}")
    print(f"rss_workers_max_mb: {max(rss.samples):.0f}")
    print(f"rss_growth_mb: {rss.samples[-1] - rss.samples[0]:.0f}")
    print(f"rss_samples: {len(rss.samples)} (median {statistics.median(rss.samples):.0f} MB)")


if __name__ == "__main__":
    main()
