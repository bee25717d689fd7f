"""`storebot index` and `storebot search`: build a store's search index and query it."""

from __future__ import annotations

import json

import click

from storebot.cli import Context, cli, pass_context


def run_index_update(ctx: Context, store_id: str, rebuild: bool) -> None:
    from storebot.retrieval.indexer import update_index

    services = ctx.services
    services.stores.get(store_id)
    services.embedder.show_progress = True
    result = update_index(services.redis, services.keys(store_id), services.index_root, services.embedder,
                          rebuild=rebuild, on_stage=lambda msg: click.echo(f"  {msg}...", err=True))  # fmt: skip
    if not result.published:
        click.echo(f"Index of {store_id} is up to date (v{result.version}, {result.counts['products']} products).")
        return
    how = "rebuilt" if result.rebuilt else "updated"
    click.echo(f"Index of {store_id} {how}: v{result.version} with {result.counts['products']} products, "
               f"{result.counts['reviews']} review passages, {result.counts['policies']} policy passages; "
               f"{result.embedded} texts embedded, the rest from the cache ({result.seconds:.1f}s).")  # fmt: skip


@cli.command()
@click.option("--store", "store_id", required=True)
@click.option("--rebuild", is_flag=True, help="Rebuild from the catalog in Redis instead of applying changes.")
@pass_context
def index(ctx: Context, store_id: str, rebuild: bool) -> None:
    """Update a store's search index with pending catalog changes (or --rebuild it)."""
    run_index_update(ctx, store_id, rebuild)


@cli.command()
@click.argument("query")
@click.option("--store", "store_id", required=True)
@click.option("--limit", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of a table.")
@pass_context
def search(ctx: Context, query: str, store_id: str, limit: int, as_json: bool) -> None:
    """Search a store's products the way the shopper-facing API does."""
    from storebot.retrieval.search import search_products

    services = ctx.services
    services.stores.get(store_id)
    result = search_products(services.indexes, services.catalog(store_id), store_id, query, limit=limit)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    if result.filters_applied:
        click.echo(f"filters: {json.dumps(result.filters_applied)}")
    for note in result.relaxed:
        click.secho(f"relaxed: {note}", fg="yellow")
    for i, hit in enumerate(result.hits, 1):
        p = hit.product
        price = (
            p.effective_price
            if hit.variant is None or hit.variant.price is None
            else (hit.variant.sale_price or hit.variant.price)
        )
        variant = f" [{', '.join(hit.variant.options.values())}]" if hit.variant and hit.variant.options else ""
        click.echo(f"{i:>2}. {hit.score:.3f}  {p.title}{variant}  {price} {p.currency}  ({p.availability})")
    if not result.hits:
        click.echo("No products found.")
