"""The `storebot` command line: thin click commands over the domain.

Run `storebot --help` for the list, and `storebot COMMAND --help` for each.
"""

from __future__ import annotations

import os
import sys

import click

from storebot import __version__
from storebot.config import load_settings, settings_table
from storebot.errors import StorebotError
from storebot.services import Services


class Context:
    """What every command shares: the settings and, on demand, the services."""

    def __init__(self) -> None:
        self.settings = load_settings()
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = Services(self.settings)
        return self._services

    def export_redis_url(self) -> str:
        """Resolve Redis (starting the embedded one if needed) and hand it to child processes."""
        url = self.services.redis_url
        os.environ["REDIS_URL"] = url
        self.settings["REDIS_URL"] = url
        return url


pass_context = click.make_pass_decorator(Context, ensure=True)


class StorebotGroup(click.Group):
    """Shows StorebotError as a one-line message with its fix, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except StorebotError as exc:
            click.secho(f"Error: {exc.message}", fg="red", err=True)
            if exc.fix:
                click.echo(f"  {exc.fix}", err=True)
            sys.exit(1)


@click.group(cls=StorebotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="storebot")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """storebot: a shopping assistant for any storefront.

    \b
    Quick start:
      storebot demo                         demo store, web server and worker
      storebot store create "My Shop" --origin https://shop.example
      storebot sync products.json --store my-shop

    Settings come from STOREBOT_* environment variables (see `storebot settings`).
    """
    ctx.ensure_object(Context)


@cli.command()
def settings() -> None:
    """Show every setting, its environment variable and its default."""
    click.echo(settings_table())


def main() -> None:
    cli(prog_name="storebot")


from storebot.cli import catalog, chat, insights, recommend, run, search, store, tuning  # noqa: E402,F401  (registers the commands)
