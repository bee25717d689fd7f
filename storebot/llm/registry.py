"""The one registry of LLM backends, and the per-process cache of their chat models.

Built-in backends (``local``, ``openai``, ``openai-compatible``) are registered
by :mod:`storebot.llm` through :func:`register_backend`, the same call a
user's own backend makes, whether from their code or from a package that
declares a ``storebot.llm`` entry point (a callable given ``register_backend``).

Example:
    A user's own backend, here Anthropic's models through ``langchain-anthropic``:

    >>> from langchain_anthropic import ChatAnthropic                        # doctest: +SKIP
    >>> register_backend(                                                     # doctest: +SKIP
    ...     "anthropic",
    ...     lambda spec: ChatAnthropic(model=spec.model or "claude-3-5-haiku-latest", api_key=spec.api_key,
    ...                                timeout=spec.timeout, max_tokens=spec.max_tokens),
    ...     capabilities=Capabilities(context_window=200_000),
    ... )
    >>> get_llm(BackendSpec(backend="anthropic", api_key="sk-ant-...")).invoke("Hi")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from langchain_core.language_models import BaseChatModel

from storebot.errors import ConfigError
from storebot.llm.base import BackendSpec, Capabilities, LLMUnavailable
from storebot.llm.urls import check_base_url

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "storebot.llm"

Factory = Callable[[BackendSpec], BaseChatModel]
CapabilitiesSource = Capabilities | Callable[[BackendSpec], Capabilities]
ErrorTranslator = Callable[[BaseException, BackendSpec], LLMUnavailable | None]


@dataclass(frozen=True)
class Backend:
    """A registered backend: how to build its chat model and what it can be trusted with."""

    name: str
    factory: Factory
    capabilities: CapabilitiesSource
    translate_error: ErrorTranslator | None = None


_lock = threading.RLock()
_backends: dict[str, Backend] = {}
_models: dict[tuple[Any, ...], BaseChatModel] = {}
_plugins_loaded = False
_model_hooks: list[Callable[[BaseChatModel, str], None]] = []


def on_model_built(hook: Callable[[BaseChatModel, str], None]) -> None:
    """Call ``hook(model, backend_name)`` on every chat model built from now on (e.g. to attach callbacks)."""
    with _lock:
        if hook not in _model_hooks:
            _model_hooks.append(hook)


def register_backend(
    name: str,
    factory: Factory,
    *,
    capabilities: CapabilitiesSource,
    translate_error: ErrorTranslator | None = None,
) -> None:
    """Make ``name`` a backend: ``factory(spec)`` builds its LangChain chat model.

    Args:
        name: what ``STOREBOT_LLM_BACKEND`` (or a store's ``llm_backend``) names.
        factory: builds a ``BaseChatModel`` from a :class:`BackendSpec`; it should be
            cheap (load weights lazily) and raise :class:`LLMUnavailable` with a fix
            when something is missing.
        capabilities: what the chain may trust the backend with, fixed or per spec.
        translate_error: turns the backend's own exceptions into
            :class:`LLMUnavailable` (return None to leave one to the generic message).

    Registering a name again replaces the backend and drops its cached models.
    """
    name = name.strip().lower()
    with _lock:
        _backends[name] = Backend(name, factory, capabilities, translate_error)
        for key in [k for k in _models if k[0] == name]:
            del _models[key]


def available_backends() -> list[str]:
    """Names of the registered backends, sorted."""
    _load_plugins()
    with _lock:
        return sorted(_backends)


def get_backend(name: str) -> Backend:
    """The registered backend called ``name``; a ConfigError listing the others if none."""
    _load_plugins()
    with _lock:
        backend = _backends.get(name.strip().lower())
    if backend is None:
        known = ", ".join(available_backends())
        raise ConfigError(
            f"Unknown LLM backend {name!r}. Available: {known}.",
            fix=f"Set STOREBOT_LLM_BACKEND (or the store's llm_backend) to one of: {known}.",
        )
    return backend


def get_llm(spec: BackendSpec | Mapping[str, Any] | None = None) -> BaseChatModel:
    """The chat model for ``spec``, built once per process and shared by equal specs.

    Raises:
        ConfigError: the backend name is not registered.
        LLMUnavailable: the backend cannot be built (no key, model not installed...).
    """
    spec = _as_spec(spec)
    key = spec.identity()
    model = _models.get(key)
    if model is not None:
        return model
    backend = get_backend(spec.backend)
    with _lock:
        model = _models.get(key)
        if model is None:
            model = backend.factory(spec)
            for hook in _model_hooks:
                hook(model, backend.name)
            _models[key] = model
        return model


def capabilities(spec: BackendSpec | Mapping[str, Any] | None = None) -> Capabilities:
    """What the backend of ``spec`` can be trusted with, after ``spec.extra["capabilities"]``."""
    spec = _as_spec(spec)
    source = get_backend(spec.backend).capabilities
    caps = source if isinstance(source, Capabilities) else source(spec)
    return caps.with_overrides(spec.extra.get("capabilities"))


def translate_error(exc: BaseException, spec: BackendSpec | Mapping[str, Any] | None = None) -> LLMUnavailable:
    """Turn any failure of a model call into an :class:`LLMUnavailable` that says the fix.

    Example:
        >>> try:                                                    # doctest: +SKIP
        ...     answer = llm.invoke(messages)
        ... except Exception as exc:
        ...     raise translate_error(exc, spec) from exc
    """
    if isinstance(exc, LLMUnavailable):
        return exc
    spec = _as_spec(spec)
    with _lock:
        backend = _backends.get(spec.backend)
    if backend is not None and backend.translate_error is not None:
        translated = backend.translate_error(exc, spec)
        if translated is not None:
            return translated
    where = f" at {spec.base_url}" if spec.base_url else ""
    if isinstance(exc, TimeoutError):
        return LLMUnavailable(
            f"The {spec.backend} LLM{where} did not answer within {spec.timeout:g} s.",
            fix="Raise STOREBOT_LLM_TIMEOUT, or choose a faster backend with STOREBOT_LLM_BACKEND.",
        )
    if isinstance(exc, ConnectionError):
        return LLMUnavailable(
            f"Could not reach the {spec.backend} LLM{where}: {exc}.",
            fix="Check that the server is running, or choose another backend with STOREBOT_LLM_BACKEND.",
        )
    return LLMUnavailable(
        f"The {spec.backend} LLM{where} failed: {type(exc).__name__}: {exc}",
        fix="Check the server's logs, or choose another backend with STOREBOT_LLM_BACKEND "
        f"(available: {', '.join(available_backends())}).",
    )


# backend -> (the global key setting, the operator's endpoint that key belongs to)
_OPERATOR_ENDPOINT = {"openai": ("OPENAI_API_KEY", "TUNING_OPENAI_BASE_URL")}


def spec_for_store(store_settings: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> BackendSpec:
    """The spec for one store: its ``llm_*`` settings over the global ``LLM_*`` ones.

    A store that switches backend does not inherit the global model or base URL
    (a GGUF path means nothing to OpenAI). A global key is sent only to the
    operator's own endpoint for it: ``OPENAI_API_KEY`` to the ``openai`` backend
    at OpenAI or at ``TUNING_OPENAI_BASE_URL`` (where a promoted fine-tune is
    served, :mod:`storebot.tuning.models`), ``LLM_API_KEY`` to ``openai-compatible``
    at ``LLM_BASE_URL``. A store that sets any other ``llm_base_url`` must bring
    its own ``llm_api_key``.

    Example:
        >>> spec = spec_for_store({"llm_backend": "openai"},
        ...                       {"LLM_BACKEND": "local", "LLM_MODEL": "/m.gguf", "OPENAI_API_KEY": "sk-1"})
        >>> spec.backend, spec.model, spec.api_key
        ('openai', '', 'sk-1')
    """
    store = store_settings or {}
    default_backend = _text(defaults.get("LLM_BACKEND")) or "local"
    backend = (_text(store.get("llm_backend")) or default_backend).lower()
    inherit = backend == default_backend.lower()
    store_url = _text(store.get("llm_base_url"))
    if store_url and "LLM_BASE_URL_ALLOWLIST" in defaults:  # full settings: the SSRF guard (storebot.llm.urls)
        check_base_url(store_url, defaults)
    base_url = store_url or (_text(defaults.get("LLM_BASE_URL")) if inherit else "")
    model = _text(store.get("llm_model")) or (_text(defaults.get("LLM_MODEL")) if inherit else "")
    api_key = _text(store.get("llm_api_key"))
    key_setting, url_setting = _OPERATOR_ENDPOINT.get(backend, ("LLM_API_KEY", "LLM_BASE_URL"))
    operator_url = _text(defaults.get(url_setting)).rstrip("/")
    if not api_key and (not store_url or store_url.rstrip("/") == operator_url):
        api_key = _text(defaults.get(key_setting))
    mapping: dict[str, Any] = {"backend": backend, "model": model, "base_url": base_url, "api_key": api_key}
    adapter = _text(store.get("llm_adapter"))  # a fine-tuned LoRA (storebot.tuning) served by the local backend
    if adapter and backend == "local":
        mapping["extra"] = {"lora_path": adapter}
    for name, setting in (
        ("timeout", "LLM_TIMEOUT"),
        ("max_tokens", "LLM_MAX_TOKENS"),
        ("temperature", "LLM_TEMPERATURE"),
    ):
        if defaults.get(setting) not in (None, ""):
            mapping[name] = defaults[setting]
    return BackendSpec.from_mapping(mapping)


def clear_cache() -> None:
    """Forget every cached chat model (the next :func:`get_llm` builds anew)."""
    with _lock:
        _models.clear()


def _as_spec(spec: BackendSpec | Mapping[str, Any] | None) -> BackendSpec:
    if spec is None:
        return BackendSpec()
    return spec if isinstance(spec, BackendSpec) else BackendSpec.from_mapping(spec)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _load_plugins() -> None:
    """Call each ``storebot.llm`` entry point with :func:`register_backend`, once per process."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    with _lock:
        if _plugins_loaded:
            return
        _plugins_loaded = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                point.load()(register_backend)
            except Exception:  # a broken plugin must not take the built-in backends down
                log.exception("LLM backend plugin %s failed to register", point.value)


def _after_fork_in_child() -> None:
    # Clients (HTTP pools, llama.cpp contexts) must not cross a fork: a worker builds its own.
    global _lock
    _lock = threading.RLock()
    _models.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)
