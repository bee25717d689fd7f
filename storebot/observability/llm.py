"""A LangChain callback handler that feeds chat-model calls into the Prometheus metrics.

It is attached to each chat model when the LLM registry builds it (:func:`storebot.llm.registry.on_model_built`),
so the domain never imports prometheus.

Example:
    >>> from storebot.llm.registry import on_model_built
    >>> on_model_built(attach_metrics)  # once per process; app.py does it
"""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import LLMResult

from storebot.observability.metrics import LLM_ERRORS, LLM_LATENCY, LLM_TOKENS


class PrometheusCallbackHandler(BaseCallbackHandler):
    """Counts prompt and completion tokens, and times each call, per backend.

    Tokens come from the model's ``usage_metadata`` when it reports them; otherwise each streamed
    chunk counts as one completion token.

    Example:
        >>> model.callbacks = [PrometheusCallbackHandler("local")]  # doctest: +SKIP
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._lock = threading.Lock()
        self._runs: dict[UUID, list[float]] = {}  # run id -> [started, streamed chunks]

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            self._runs[run_id] = [time.perf_counter(), 0]

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            if run_id in self._runs:
                self._runs[run_id][1] += 1

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            started, chunks = self._runs.pop(run_id, [time.perf_counter(), 0])
        LLM_LATENCY.labels(self.backend).observe(time.perf_counter() - started)
        prompt, completion = _usage(response)
        if completion is None:
            completion = int(chunks)
        if prompt:
            LLM_TOKENS.labels(self.backend, "prompt").inc(prompt)
        if completion:
            LLM_TOKENS.labels(self.backend, "completion").inc(completion)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            started, _ = self._runs.pop(run_id, [time.perf_counter(), 0])
        LLM_LATENCY.labels(self.backend).observe(time.perf_counter() - started)
        LLM_ERRORS.labels(self.backend).inc()


def _usage(response: LLMResult) -> tuple[int, int | None]:
    prompt, completion, found = 0, 0, False
    for generations in response.generations:
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if usage:
                found = True
                prompt += int(usage.get("input_tokens") or 0)
                completion += int(usage.get("output_tokens") or 0)
    return prompt, (completion if found else None)


def attach_metrics(model: BaseChatModel, backend: str) -> None:
    """Add the metrics handler to a freshly built chat model (once)."""
    callbacks = list(model.callbacks or []) if isinstance(model.callbacks, list | type(None)) else None
    if callbacks is None or any(isinstance(c, PrometheusCallbackHandler) for c in callbacks):
        return
    model.callbacks = [*callbacks, PrometheusCallbackHandler(backend)]
