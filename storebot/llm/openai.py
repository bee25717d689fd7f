"""The ``openai`` and ``openai-compatible`` backends, both through LangChain's ``ChatOpenAI``.

``openai`` talks to api.openai.com and needs a key. ``openai-compatible``
talks to any server that speaks the Chat Completions API at ``base_url``
(Ollama at ``http://localhost:11434/v1``, vLLM, ``llama_cpp.server``...) and
sends a placeholder when it has no key, because the client insists on one.

The token limit travels differently to each: OpenAI wants
``max_completion_tokens`` and rejects a request that also has ``max_tokens``,
while llama.cpp and older servers only read ``max_tokens``. So the
compatible backend renames it in every request, including per-call overrides.

``langchain_openai`` takes about two seconds to import, so it is imported on
first use, not when :mod:`storebot.llm` is.

Example:
    >>> spec = BackendSpec(backend="openai-compatible", model="llama3.2", base_url="http://localhost:11434/v1")
    >>> llm = create_openai_compatible_model(spec)        # doctest: +SKIP
    >>> llm.invoke("Say hi").content                       # doctest: +SKIP
    'Hi!'
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from langchain_core.language_models import BaseChatModel

from storebot.llm.base import BackendSpec, Capabilities, LLMUnavailable

OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
PLACEHOLDER_KEY = "no-key"
DEFAULT_MAX_RETRIES = 1

OPENAI_CAPABILITIES = Capabilities(condense=True, follows_instructions=True, context_window=128_000)
# Unknown model behind the URL: assume a capable chat model; a store overrides via extra["capabilities"].
COMPATIBLE_CAPABILITIES = Capabilities(condense=True, follows_instructions=True, context_window=8192)


def create_openai_model(spec: BackendSpec) -> BaseChatModel:
    """The ``openai`` backend's factory.

    Raises:
        LLMUnavailable: no API key in the spec.
    """
    if not spec.api_key:
        raise LLMUnavailable(
            "No OpenAI key found.",
            fix="Set OPENAI_API_KEY, or choose the local backend with STOREBOT_LLM_BACKEND=local.",
        )
    from langchain_openai import ChatOpenAI

    options = spec.model_kwargs()
    return ChatOpenAI(
        model=spec.model or DEFAULT_OPENAI_MODEL,
        api_key=spec.api_key,
        base_url=spec.base_url or OPENAI_BASE_URL,
        timeout=spec.timeout,
        max_retries=int(options.pop("max_retries", DEFAULT_MAX_RETRIES)),
        max_tokens=spec.max_tokens,  # sent as max_completion_tokens, which OpenAI expects
        temperature=spec.temperature,
        stream_usage=options.pop("stream_usage", True),
        **options,
    )


def create_openai_compatible_model(spec: BackendSpec) -> BaseChatModel:
    """The ``openai-compatible`` backend's factory.

    Raises:
        LLMUnavailable: no base URL or no model name in the spec.
    """
    if not spec.base_url:
        raise LLMUnavailable(
            "The openai-compatible LLM backend needs the URL of the server.",
            fix="Set STOREBOT_LLM_BASE_URL (or the store's llm_base_url), e.g. http://localhost:11434/v1 for Ollama.",
        )
    if not spec.model:
        raise LLMUnavailable(
            f"The openai-compatible LLM backend needs the name of a model served at {spec.base_url}.",
            fix="Set STOREBOT_LLM_MODEL (or the store's llm_model), e.g. llama3.2 for Ollama.",
        )
    options = spec.model_kwargs()
    return _compatible_model_class()(
        model=spec.model,
        api_key=spec.api_key or PLACEHOLDER_KEY,
        base_url=spec.base_url,
        timeout=spec.timeout,
        max_retries=int(options.pop("max_retries", DEFAULT_MAX_RETRIES)),
        max_tokens=spec.max_tokens,
        temperature=spec.temperature,
        use_responses_api=False,  # most compatible servers speak only Chat Completions
        **options,
    )


@functools.cache
def _compatible_model_class() -> type[BaseChatModel]:
    from langchain_openai import ChatOpenAI

    class OpenAICompatibleChatModel(ChatOpenAI):
        """``ChatOpenAI`` that sends the token limit as ``max_tokens``, the name every server reads.

        Example:
            >>> llm = OpenAICompatibleChatModel(model="llama3.2", base_url="http://localhost:11434/v1",
            ...                                 api_key="no-key", max_tokens=64)  # doctest: +SKIP
        """

        def _get_request_payload(self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any) -> dict:
            payload = super()._get_request_payload(input_, stop=stop, **kwargs)
            if "max_completion_tokens" in payload:
                payload["max_tokens"] = payload.pop("max_completion_tokens")
            return payload

    return OpenAICompatibleChatModel


def translate_error(exc: BaseException, spec: BackendSpec) -> LLMUnavailable | None:
    """An :class:`LLMUnavailable` with the fix for an ``openai`` client error; None for others."""
    openai = sys.modules.get("openai")  # not imported means the error cannot be one of its own
    if openai is None or not isinstance(exc, openai.OpenAIError):
        return None
    compatible = spec.backend != "openai"
    url = spec.base_url or OPENAI_BASE_URL
    local = "or choose the local backend with STOREBOT_LLM_BACKEND=local."
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable(
            f"The LLM server at {url} did not answer within {spec.timeout:g} s.",
            fix=f"Raise STOREBOT_LLM_TIMEOUT, check the server at {url}, {local}",
        )
    if isinstance(exc, openai.APIConnectionError):
        where = "STOREBOT_LLM_BASE_URL (or the store's llm_base_url)"
        fix = (
            f"Start the server at {url} (for Ollama: `ollama serve`) or set {where} to where it listens, {local}"
            if compatible
            else f"Check this machine's connection to {url}, {local}"
        )
        return LLMUnavailable(f"Could not connect to the LLM server at {url}: {exc}", fix=fix)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        fix = (
            "Set STOREBOT_LLM_API_KEY (or the store's llm_api_key) to a key the server accepts."
            if compatible
            else f"Set OPENAI_API_KEY to a valid key from your OpenAI account, {local}"
        )
        return LLMUnavailable(f"The LLM server at {url} refused the API key ({exc.status_code}).", fix=fix)
    if isinstance(exc, openai.NotFoundError):
        return LLMUnavailable(
            f"The LLM server at {url} has no model {spec.model or DEFAULT_OPENAI_MODEL!r} (404).",
            fix="Set STOREBOT_LLM_MODEL to a model the server serves (for Ollama: `ollama pull NAME`) "
            "and check that the base URL ends in /v1.",
        )
    if isinstance(exc, openai.RateLimitError):
        return LLMUnavailable(
            f"The LLM server at {url} is rate-limiting requests or the account is out of quota.",
            fix=f"Wait and retry, check the account's quota and billing, {local}",
        )
    if isinstance(exc, openai.APIStatusError):
        return LLMUnavailable(
            f"The LLM server at {url} answered {exc.status_code}: {exc.message}",
            fix=f"Check the server's logs and the model settings (STOREBOT_LLM_MODEL), {local}",
        )
    return None
