"""`storebot chat`: talk to a store's assistant in the terminal, with cards shown as text."""

from __future__ import annotations

import click

from storebot.cli import Context, cli, pass_context


def _card_line(index: int, card: dict) -> str:  # type: ignore[type-arg]
    price = card.get("sale_price") or card.get("price") or "?"
    was = f" (was {card['price']})" if card.get("sale_price") else ""
    variant = card.get("matched_variant") or {}
    options = ", ".join(variant.get("options", {}).values())
    stars = f"  ★ {card['rating_avg']} ({card['rating_count']})" if card.get("rating_count") else ""
    return (f"  [{index}] {card['title']}{f' [{options}]' if options else ''} — {price} {card.get('currency', '')}"
            f"{was} · {card.get('availability', '').replace('_', ' ')}{stars}")  # fmt: skip


@cli.command()
@click.option("--store", "store_id", required=True)
@click.option("--session", "session_id", default=None, help="Continue a session (default: a new one).")
@click.option("--page-product", default=None, help="Pretend the shopper is on this product's page.")
@pass_context
def chat(ctx: Context, store_id: str, session_id: str | None, page_product: str | None) -> None:
    """Chat with a store's assistant in the terminal. Empty line or Ctrl-D quits."""
    from storebot.chat.memory import new_session_id
    from storebot.chat.service import ChatService
    from storebot.chat.types import ChatRequest

    services = ctx.services
    store = services.stores.get(store_id)
    service = ChatService.from_services(services)
    session_id = session_id or new_session_id()
    click.secho(f"Chatting with {store.name} (session {session_id}). Empty line to quit.", fg="cyan")
    page = {"product_id": page_product} if page_product else {}
    while True:
        try:
            message = click.prompt(click.style("you", fg="green"), default="", show_default=False)
        except (EOFError, click.Abort):
            break
        if not message.strip():
            break
        click.secho("bot: ", fg="blue", nl=False)
        for event, data in service.stream(ChatRequest(store_id, session_id, message, page)):
            if event == "token":
                click.echo(data["text"], nl=False)
            elif event == "products":
                click.echo()
                for i, card in enumerate(data["items"], 1):
                    click.echo(_card_line(i, card))
            elif event == "suggestions" and data["items"]:
                click.secho("  try: " + " | ".join(data["items"]), fg="bright_black")
            elif event == "error":
                click.secho(f"\n{data['message']} {data.get('fix', '')}", fg="red")
        click.echo()
