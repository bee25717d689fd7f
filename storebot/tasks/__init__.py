"""Celery tasks, one module per area: thin adapters that take ids and call one domain function.

Each module registers its tasks with ``@shared_task`` on import. A module that
needs periodic runs defines ``schedule(settings) -> dict`` of Celery beat
entries; :func:`beat_schedule` merges them.
"""

from __future__ import annotations

from typing import Any

from storebot.tasks import catalog, recommendations, reviews, tuning

MODULES = (catalog, recommendations, tuning, reviews)


def beat_schedule(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every task module's beat entries, for ``celery beat``."""
    entries: dict[str, dict[str, Any]] = {}
    for module in MODULES:
        schedule = getattr(module, "schedule", None)
        if schedule is not None:
            entries.update(schedule(settings))
    return entries
