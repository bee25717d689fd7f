"""`storebot demo`: the demo store, the web server and a worker, in one command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import click

from storebot.catalog.ingest import SNIFF_BYTES, resolve_format, run_sync
from storebot.catalog.sync import SyncOptions
from storebot.cli import Context, cli, pass_context
from storebot.cli.search import run_index_update
from storebot.errors import StorebotError

DEMO_STORE = "demo"
DEMO_FEEDS = (("products", "products.json"), ("reviews", "reviews.csv"), ("policies", "policies.json"))
DEFAULT_FIXTURES = Path("fixtures/demo")
# The demo store has no shopper events yet: "goes with" starts from the map a merchant would write for it
# (RECS_COMPLEMENTARY_MAP; set your own to replace it).
DEMO_COMPLEMENTARY_MAP = (
    "Hiking Boots=Socks|Hiking Pants|Rain Jackets; Trail Runners=Socks|Shorts|Headlamps|Water Bottles; "
    "Tents=Sleeping Bags|Sleeping Pads|Headlamps|Camp Kitchen; Sleeping Bags=Sleeping Pads|Tents|Headlamps; "
    "Sleeping Pads=Sleeping Bags|Tents; Backpacks=Water Bottles|Headlamps|Camp Kitchen; "
    "Daypacks=Water Bottles|Headlamps|Rain Jackets; Rain Jackets=Fleece & Midlayers|Hiking Pants|Hats & Gloves; "
    "Insulated Jackets=Hats & Gloves|Base Layers|Fleece & Midlayers; Sandals=Shorts|Water Bottles; "
    "Camp Kitchen=Headlamps|Water Bottles"
)


def _demo_store(ctx: Context, port: int) -> dict[str, Any]:
    """Create the demo store once; its keys are kept in DATA_DIR (mode 0600) for later runs."""
    keyfile = ctx.services.data_dir / "demo-store.json"
    stores = ctx.services.stores
    if stores.exists(DEMO_STORE) and keyfile.exists():
        return json.loads(keyfile.read_text())  # type: ignore[no-any-return]
    if stores.exists(DEMO_STORE):
        secret = stores.rotate_secret(DEMO_STORE)
        store = stores.get(DEMO_STORE)
    else:
        origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
        store, secret = stores.create("Northwind Trail Co.", origins, store_id=DEMO_STORE)
    keys = {"store": store.id, "publishable_key": store.publishable_key, "secret_key": secret}
    keyfile.parent.mkdir(parents=True, exist_ok=True)
    keyfile.write_text(json.dumps(keys, indent=2))
    keyfile.chmod(0o600)
    return keys


def _load_fixtures(ctx: Context, fixtures: Path) -> None:
    services = ctx.services
    for kind, name in DEMO_FEEDS:
        path = fixtures / name
        if not path.exists():
            raise StorebotError(f"Demo feed {path} is missing.", fix="Run `storebot demo` from the repository root.")
        with path.open("rb") as handle:
            fmt = resolve_format("auto", name, handle.read(SNIFF_BYTES), kind)
        options = SyncOptions(fmt=fmt, kind=kind, full=True, base_url="")
        jobs = services.jobs(DEMO_STORE)
        job_id = jobs.create(kind=kind, fmt=fmt, filename=name, options={"full": True, "source": "demo"})
        jobs.start(job_id)
        with path.open("rb") as handle:
            counts = run_sync(services.redis, services.keys(DEMO_STORE), jobs, job_id, handle, options)
        click.echo(f"  {kind:<9} {counts.received:>5} read, {counts.added} added, {counts.updated} updated, "
                   f"{counts.unchanged} unchanged, {counts.failed} failed")  # fmt: skip


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StorebotError("The web server exited during startup.", fix="Its log is above.")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise StorebotError(f"The web server did not answer {url} within {timeout:.0f}s.")


def _queue_review_analysis(ctx: Context) -> None:
    """Let the worker analyse the demo reviews (a no-op when they and the analysis are unchanged).

    The demo loads its feeds in this process rather than through the sync task, so nothing else queues it.
    """
    from storebot.cli.run import _celery

    _celery(ctx).send_task("storebot.analyze_reviews", args=[DEMO_STORE])
    click.echo("Review analysis queued for the worker (sentiment, aspects and summaries: a few minutes the first "
               "time, then only when the reviews change).")  # fmt: skip


@cli.command()
@click.option("--port", type=int, default=None, help="Web port [STOREBOT_PORT].")
@click.option("--fixtures", type=click.Path(path_type=Path), default=DEFAULT_FIXTURES, show_default=True)
@click.option("--no-worker", is_flag=True, help="Do not start a Celery worker.")
@pass_context
def demo(ctx: Context, port: int | None, fixtures: Path, no_worker: bool) -> None:
    """Load the demo store and run the web server and a worker until Ctrl-C."""
    port = port or int(ctx.settings["PORT"])
    redis_url = ctx.export_redis_url()
    click.echo(f"Redis: {redis_url}" + (" (embedded)" if ctx.services.embedded_redis else ""))
    keys = _demo_store(ctx, port)
    click.echo("Loading the demo catalog:")
    _load_fixtures(ctx, fixtures)
    click.echo("Indexing (the first run embeds every product; later runs reuse cached vectors):")
    run_index_update(ctx, DEMO_STORE, rebuild=False)

    env = {**os.environ, "REDIS_URL": redis_url}
    if fixtures == DEFAULT_FIXTURES and not env.get("STOREBOT_RECS_COMPLEMENTARY_MAP"):
        env["STOREBOT_RECS_COMPLEMENTARY_MAP"] = DEMO_COMPLEMENTARY_MAP  # what a merchant would write for this store
    base = [sys.executable, "-m", "storebot"]
    children = []
    if not no_worker:
        children.append(subprocess.Popen([*base, "worker", "--loglevel=warning"], env=env, start_new_session=True))
    web = subprocess.Popen([*base, "serve", "--port", str(port)], env=env, start_new_session=True)
    children.append(web)
    if not no_worker and ctx.settings["ANALYZE_AFTER_SYNC"]:
        _queue_review_analysis(ctx)

    def shutdown(*_args: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        ctx.services.close()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        host = "127.0.0.1"
        _wait_for(f"http://{host}:{port}/healthz", web)
        click.secho(f"\nstorebot demo is running: http://{host}:{port}/shop/{DEMO_STORE}", fg="green", bold=True)
        click.echo(f"  publishable key: {keys['publishable_key']}")
        click.echo(f"  secret key:      {keys['secret_key']}  (also in {ctx.services.data_dir}/demo-store.json)")
        click.echo(f"  dashboard:       http://{host}:{port}/dashboard  (sign in with the secret key)")
        click.echo(f"  try: curl -H 'Authorization: Bearer {keys['secret_key']}' "
                   f"http://{host}:{port}/api/v1/products?limit=2")  # fmt: skip
        click.echo("Press Ctrl-C to stop.")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        click.secho("A demo process exited; stopping.", fg="red", err=True)
    except KeyboardInterrupt:
        click.echo("\nStopping...")
    finally:
        shutdown()
