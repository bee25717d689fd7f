"""The SSRF guard on a store's own LLM endpoint: checked when saved and when the backend spec is built."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from storebot.cli import cli
from storebot.config import load_settings
from storebot.llm.registry import spec_for_store
from storebot.llm.urls import LLMURLNotAllowed, allowlist, check_base_url, is_allowed


def test_default_allowlist_is_openai_plus_the_global_endpoint() -> None:
    settings = load_settings({"LLM_BASE_URL": "http://ollama.internal:11434/v1"}, environ={})
    entries = allowlist(settings)
    assert entries == ["api.openai.com", "http://ollama.internal:11434/v1"]
    assert is_allowed("https://api.openai.com/v1", entries)
    assert is_allowed("http://ollama.internal:11434/v1", entries)
    assert is_allowed("http://ollama.internal:11434/v1/", entries)
    for url in (
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://localhost:6379/",  # the deployment's own Redis
        "http://127.0.0.1:8000/api/v1/products",
        "http://ollama.internal:11434/v1evil",  # a prefix must end at a path boundary
        "http://ollama.internal:8080/v1",  # same host, other port
        "https://ollama.internal:11434/v1",  # other scheme
        "http://api.openai.com@evil.example/v1",  # credentials trick: the host is evil.example
        "https://api.openai.com.evil.example/v1",
        "file:///etc/passwd",
        "gopher://api.openai.com/",
        "http://[::1",
        "not a url",
    ):
        assert not is_allowed(url, entries), url


def test_the_default_allowlist_also_holds_the_operators_fine_tuning_endpoint() -> None:
    settings = load_settings({"TUNING_OPENAI_BASE_URL": "http://vllm.internal:8000/v1"}, environ={})
    assert allowlist(settings) == ["api.openai.com", "http://vllm.internal:8000/v1"]
    assert is_allowed("http://vllm.internal:8000/v1", allowlist(settings))  # a promoted fine-tune is served there
    same = load_settings({"LLM_BASE_URL": "http://vllm.internal:8000/v1",
                          "TUNING_OPENAI_BASE_URL": "http://vllm.internal:8000/v1"}, environ={})  # fmt: skip
    assert allowlist(same) == ["api.openai.com", "http://vllm.internal:8000/v1"]
    explicit = load_settings({"TUNING_OPENAI_BASE_URL": "http://vllm.internal:8000/v1",
                              "LLM_BASE_URL_ALLOWLIST": "api.openai.com"}, environ={})  # fmt: skip
    assert not is_allowed("http://vllm.internal:8000/v1", allowlist(explicit))  # an explicit list is the whole list


def test_hosts_ports_and_wildcard() -> None:
    assert is_allowed("http://llm.example:9000/v1", ["llm.example"])
    assert is_allowed("http://LLM.example.:9000/v1", ["llm.example:9000"])
    assert not is_allowed("http://llm.example:9001/v1", ["llm.example:9000"])
    assert is_allowed("https://llm.example/v1", ["llm.example:443"])
    assert is_allowed("http://anything.example/v1", ["*"])
    assert not is_allowed("ftp://anything.example/v1", ["*"])


def test_check_raises_a_403_with_a_fix() -> None:
    settings = load_settings({"LLM_BASE_URL_ALLOWLIST": "llm.example"}, environ={})
    assert check_base_url("http://llm.example/v1", settings) == "http://llm.example/v1"
    with pytest.raises(LLMURLNotAllowed) as info:
        check_base_url("http://10.0.0.5/v1", settings)
    assert info.value.status == 403 and "STOREBOT_LLM_BASE_URL_ALLOWLIST" in info.value.fix
    assert info.value.to_dict()["error"]["code"] == "llm_url_not_allowed"


def test_spec_for_store_checks_the_url_each_time_the_backend_is_built() -> None:
    store = {"llm_backend": "openai-compatible", "llm_base_url": "http://10.1.2.3:8080/v1", "llm_model": "m"}
    with pytest.raises(LLMURLNotAllowed):
        spec_for_store(store, load_settings({}, environ={}))
    # The operator allows it: the same store now works; removing it again takes effect at once.
    allowed = load_settings({"LLM_BASE_URL_ALLOWLIST": "http://10.1.2.3:8080/v1"}, environ={})
    assert spec_for_store(store, allowed).base_url == "http://10.1.2.3:8080/v1"
    with pytest.raises(LLMURLNotAllowed):
        spec_for_store(store, load_settings({"LLM_BASE_URL_ALLOWLIST": "other.example"}, environ={}))
    # The global endpoint (operator-configured) needs no allow-listing.
    spec = spec_for_store({}, load_settings({"LLM_BASE_URL": "http://10.9.9.9/v1"}, environ={}))
    assert spec.base_url == "http://10.9.9.9/v1"


def test_store_config_refuses_a_url_off_the_allowlist(runner: CliRunner) -> None:
    created = runner.invoke(cli, ["store", "create", "Url Shop"])
    assert created.exit_code == 0, created.output
    bad = runner.invoke(cli, ["store", "config", "url-shop", "llm_base_url=http://169.254.169.254/latest"])
    assert bad.exit_code == 1 and "allow-list" in bad.output and "Traceback" not in bad.output
    shown = runner.invoke(cli, ["store", "config", "url-shop"])
    assert "llm_base_url = (default)" in shown.output
    good = runner.invoke(cli, ["store", "config", "url-shop", "llm_base_url=https://api.openai.com/v1"])
    assert good.exit_code == 0 and "llm_base_url = https://api.openai.com/v1" in good.output
