"""`storebot recommend`: what a store recommends for a product (or its trending list), and a full refresh."""

from __future__ import annotations

import json

import click

from storebot.cli import Context, cli, pass_context
from storebot.insights.recommend import PRODUCT_KINDS


@cli.command()
@click.option("--store", "store_id", required=True)
@click.option("--product", "product_id", help="The product to recommend for (similar, complementary).")
@click.option("--kind", type=click.Choice([*PRODUCT_KINDS, "trending"]), default="similar", show_default=True)
@click.option("--limit", default=8, show_default=True, type=click.IntRange(1, 50))
@click.option("--refresh", is_flag=True, help="Recompute every product's recommendations first (as the worker does).")
@click.option("--json", "as_json", is_flag=True, help="Print the API's items as JSON.")
@pass_context
def recommend(
    ctx: Context, store_id: str, product_id: str | None, kind: str, limit: int, refresh: bool, as_json: bool
) -> None:
    """Show a product's similar or complementary products, or the store's trending ones."""
    services = ctx.services
    services.stores.get(store_id)
    recommender = services.recommender(store_id)
    if refresh:
        summary = recommender.refresh()
        click.echo(f"Recomputed {summary['products']} products from {summary['baskets']} baskets "
                   f"in {summary['seconds']:.1f}s.", err=True)  # fmt: skip
    if kind == "trending":
        rec = recommender.trending(limit)
    else:
        if not product_id:
            raise click.UsageError(f"--kind {kind} needs --product ID.")
        source = services.catalog(store_id).get_product(product_id)
        rec = recommender.product(kind, product_id, limit)
        click.echo(f"{kind} for {source.title} ({product_id}):", err=True)
    items = recommender.items(rec, limit)
    if as_json:
        click.echo(json.dumps({"kind": kind, "source": rec.source, "items": items}, indent=2))
        return
    for i, item in enumerate(items, 1):
        click.echo(f"{i:>2}. {item['score']:.3f}  {item['title']}  {item['price']} {item['currency']}  "
                   f"({item['reason']})")  # fmt: skip
    click.echo(f"source: {rec.source}" + (f" ({rec.note})" if rec.note else ""))
