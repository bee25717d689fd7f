"""What every LLM backend shares: the spec that names it, what it can do, and its error.

A :class:`BackendSpec` is plain data (no secrets in its ``repr``), so the
registry can cache one chat model per distinct spec and the chain can ask the
backend's :class:`Capabilities` before trusting it with a task.

Example:
    >>> spec = BackendSpec.from_mapping({"backend": "openai", "model": "gpt-4o-mini", "timeout": "10"})
    >>> spec.timeout, spec.max_tokens
    (10.0, 256)
    >>> Capabilities(condense=False).with_overrides({"condense": True}).condense
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from storebot.errors import StorebotError


class LLMUnavailable(StorebotError):
    """The configured LLM cannot answer now: not installed, no key, unreachable, too slow."""

    status = 503
    code = "llm_unavailable"


@dataclass(frozen=True)
class Capabilities:
    """What the chain may trust a backend with.

    Attributes:
        condense: can rewrite a follow-up ("is it waterproof?") into a standalone
            question reliably. A 135M-parameter model cannot; the chain should
            then fall back to rules.
        follows_instructions: keeps to the system prompt (answer only from the
            given products, stay short). When false, the chain should lean on
            grounding checks and templates.
        context_window: tokens the model reads at once, prompt and answer together.
        streaming: yields tokens as they are produced.

    Example:
        >>> caps = Capabilities(condense=True, follows_instructions=True, context_window=128_000)
        >>> caps.context_window >= 8192
        True
    """

    condense: bool = True
    follows_instructions: bool = True
    context_window: int = 8192
    streaming: bool = True

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Capabilities:
        """A copy with the known keys of ``overrides`` applied (unknown keys are ignored)."""
        if not overrides:
            return self
        names = {f.name for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key in names:
                changes[key] = int(value) if key == "context_window" else _as_bool(value)
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class BackendSpec:
    """Which backend to build and how: the identity the registry caches chat models by.

    ``extra`` carries backend-specific options: keyword arguments for the model
    (e.g. ``{"n_ctx": 4096}`` for ``local``, ``{"max_retries": 0}`` for the
    OpenAI backends) plus the reserved key ``"capabilities"``, a mapping that
    overrides what the backend claims (e.g. ``{"condense": True}`` for a
    stronger local GGUF).

    Example:
        >>> spec = BackendSpec(backend="openai-compatible", model="llama3.2",
        ...                    base_url="http://localhost:11434/v1")
        >>> "api_key" in repr(spec)
        False
    """

    backend: str = "local"
    model: str = ""
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    timeout: float = 30.0
    max_tokens: int = 256
    temperature: float = 0.2
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "backend", self.backend.strip().lower())

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> BackendSpec:
        """Build a spec from a dict: field names in any case; other keys go to ``extra``.

        Numbers may be strings (as they come from the environment); empty
        values keep the defaults.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        extra: dict[str, Any] = dict(mapping.get("extra") or {})
        for key, value in mapping.items():
            name = str(key).lower()
            if name == "extra":
                continue
            if name not in names:
                extra[str(key)] = value
            elif value is not None and value != "":
                values[name] = value
        try:
            for name, kind in (("timeout", float), ("max_tokens", int), ("temperature", float)):
                if name in values:
                    values[name] = kind(values[name])
        except (TypeError, ValueError) as exc:
            raise LLMUnavailable(
                f"The LLM settings are malformed: {exc}.",
                fix="Use numbers for the timeout (seconds), max_tokens and temperature.",
            ) from exc
        for name in ("backend", "model", "base_url", "api_key"):
            if name in values:
                values[name] = str(values[name]).strip()
        return cls(**values, extra=extra)

    def identity(self) -> tuple[Any, ...]:
        """A hashable key: equal specs share one chat model per process.

        The API key enters only as a digest, so the key never sits in a cache key.
        """
        key_digest = hashlib.sha256(self.api_key.encode()).hexdigest()[:16] if self.api_key else ""
        extra = json.dumps(self.extra, sort_keys=True, default=repr)
        return (
            self.backend,
            self.model,
            self.base_url,
            key_digest,
            self.timeout,
            self.max_tokens,
            self.temperature,
            extra,
        )

    def model_kwargs(self) -> dict[str, Any]:
        """``extra`` without the reserved ``capabilities`` key: what a factory passes on."""
        return {k: v for k, v in self.extra.items() if k != "capabilities"}


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)
