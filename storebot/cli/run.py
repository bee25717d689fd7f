"""`storebot serve`, `worker`, `beat`: the long-running processes."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import click

from storebot.cli import Context, cli, pass_context

log = logging.getLogger(__name__)


def _celery(ctx: Context) -> Any:
    from storebot.app import create_app

    ctx.export_redis_url()
    return create_app().extensions["celery"]


def _warm_up(app: Any) -> None:
    """Load the models in a web worker as it starts (a thread: requests are served meanwhile, health checks too)."""
    try:
        seconds = app.extensions["storebot"].warm_up()
    except Exception as exc:  # noqa: BLE001 - the first request loads it instead, and says what is wrong
        log.warning("web worker %d: warming up the embedding model failed: %s", os.getpid(), exc)
    else:
        log.info("web worker %d: embedding model ready in %.1f s", os.getpid(), seconds)


@cli.command()
@click.option("--host", default=None, help="Address to listen on [STOREBOT_HOST].")
@click.option("--port", type=int, default=None, help="Port [STOREBOT_PORT].")
@click.option("--workers", default=1, show_default=True, help="Processes (each loads its own models).")
@click.option("--threads", default=8, show_default=True, help="Threads per process.")
@pass_context
def serve(ctx: Context, host: str | None, port: int | None, workers: int, threads: int) -> None:
    """Run the web server (gunicorn) for the API, the widget and the storefront."""
    from gunicorn.app.base import BaseApplication

    ctx.export_redis_url()
    bind = f"{host or ctx.settings['HOST']}:{port or ctx.settings['PORT']}"

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            # No gunicorn access log: its request line and Referer carry query strings (?key=pk_...). storebot's
            # own access line (storebot.observability.logs: method, path, status, request id) replaces it.
            for key, value in {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
                               "accesslog": None, "timeout": 120, "graceful_timeout": 10}.items():  # fmt: skip
                self.cfg.set(key, value)
            if ctx.settings.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics sums the workers; drop a dead one's gauges
                from storebot.observability.metrics import gunicorn_child_exit

                self.cfg.set("child_exit", gunicorn_child_exit)

        def load(self) -> Any:
            from storebot.app import create_app

            app = create_app()
            threading.Thread(target=_warm_up, args=(app,), name="storebot-warm-up", daemon=True).start()
            return app

    click.echo(f"storebot serving on http://{bind}")
    Server().run()


@cli.command()
@click.option("--concurrency", type=int, default=None, help="Worker processes [STOREBOT_WORKER_CONCURRENCY].")
@click.option("--loglevel", default="info", show_default=True)
@click.option("--pool", default="prefork", show_default=True, help="Celery pool: prefork, solo or threads.")
@click.option("--metrics-port", type=int, default=None,
              help="Serve task and sync metrics at :PORT/metrics [STOREBOT_WORKER_METRICS_PORT]; with the prefork "
                   "pool set PROMETHEUS_MULTIPROC_DIR too.")  # fmt: skip
@pass_context
def worker(ctx: Context, concurrency: int | None, loglevel: str, pool: str, metrics_port: int | None) -> None:
    """Run a Celery worker for sync, indexing and the other slow work."""
    celery_app = _celery(ctx)
    concurrency = concurrency or int(ctx.settings["WORKER_CONCURRENCY"])
    port = metrics_port if metrics_port is not None else int(ctx.settings["WORKER_METRICS_PORT"])
    if port:
        from storebot.observability.metrics import multiprocess_dir, serve_metrics

        if pool == "prefork" and not multiprocess_dir():
            raise click.UsageError("--metrics-port with the prefork pool needs PROMETHEUS_MULTIPROC_DIR (an empty, "
                                   "writable directory): tasks run in child processes.")  # fmt: skip
        serve_metrics(port, token=str(ctx.settings.get("METRICS_TOKEN") or ""))
        click.echo(f"worker metrics on http://0.0.0.0:{port}/metrics")
    celery_app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", f"--pool={pool}"])


@cli.command()
@click.option("--loglevel", default="info", show_default=True)
@pass_context
def beat(ctx: Context, loglevel: str) -> None:
    """Run Celery beat, which schedules the periodic tasks."""
    celery_app = _celery(ctx)
    schedule = str(ctx.services.data_dir / "celerybeat-schedule")
    celery_app.start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])


from storebot.cli import demo  # noqa: E402,F401
