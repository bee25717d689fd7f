"""`storebot store ...`: create stores, list them, rotate keys, set origins, re-encrypt secrets."""

from __future__ import annotations

import click

from storebot.cli import Context, cli, pass_context


@cli.group()
def store() -> None:
    """Create and manage stores (tenants) and their keys."""


@store.command("create")
@click.argument("name")
@click.option("--origin", "origins", multiple=True, help="Allowed storefront origin (repeatable).")
@click.option("--id", "store_id", help="Store id (default: derived from NAME).")
@pass_context
def create(ctx: Context, name: str, origins: tuple[str, ...], store_id: str | None) -> None:
    """Create a store and print its keys. The secret key is shown only once."""
    created, secret = ctx.services.stores.create(name, list(origins), store_id=store_id)
    click.echo(f"Created store {created.id!r} ({created.name}).")
    click.echo(f"  publishable key (widget):   {created.publishable_key}")
    click.echo(f"  secret key (merchant API):  {secret}")
    click.secho("  Save the secret key now: storebot keeps only its hash.", fg="yellow")
    click.echo(f"  allowed origins: {', '.join(created.origins) or '(none: add with `storebot store origins`)'}")


@store.command("list")
@pass_context
def list_stores(ctx: Context) -> None:
    """List stores with their publishable keys and origins."""
    stores = ctx.services.stores.list()
    if not stores:
        click.echo('No stores. Create one with `storebot store create "My Shop"`.')
    for s in stores:
        counts = ctx.services.catalog(s.id)
        click.echo(f"{s.id}\t{s.name}\t{s.publishable_key}\t{counts.count('products')} products\t"
                   f"{', '.join(s.origins) or '-'}")  # fmt: skip


@store.command("rotate-key")
@click.argument("store_id")
@pass_context
def rotate_key(ctx: Context, store_id: str) -> None:
    """Issue a new secret key; the old one stops working at once."""
    secret = ctx.services.stores.rotate_secret(store_id)
    click.echo(f"New secret key for {store_id}: {secret}")


@store.command("origins")
@click.argument("store_id")
@click.argument("origins", nargs=-1, required=True)
@pass_context
def set_origins(ctx: Context, store_id: str, origins: tuple[str, ...]) -> None:
    """Replace the store's allowed origins."""
    updated = ctx.services.stores.set_origins(store_id, list(origins))
    click.echo(f"{store_id} allows: {', '.join(updated.origins)}")


@store.command("delete")
@click.argument("store_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def delete(ctx: Context, store_id: str, yes: bool) -> None:
    """Delete a store and all of its data."""
    ctx.services.stores.get(store_id)
    if not yes:
        click.confirm(f"Delete store {store_id!r} and all its data?", abort=True)
    removed = ctx.services.stores.delete(store_id)
    click.echo(f"Deleted {store_id} ({removed} keys).")


STORE_SETTINGS = ("llm_backend", "llm_model", "llm_base_url", "llm_api_key")


@store.command("config")
@click.argument("store_id")
@click.argument("pairs", nargs=-1, metavar="KEY=VALUE...")
@pass_context
def config(ctx: Context, store_id: str, pairs: tuple[str, ...]) -> None:
    """Show or set a store's own settings, e.g. its chat backend.

    \b
    storebot store config demo llm_backend=openai llm_model=gpt-4o-mini
    storebot store config demo llm_backend=          # back to the global default
    """
    from storebot.errors import StorebotError

    found = ctx.services.stores.get(store_id)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in STORE_SETTINGS:
            raise StorebotError(
                f"{pair!r} is not KEY=VALUE with a known key.", fix=f"Keys: {', '.join(STORE_SETTINGS)}."
            )
        if value and key == "llm_base_url":
            from storebot.llm.urls import check_base_url

            check_base_url(value, ctx.settings)  # SSRF guard: only endpoints on the operator's allow-list
        if value:
            found.settings[key] = value
        else:
            found.settings.pop(key, None)
    if pairs:
        ctx.services.stores.save(found)
    for key in STORE_SETTINGS:
        secret = key.endswith("api_key") and key in found.settings  # `in`: shown without decrypting
        shown = "***" if secret else found.settings.get(key, "(default)")
        click.echo(f"{key} = {shown}")


@store.command("reencrypt-secrets")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@pass_context
def reencrypt_secrets(ctx: Context, dry_run: bool) -> None:
    """Re-encrypt every store's secrets (llm_api_key) with the first STOREBOT_SECRETS_KEY.

    Run it after putting a new key first (STOREBOT_SECRETS_KEY=new,old) on every
    web server and worker. It also encrypts plain-text secrets saved before
    encryption existed. When it reports no unreadable secret, the old key can be
    dropped. Safe to run again and while storebot serves; values are never shown.
    Exits with status 1 when a secret could not be decrypted.

    \b
    1. STOREBOT_SECRETS_KEY=new,old on every web server and worker (restarted)
    2. STOREBOT_SECRETS_KEY=new,old storebot store reencrypt-secrets [--dry-run]
    3. once it reports 0 unreadable: STOREBOT_SECRETS_KEY=new
    """
    from storebot.cipher import SecretUnreadable
    from storebot.errors import StorebotError
    from storebot.secrets_rotation import reencrypt_secrets as reencrypt

    report = reencrypt(ctx.services.stores, dry_run=dry_run)
    for s in report.stores:
        if s.error:
            click.secho(f"{s.store_id}: left as is: {s.error}", fg="red")
        elif any(s.counts().values()):
            line = f"{s.store_id}: {len(s.rotated)} re-encrypted, {len(s.sealed)} sealed, {len(s.current)} current"
            click.echo(line + (f"; cannot decrypt: {', '.join(s.unreadable)}" if s.unreadable else ""))
    totals = report.totals()
    rotated, sealed = (
        ("Dry run, nothing written: would re-encrypt", "would seal") if dry_run else ("Re-encrypted", "sealed")
    )
    click.echo(
        f"{rotated} {totals['rotated']} secret(s) with the first key, {sealed} {totals['sealed']} plain-text, "
        f"{totals['current']} already current, {totals['unreadable']} unreadable, in {len(report.stores)} store(s)."
    )
    if report.unreadable():
        names = ", ".join(f"{store_id} {name}" for store_id, name in report.unreadable())
        raise SecretUnreadable(
            f"{totals['unreadable']} secret(s) could not be decrypted and were left as they are: {names}.",
            fix="Add the old key that encrypted them to STOREBOT_SECRETS_KEY, after the new one "
            "(STOREBOT_SECRETS_KEY=new,old; unset, the new one is the key in DATA_DIR/secrets.key), and run this "
            "again; drop the old key only once a run reports none. Or set the value again: "
            "`storebot store config <store> llm_api_key=...`.",
        )
    if report.failed_stores():
        raise StorebotError(
            f"{len(report.failed_stores())} store(s) could not be re-encrypted and were left as they are.",
            fix="See the lines above; keep the old key in STOREBOT_SECRETS_KEY until a run reports none.",
        )
