"""`storebot tune ...`: the merchant's style fine-tuning commands (examples, dataset, runs, models)."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from storebot.cli import Context, cli, pass_context
from storebot.tuning.pipeline import (
    dataset_for,
    models_for,
    queue_for,
    run_tuning,
    runs_for,
    start_run,
    token_limit,
)

STORE = click.option("--store", "store_id", required=True, help="Store id (see `storebot store list`).")


@cli.group()
def tune() -> None:
    """Teach the assistant your store's voice: curate examples, fine-tune, promote or roll back.

    \b
    storebot tune import style.jsonl --store S   your own examples (approved)
    storebot tune examples --store S              thumbs-up answers waiting for review
    storebot tune approve ID --store S            (or reject ID)
    storebot tune dataset --store S               sizes, tokens, cost estimate
    storebot tune run --store S                   fine-tune, evaluate, promote if better
    storebot tune models --store S                versions; promote VERSION; rollback
    """


@tune.command("examples")
@STORE
@click.option("--status", type=click.Choice(("pending", "approved", "rejected")), default="pending", show_default=True)
@click.option("--limit", default=20, show_default=True)
@pass_context
def examples(ctx: Context, store_id: str, status: str, limit: int) -> None:
    """List training examples (thumbs-up answers join as pending)."""
    ctx.services.stores.get(store_id)
    queue = queue_for(ctx.services, store_id)
    queue.sync_feedback()
    page = queue.page(status, limit=limit)
    for item in page.items:
        question = next((m["content"] for m in reversed(item["messages"]) if m["role"] == "user"), "")
        answer = item["messages"][-1]["content"]
        click.echo(f"{item['id']}  {item['source']:<8} Q: {question[:60]}\n{'':18}   A: {answer[:100]}")
    counts = queue.counts()
    click.echo(f"{counts['pending']} pending, {counts['approved']} approved, {counts['rejected']} rejected.")


@tune.command()
@click.argument("example_ids", nargs=-1, required=True)
@STORE
@pass_context
def approve(ctx: Context, example_ids: tuple[str, ...], store_id: str) -> None:
    """Approve examples for training."""
    queue = queue_for(ctx.services, store_id)
    for example_id in example_ids:
        queue.approve(example_id)
    click.echo(f"Approved {len(example_ids)} example(s).")


@tune.command()
@click.argument("example_ids", nargs=-1, required=True)
@STORE
@pass_context
def reject(ctx: Context, example_ids: tuple[str, ...], store_id: str) -> None:
    """Reject examples."""
    queue = queue_for(ctx.services, store_id)
    for example_id in example_ids:
        queue.reject(example_id)
    click.echo(f"Rejected {len(example_ids)} example(s).")


@tune.command("import")
@click.argument("jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@STORE
@pass_context
def import_examples(ctx: Context, jsonl: Path, store_id: str) -> None:
    """Import style examples: JSONL of {"messages": [...]} or {"question", "answer"} lines (scrubbed, approved)."""
    services = ctx.services
    services.stores.get(store_id)
    limit = token_limit(services.settings, str(services.settings["TUNING_BACKEND"]))
    result = queue_for(services, store_id).import_jsonl(jsonl.read_bytes(), limit=limit)
    click.echo(f"Imported {result['added']} example(s); {result['duplicates']} duplicate(s) skipped.")
    for error in result["errors"][:20]:
        click.secho(f"  line {error['line']}: {error['reason']}", fg="yellow")
    if result["errors"]:
        click.echo(f"{len(result['errors'])} line(s) were skipped.")


@tune.command()
@STORE
@click.option("--backend", type=click.Choice(("local", "openai")), default=None, help="Default: TUNING_BACKEND.")
@click.option(
    "--jsonl",
    "split",
    type=click.Choice(("train", "validation", "test")),
    default=None,
    help="Print that split as OpenAI fine-tuning JSONL instead of the summary.",
)
@pass_context
def dataset(ctx: Context, store_id: str, backend: str | None, split: str | None) -> None:
    """The training set: split sizes, token totals and the estimated cost per epoch."""
    ctx.services.stores.get(store_id)
    queue_for(ctx.services, store_id).sync_feedback()
    built = dataset_for(ctx.services, store_id, backend or "")
    if split:
        click.echo(built.jsonl(split), nl=False)
        return
    click.echo(json.dumps(built.summary(), indent=2))


@tune.command()
@STORE
@click.option("--backend", type=click.Choice(("local", "openai")), default=None, help="Default: TUNING_BACKEND.")
@click.option("--queue", "queued", is_flag=True, help="Queue it for a worker instead of running it here.")
@pass_context
def run(ctx: Context, store_id: str, backend: str | None, queued: bool) -> None:
    """Fine-tune now: train, evaluate against the current model, and promote it if the gate passes."""
    services = ctx.services
    run_id = start_run(services, store_id, trigger="manual", backend=backend or "")
    if queued:
        from storebot.cli.run import _celery

        _celery(ctx).send_task("storebot.tuning_run", args=[store_id, run_id])
        click.echo(f"Queued run {run_id}; follow it with `storebot tune runs --store {store_id}`.")
        return
    runs = runs_for(services, store_id)
    bar = tqdm(total=100, desc="fine-tune", file=sys.stderr, bar_format="{l_bar}{bar}| {postfix}")
    done = threading.Event()

    def watch() -> None:
        while not done.wait(1.0):
            current: dict[str, Any] = runs.get(run_id)
            bar.n = int(current["progress"] * 100)
            bar.set_postfix_str(current["stage"])

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = run_tuning(services, store_id, run_id)
    finally:
        done.set()
        watcher.join()
        bar.close()
    _show_run(result)
    if result["state"] != "succeeded":
        sys.exit(1)


def _show_run(run: dict[str, Any]) -> None:
    ok = run["state"] == "succeeded"
    click.secho(f"Run {run['id']}: {run['state']}", fg="green" if ok else "red")
    if run["message"]:
        click.echo(f"  {run['message']}")
    error = run.get("error") or {}
    for detail in (error.get("details") or [])[:20] if isinstance(error.get("details"), list) else []:
        click.echo(f"  example {detail.get('example')}: {detail.get('reason')}")
    if error.get("fix"):
        click.echo(f"  {error['fix']}")


@tune.command()
@STORE
@click.option("--limit", default=10, show_default=True)
@pass_context
def runs(ctx: Context, store_id: str, limit: int) -> None:
    """Recent fine-tuning runs, with their state, progress and outcome."""
    for item in runs_for(ctx.services, store_id).recent(limit):
        click.echo(
            f"{item['id']}  {item['state']:<9} {item['trigger']:<8} {item['backend']:<6} "
            f"{int(item['progress'] * 100):>3}%  {item['version'] or '-':<4} {item['message'][:90]}"
        )


@tune.command()
@STORE
@pass_context
def models(ctx: Context, store_id: str) -> None:
    """The store's fine-tuned model versions; the active one is marked *."""
    listing = models_for(ctx.services, store_id).listing()
    for item in listing["items"]:
        mark = "*" if item["version"] == listing["active"] else " "
        served = item.get("adapter") or item["model"]
        quality = (item["metrics"].get("gate") or {}).get("quality", "-")
        click.echo(f"{mark} {item['version']:<4} {item['status']:<9} {item['backend']:<6} quality={quality}  {served}")
    if listing["active"] is None:
        click.echo("No fine-tuned model is active: the chat uses the base model.")


@tune.command()
@click.argument("version")
@STORE
@pass_context
def promote(ctx: Context, version: str, store_id: str) -> None:
    """Make VERSION the store's active model (the chat uses it at once)."""
    record = models_for(ctx.services, store_id).promote(version)
    click.echo(f"{record['version']} is now active.")


@tune.command()
@STORE
@pass_context
def rollback(ctx: Context, store_id: str) -> None:
    """Go back to the previously active model (or the base model)."""
    result = models_for(ctx.services, store_id).rollback()
    click.echo(f"Rolled back from {result['retired']}; active: {result['active'] or 'the base model'}.")
