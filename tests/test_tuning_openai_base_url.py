"""A fine-tune trained at an OpenAI-compatible endpoint (TUNING_OPENAI_BASE_URL) is served from there once
promoted: the version records the URL, promotion sets the store's llm_base_url (allow-list permitting), and
rollback takes it away. The fine-tuning job runs with the real openai client against the HTTP test double."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from storebot.llm.registry import spec_for_store
from storebot.services import Services
from storebot.tuning.models import trained_at
from storebot.tuning.pipeline import _train_openai, dataset_for, models_for, runs_for, start_run
from tests.fake_openai_finetune import FakeOpenAIFineTuneServer
from tests.test_tuning_pipeline import approve_style


def chat_spec(services: Services, store_id: str) -> Any:
    return spec_for_store(services.stores.get(store_id).settings, services.settings)


def add_openai_version(services: Services, store_id: str, base_url: str) -> str:
    return str(
        models_for(services, store_id).add(
            backend="openai", base_model="gpt-4o-mini-2024-07-18", model="ft:gpt-4o-mini-2024-07-18:acme::x1",
            data_hash="ab12", hyperparameters={}, metrics={}, base_url=base_url,
        )["version"]
    )  # fmt: skip


def test_a_promoted_fine_tune_is_served_from_the_endpoint_it_was_trained_at(
    client: FlaskClient, services: Services, store: tuple[str, str], auth: dict[str, str]
) -> None:
    store_id = store[0]
    approve_style(services, store_id)
    with FakeOpenAIFineTuneServer("succeeded") as server:
        services.settings.update(
            OPENAI_API_KEY="sk-test",
            TUNING_OPENAI_BASE_URL=server.base_url,
            TUNING_OPENAI_POLL_SECONDS=0.01,
            LLM_BASE_URL_ALLOWLIST=f"api.openai.com, {server.base_url}",
        )
        run_id = start_run(services, store_id, backend="openai")
        # The pipeline's training step (run_tuning would go on to evaluate with real chat models).
        version = _train_openai(
            services, store_id, run_id, dataset_for(services, store_id, "openai"), runs_for(services, store_id)
        )
    record = models_for(services, store_id).get(version)
    assert record["base_url"] == server.base_url and record["model"].startswith("ft:gpt-4o-mini")
    assert chat_spec(services, store_id).base_url == ""

    promoted = client.post(f"/api/v1/models/{version}/promote", headers=auth)
    assert promoted.status_code == 200 and promoted.get_json()["status"] == "active"
    spec = chat_spec(services, store_id)
    assert (spec.backend, spec.model, spec.base_url) == ("openai", record["model"], server.base_url)
    assert spec.api_key == "sk-test"  # the key the fine-tuning endpoint was already given, not none

    back = client.post("/api/v1/models/rollback", headers=auth).get_json()
    assert back == {"active": None, "retired": version}
    assert "llm_base_url" not in services.stores.get(store_id).settings
    spec = chat_spec(services, store_id)
    assert spec.base_url == "" and spec.backend == "local"


def test_promotion_fails_clearly_when_the_tuning_endpoint_is_not_allowed(
    client: FlaskClient, services: Services, store: tuple[str, str], auth: dict[str, str]
) -> None:
    store_id = store[0]
    version = add_openai_version(services, store_id, "http://10.1.2.3:8000/v1")
    refused = client.post(f"/api/v1/models/{version}/promote", headers=auth)
    error = refused.get_json()["error"]
    assert refused.status_code == 403 and error["code"] == "llm_url_not_allowed"
    assert "http://10.1.2.3:8000/v1" in error["message"] and "STOREBOT_LLM_BASE_URL_ALLOWLIST" in error["fix"]
    models = models_for(services, store_id)
    assert models.active() is None and models.get(version)["status"] == "candidate"
    assert "llm_backend" not in services.stores.get(store_id).settings  # nothing was applied


def test_openai_itself_records_no_url_and_rollback_restores_the_stores_own(
    client: FlaskClient, services: Services, store: tuple[str, str], auth: dict[str, str]
) -> None:
    assert trained_at("https://api.openai.com/v1/") == "" and trained_at("") == ""
    store_id = store[0]
    own, tuning = "http://llm.internal:8080/v1", "http://ft.internal:9000/v1"
    services.settings.update(LLM_BASE_URL_ALLOWLIST=f"{own}, {tuning}", TUNING_OPENAI_BASE_URL=tuning)
    found = services.stores.get(store_id)
    found.settings.update(llm_backend="openai-compatible", llm_base_url=own, llm_api_key="sk-own")
    services.stores.save(found)

    plain = add_openai_version(services, store_id, "https://api.openai.com/v1")
    remote = add_openai_version(services, store_id, tuning)
    assert "base_url" not in models_for(services, store_id).get(plain)
    client.post(f"/api/v1/models/{plain}/promote", headers=auth)
    assert "llm_base_url" not in services.stores.get(store_id).settings  # OpenAI's default endpoint
    client.post(f"/api/v1/models/{remote}/promote", headers=auth)
    assert chat_spec(services, store_id).base_url == tuning
    assert chat_spec(services, store_id).api_key == "sk-own"  # the store's own key still wins

    assert client.post("/api/v1/models/rollback", headers=auth).get_json()["active"] == plain
    assert chat_spec(services, store_id).base_url == ""
    assert client.post("/api/v1/models/rollback", headers=auth).get_json()["active"] is None
    spec = chat_spec(services, store_id)
    assert (spec.backend, spec.base_url, spec.api_key) == ("openai-compatible", own, "sk-own")
