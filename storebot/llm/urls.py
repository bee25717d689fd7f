"""Which LLM endpoints a store may point the server at (server-side request forgery guard).

A store's own ``llm_base_url`` makes storebot's server send HTTP requests to that
URL, with the prompt, from inside the deployment's network. So a store may only
name an endpoint on the operator's allow-list, ``STOREBOT_LLM_BASE_URL_ALLOWLIST``:
comma-separated hosts (``api.openai.com``, ``ollama.internal:11434``) or URL
prefixes (``https://llm.example/v1``). Unset, the list is ``api.openai.com`` plus
the operator's own endpoints: the global ``STOREBOT_LLM_BASE_URL`` and
``STOREBOT_TUNING_OPENAI_BASE_URL`` (where promoted fine-tunes are served), if
set. ``*`` allows any URL.
The check runs when a store's setting is saved and again each time its chat
backend spec is built, so an entry removed from the list takes effect at once.

Example:
    >>> allowed = allowlist({"LLM_BASE_URL_ALLOWLIST": "", "LLM_BASE_URL": "http://ollama:11434/v1"})
    >>> is_allowed("https://api.openai.com/v1", allowed), is_allowed("http://169.254.169.254/latest", allowed)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from storebot.errors import Forbidden

SETTING = "LLM_BASE_URL_ALLOWLIST"
ALWAYS = ("api.openai.com",)


class LLMURLNotAllowed(Forbidden):
    """A store's ``llm_base_url`` is not on the operator's allow-list."""

    code = "llm_url_not_allowed"


def allowlist(settings: Mapping[str, Any]) -> list[str]:
    """The allow-list entries from the settings: the setting's own, or the default (see module docstring)."""
    raw = settings.get(SETTING) or ""
    entries = [part.strip() for part in str(raw).split(",") if part.strip()]
    if entries:
        return entries
    operator = [str(settings.get(name) or "").strip() for name in ("LLM_BASE_URL", "TUNING_OPENAI_BASE_URL")]
    return [*ALWAYS, *dict.fromkeys(url for url in operator if url)]


def _host_port(parts: Any) -> tuple[str, int]:
    default = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "").lower().rstrip("."), parts.port or default


def _matches(url: Any, entry: str) -> bool:
    if entry == "*":
        return True
    if "://" not in entry:  # a host, optionally host:port
        host, _, port = entry.lower().partition(":")
        url_host, url_port = _host_port(url)
        return url_host == host.rstrip(".") and (not port or str(url_port) == port)
    prefix = urlsplit(entry)
    if prefix.scheme.lower() != url.scheme.lower() or _host_port(prefix) != _host_port(url):
        return False
    base = prefix.path.rstrip("/")
    path = url.path or "/"
    return path == base or path.startswith(base + "/") or not base


def is_allowed(url: str, entries: list[str]) -> bool:
    """Whether ``url`` is an http(s) URL without credentials that some entry allows."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return False
    return any(_matches(parts, entry) for entry in entries)


def check_base_url(url: str, settings: Mapping[str, Any]) -> str:
    """Return ``url`` if a store may use it as its LLM endpoint, else raise :class:`LLMURLNotAllowed`."""
    entries = allowlist(settings)
    if is_allowed(url, entries):
        return url
    raise LLMURLNotAllowed(
        f"The LLM base URL {url!r} is not on this server's allow-list ({', '.join(entries)}).",
        fix="Use an allowed endpoint, or ask the operator to add its host or URL prefix to "
        "STOREBOT_LLM_BASE_URL_ALLOWLIST (comma-separated).",
    )
