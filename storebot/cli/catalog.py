"""`storebot sync`, `storebot delete`, `storebot jobs`: the merchant's catalog commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from storebot.catalog.feeds import FORMATS, KINDS
from storebot.catalog.ingest import SNIFF_BYTES, resolve_format, run_sync
from storebot.catalog.jobs import SyncCounts
from storebot.catalog.sync import SyncOptions, delete_records
from storebot.cli import Context, cli, pass_context
from storebot.errors import StorebotError

SHOWN_ERRORS = 20


def _parse_map(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field or not column:
            raise StorebotError(f"--map {pair!r} is not FIELD=COLUMN.", fix='Write e.g. --map title="Product Name".')
        mapping[field.strip()] = column.strip()
    return mapping


@cli.command()
@click.argument("feed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", "store_id", required=True, help="Store id (see `storebot store list`).")
@click.option("--kind", type=click.Choice(KINDS), default="products", show_default=True)
@click.option("--format", "fmt", type=click.Choice(("auto", *FORMATS)), default="auto", show_default=True)
@click.option("--full", is_flag=True, help="Also delete stored records that are missing from the feed.")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN", help="CSV column mapping (repeatable).")
@click.option("--currency", default="USD", show_default=True, help="Currency when the feed names none.")
@click.option("--base-url", default="", help="Storefront URL for product links (Shopify feeds).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--no-index", is_flag=True, help="Do not update the search index afterwards.")
@pass_context
def sync(ctx: Context, feed: Path, store_id: str, kind: str, fmt: str, full: bool, mapping: tuple[str, ...],
         currency: str, base_url: str, quiet: bool, no_index: bool) -> None:  # fmt: skip
    """Sync a feed file into a store's catalog, with a progress bar.

    \b
    Formats: CSV/TSV (with --map), storebot JSON/JSONL, Shopify products.json,
    Google Merchant XML and TSV; reviews as CSV/JSON; policies as JSON.
    Unchanged records are skipped; bad rows are reported and the rest kept.
    """
    services = ctx.services
    services.stores.get(store_id)
    with feed.open("rb") as handle:
        resolved = resolve_format(fmt, feed.name, handle.read(SNIFF_BYTES), kind)
    options = SyncOptions(fmt=resolved, kind=kind, full=full, mapping=_parse_map(mapping),
                          default_currency=currency.upper(), base_url=base_url,
                          batch_size=int(ctx.settings["SYNC_BATCH_SIZE"]))  # fmt: skip
    jobs = services.jobs(store_id)
    job_id = jobs.create(kind=kind, fmt=resolved, filename=feed.name,
                         options={"full": full, "source": "cli"})  # fmt: skip
    jobs.start(job_id)
    bar = tqdm(total=feed.stat().st_size, unit="B", unit_scale=True, desc=f"{kind} ({resolved})",
               disable=quiet or None, file=sys.stderr)  # fmt: skip

    def on_progress(counts: SyncCounts, bytes_read: int) -> None:
        bar.update(bytes_read - bar.n)
        bar.set_postfix(added=counts.added, updated=counts.updated, unchanged=counts.unchanged,
                        failed=counts.failed, refresh=False)  # fmt: skip

    with feed.open("rb") as handle:
        run_sync(services.redis, services.keys(store_id), jobs, job_id, handle, options, on_progress)
    bar.close()
    job = jobs.get(job_id)
    _report(job)
    changed = sum(job["counts"][k] for k in ("added", "updated", "deleted"))
    if changed and not no_index:
        from storebot.cli.search import run_index_update

        run_index_update(ctx, store_id, rebuild=False)


def _report(job: dict) -> None:  # type: ignore[type-arg]
    counts = job["counts"]
    ok = job["state"] == "succeeded"
    click.secho(("Synced: " if ok else "Sync failed: ") + job["message"], fg="green" if ok else "red")
    if ok and counts["failed"]:
        click.echo(f"{counts['failed']} rows were skipped:")
    for error in job["errors"][:SHOWN_ERRORS]:
        where = f"{error.get('unit', 'line')} {error['line']}"
        field = f", field {error['field']}" if error.get("field") else ""
        click.echo(f"  {where}{field}: {error['message']}")
    if job["error_total"] > SHOWN_ERRORS:
        click.echo(f"  ... and {job['error_total'] - SHOWN_ERRORS} more (storebot job {job['id']} --store "
                   f"{job['store']} lists up to the cap).")  # fmt: skip
    if not ok:
        sys.exit(1)


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--store", "store_id", required=True)
@click.option("--kind", type=click.Choice(KINDS), default="products", show_default=True)
@pass_context
def delete(ctx: Context, ids: tuple[str, ...], store_id: str, kind: str) -> None:
    """Delete records by id (they are dropped from the index on its next update)."""
    ctx.services.stores.get(store_id)
    result = delete_records(ctx.services.redis, ctx.services.keys(store_id), kind, ids)
    click.echo(f"Deleted {result.deleted} of {len(set(ids))} {kind}.")


@cli.command()
@click.option("--store", "store_id", required=True)
@click.option("--limit", default=20, show_default=True)
@pass_context
def jobs(ctx: Context, store_id: str, limit: int) -> None:
    """List a store's recent sync jobs."""
    for job in ctx.services.jobs(store_id).recent(limit):
        c = job["counts"]
        click.echo(f"{job['id']}  {job['state']:<9} {job['kind']:<8} {job['format']:<10} "
                   f"+{c['added']} ~{c['updated']} ={c['unchanged']} -{c['deleted']} !{c['failed']}  "
                   f"{job['filename']}")  # fmt: skip


@cli.command()
@click.argument("job_id")
@click.option("--store", "store_id", required=True)
@pass_context
def job(ctx: Context, job_id: str, store_id: str) -> None:
    """Show one sync job with its row errors."""
    _report(ctx.services.jobs(store_id).get(job_id))
