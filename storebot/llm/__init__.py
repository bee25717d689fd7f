"""LLM backends behind one registry: local (llama.cpp + bundled SmolLM2), openai, openai-compatible.

The built-ins below register through :func:`register_backend`, exactly as a
user's own backend does.

Example:
    >>> spec = spec_for_store({}, {"LLM_BACKEND": "local"})
    >>> capabilities(spec).condense
    False
    >>> llm = get_llm(spec)                               # doctest: +SKIP
    >>> "".join(c.content for c in llm.stream("Hi"))      # doctest: +SKIP
"""

from storebot.llm import local, openai
from storebot.llm.base import BackendSpec, Capabilities, LLMUnavailable
from storebot.llm.registry import (
    available_backends,
    capabilities,
    clear_cache,
    get_backend,
    get_llm,
    register_backend,
    spec_for_store,
    translate_error,
)

register_backend("local", local.create_local_model, capabilities=local.local_capabilities)
register_backend(
    "openai",
    openai.create_openai_model,
    capabilities=openai.OPENAI_CAPABILITIES,
    translate_error=openai.translate_error,
)
register_backend(
    "openai-compatible",
    openai.create_openai_compatible_model,
    capabilities=openai.COMPATIBLE_CAPABILITIES,
    translate_error=openai.translate_error,
)

__all__ = [
    "BackendSpec",
    "Capabilities",
    "LLMUnavailable",
    "available_backends",
    "capabilities",
    "clear_cache",
    "get_backend",
    "get_llm",
    "register_backend",
    "spec_for_store",
    "translate_error",
]
