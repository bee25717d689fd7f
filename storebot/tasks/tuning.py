"""Style fine-tuning tasks: run one fine-tuning run, and the weekly check of every store (the beat entry)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from storebot.errors import ConfigError
from storebot.services import Services
from storebot.tuning.pipeline import run_tuning, scheduled_check


def _services() -> Services:
    return current_app.extensions["storebot"]  # type: ignore[no-any-return]


@shared_task(name="storebot.tuning_run", acks_late=True)
def tuning_run(store_id: str, run_id: str) -> dict[str, Any]:
    """Run fine-tuning run ``run_id`` of ``store_id`` (a finished run is left as it is)."""
    services = _services()
    lock = services.redis.lock(services.keys(store_id)("lock", "tuning"), timeout=6 * 3600, blocking_timeout=0)
    if not lock.acquire(blocking=False):
        return {"skipped": "another fine-tuning run of this store is running"}
    try:
        run = run_tuning(services, store_id, run_id)
    finally:
        lock.release()
    return {"state": run["state"], "version": run["version"], "message": run["message"]}


@shared_task(name="storebot.tuning_scheduled", acks_late=True)
def tuning_scheduled() -> dict[str, Any]:
    """For every store: queue a run when enough new examples were approved, else record why it skipped."""
    services = _services()
    results = {}
    for store in services.stores.list():
        result = scheduled_check(services, store.id)
        if result["state"] == "queued":
            current_app.extensions["celery"].send_task("storebot.tuning_run", args=[store.id, result["run_id"]])
        results[store.id] = result
    return results


def parse_crontab(text: str) -> crontab | None:
    """``"0 3 * * 1"`` (minute hour day-of-month month day-of-week) as a Celery crontab; ``off`` or empty: None."""
    text = text.strip()
    if text.lower() in ("", "off", "never", "none"):
        return None
    parts = text.split()
    if len(parts) != 5:
        raise ConfigError(
            f"STOREBOT_TUNING_SCHEDULE={text!r} is not a crontab.",
            fix="Write five fields, minute hour day-of-month month day-of-week, e.g. '0 3 * * 1'.",
        )
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    try:
        return crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        )
    except ValueError as exc:
        raise ConfigError(
            f"STOREBOT_TUNING_SCHEDULE={text!r} is not a valid crontab: {exc}.",
            fix="E.g. '0 3 * * 1' runs Mondays at 03:00 UTC.",
        ) from exc


def schedule(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    when = parse_crontab(str(settings["TUNING_SCHEDULE"]))
    return {} if when is None else {"tuning-check": {"task": "storebot.tuning_scheduled", "schedule": when}}
