"""`storebot insights`: what a store's reviews say lately, for the merchant."""

from __future__ import annotations

import json
from typing import Any

import click

from storebot.cli import Context, cli, pass_context
from storebot.insights.review_analysis import AnalysisSettings, analyze_reviews
from storebot.insights.review_store import ReviewInsightsStore
from storebot.insights.reviews import merchant_report


@cli.command()
@click.option("--store", "store_id", required=True, help="The store's id.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (the same as GET /api/v1/insights).")
@click.option("--analyze", is_flag=True, help="Analyse the reviews now, without waiting for the worker.")
@click.option("--limit", default=10, show_default=True, help="Falling products and complaints shown.")
@click.option("--window-days", type=int, default=None, help="Days per comparison window [INSIGHTS_WINDOW_DAYS].")
@pass_context
def insights(ctx: Context, store_id: str, as_json: bool, analyze: bool, limit: int, window_days: int | None) -> None:
    """Products whose review sentiment is falling, and the most-mentioned complaints, with review ids.

    Sentiment is compared between the last INSIGHTS_WINDOW_DAYS days of reviews and the window before
    (counted back from the newest review). The analysis runs on the worker after every review sync;
    --analyze runs it here instead.
    """
    services, settings = ctx.services, ctx.settings
    services.stores.get(store_id)
    store = ReviewInsightsStore(services.redis, services.keys(store_id))
    if analyze:
        result = analyze_reviews(services.catalog(store_id), store, services.embedder,
                                 AnalysisSettings.from_settings(settings), force=True)  # fmt: skip
        if not as_json:
            click.echo(f"Analysed {result['analyzed']} reviews with the {result['model']} model.")
    report = merchant_report(services.catalog(store_id), store, limit=limit,
                             window_days=window_days or int(settings["INSIGHTS_WINDOW_DAYS"]),
                             min_reviews=int(settings["INSIGHTS_MIN_WINDOW_REVIEWS"]))  # fmt: skip
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _print(report)


def _ids(ids: list[str], shown: int = 8) -> str:
    more = f" +{len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _print(report: dict[str, Any]) -> None:
    if report["state"] != "analyzed":
        click.echo("Not analysed yet: sync reviews (the worker analyses them), or run with --analyze.")
        return
    click.echo(f"Falling sentiment (last {report['window_days']} days vs the {report['window_days']} before):")
    if not report["falling"]:
        click.echo("  none")
    for row in report["falling"]:
        change = f"{row['previous_score']:.2f} -> {row['recent_score']:.2f} ({row['delta']:+.2f})"
        click.echo(
            f"  {row['product_id']:<10} {row['title'][:40]:<40} {change}, {row['recent_reviews']} recent reviews"
        )
    click.echo("Most-mentioned complaints:")
    if not report["complaints"]:
        click.echo("  none")
    for row in report["complaints"]:
        click.echo(f"  {row['label']:<26} {row['mentions']:>4} reviews  products: {_ids(row['product_ids'], 5)}")
        click.echo(f"  {'':<26} reviews: {_ids(row['review_ids'])}")
