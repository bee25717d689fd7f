"""Fine-tuning runs without training a model: OpenAI jobs against the HTTP test double, the gate, the registry
(promote, rollback), the beat schedule's skip-or-run decision and the manual trigger on a real worker."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from storebot.cli import cli
from storebot.errors import ConfigError
from storebot.llm.registry import spec_for_store
from storebot.services import Services
from storebot.tasks.tuning import parse_crontab, schedule
from storebot.tuning.evaluation import Score, decide, load_probes, score_model, style_prompts
from storebot.tuning.openai_job import OpenAIFineTuneFailed, OpenAIFineTuner
from storebot.tuning.pipeline import models_for, queue_for, run_tuning, runs_for, scheduled_check, start_run
from tests.fake_openai_finetune import FakeOpenAIFineTuneServer

STYLE = [
    ("Do you have tents?", "We do! Our two-person tents are light. Shall I compare two?"),
    ("Any rain jackets?", "Yes, our shells have taped seams. Would you like me to check your size?"),
    ("Do you ship to Hawaii?", "We do, by standard shipping. Want the delivery time?"),
    ("Warm socks?", "Our merino socks are cosy and fresh. Shall I suggest a cushioned pair?"),
    ("Headlamps?", "The Trail 250 is bright and light. Would you like spare batteries too?"),
    ("Sleeping bags?", "Our down bags are the warmest. Shall I show the three-season ones?"),
]


def approve_style(services: Services, store_id: str, pairs: list[tuple[str, str]] = STYLE) -> None:
    queue = queue_for(services, store_id)
    for q, a in pairs:
        queue.add(
            [{"role": "user", "content": q}, {"role": "assistant", "content": a}], source="style", status="approved"
        )


# -- OpenAI, with the real client against the HTTP test double --------------------------------------------------


def test_an_openai_job_uploads_openai_jsonl_sends_hyperparameters_and_returns_the_model() -> None:
    with FakeOpenAIFineTuneServer("succeeded") as server:
        tuner = OpenAIFineTuner(
            api_key="sk-test",
            base_model="gpt-4o-mini-2024-07-18",
            base_url=server.base_url,
            poll_seconds=0.01,
            suffix="acme",
        )
        stages: list[str] = []
        outcome = tuner.run(
            '{"messages": [{"role": "user", "content": "hi"}]}\n',
            '{"messages": []}\n',
            {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 1.5, "junk": 1},
            progress=lambda stage, _f: stages.append(stage),
        )
    assert outcome.status == "succeeded" and outcome.model.startswith("ft:gpt-4o-mini-2024-07-18:acme::")
    assert [u.body for u in server.uploads] == [
        '{"messages": [{"role": "user", "content": "hi"}]}\n',
        '{"messages": []}\n',
    ]
    created = next(r.body for r in server.requests if r.path == "/v1/fine_tuning/jobs")
    assert created["method"]["supervised"]["hyperparameters"] == {
        "n_epochs": 2,
        "batch_size": 4,
        "learning_rate_multiplier": 1.5,
    }
    assert created["validation_file"] and created["suffix"] == "acme"
    assert any("running" in s for s in stages) and outcome.events[-1]["message"] == "Job succeeded"


@pytest.mark.parametrize(("outcome", "words"), [("failed", "too few examples"), ("cancelled", "cancelled")])
def test_failed_and_cancelled_openai_jobs_raise_with_the_reason_and_events(outcome: str, words: str) -> None:
    with FakeOpenAIFineTuneServer(outcome) as server:
        tuner = OpenAIFineTuner(
            api_key="sk-test", base_model="gpt-4o-mini-2024-07-18", base_url=server.base_url, poll_seconds=0.01
        )
        with pytest.raises(OpenAIFineTuneFailed) as caught:
            tuner.run('{"messages": []}\n', "", {"n_epochs": 1})
    assert words in caught.value.message and caught.value.fix
    assert caught.value.details["status"] == outcome and caught.value.details["events"]
    assert len(server.uploads) == 1  # no validation split: only the training file


def test_a_failed_openai_run_is_recorded_and_registers_no_model(services: Services, store: tuple[str, str]) -> None:
    approve_style(services, store[0])
    with FakeOpenAIFineTuneServer("failed") as server:
        services.settings.update(
            OPENAI_API_KEY="sk-test", TUNING_OPENAI_BASE_URL=server.base_url, TUNING_OPENAI_POLL_SECONDS=0.01
        )
        run = run_tuning(services, store[0], start_run(services, store[0], backend="openai"))
    assert run["state"] == "failed" and "Training file has too few examples" in run["message"]
    assert run["error"]["code"] == "fine_tune_failed" and run["dataset"]["splits"]["train"] >= 2
    assert models_for(services, store[0]).listing() == {"active": None, "items": []}


def test_malformed_training_data_fails_the_run_naming_the_example_and_nothing_is_sent(
    services: Services, store: tuple[str, str]
) -> None:
    approve_style(services, store[0])
    bad = queue_for(services, store[0]).add(
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}],
        source="style",
        status="approved",
        scrubbed=True,
    )
    assert bad is not None
    with FakeOpenAIFineTuneServer("succeeded") as server:
        services.settings.update(OPENAI_API_KEY="sk-test", TUNING_OPENAI_BASE_URL=server.base_url)
        run = run_tuning(services, store[0], start_run(services, store[0], backend="openai"))
    assert run["state"] == "failed"
    assert f"example {bad['id']}" in run["message"] and "message 2 (assistant) is empty" in run["message"]
    assert run["error"]["details"] == [{"example": bad["id"], "reason": "message 2 (assistant) is empty"}]
    assert server.requests == []  # nothing left the machine


# -- the gate -------------------------------------------------------------------------------------------------


def test_the_gate_refuses_a_worse_candidate_and_a_grounding_regression(embedder: Any) -> None:
    probes = load_probes()
    prompts = style_prompts([], probes, "You are the shopping assistant of Acme.")
    references = {p.question: p.reference for p in probes}

    def current(messages: list[dict[str, str]]) -> str:
        return references[messages[-1]["content"]]

    def worse(messages: list[dict[str, str]]) -> str:
        return "PRODUCT LIST. Item A [price]. Item B [price]. Buy now. Buy now. Buy now."

    good, bad = (
        score_model(current, prompts, embedder.embed_documents, 0),
        score_model(worse, prompts, embedder.embed_documents, 0),
    )
    assert good.style > 0.99 and good.format == 1.0 and bad.format == 0.0 and bad.style < 0.5
    refused = decide(bad, good)
    assert not refused.promote and "not better" in refused.reasons[0]
    assert decide(good, bad).promote
    regression = decide(Score(style=0.9, format=1.0, grounding=3), Score(style=0.5, format=0.5, grounding=1))
    assert not regression.promote and "regression" in regression.reasons[1]
    assert refused.to_dict()["candidate"]["quality"] < refused.to_dict()["current"]["quality"]


# -- the registry -----------------------------------------------------------------------------------------------


def add_version(services: Services, store_id: str, adapter: str) -> str:
    return str(
        models_for(services, store_id).add(
            backend="local",
            base_model="SmolLM2",
            model="",
            adapter=adapter,
            data_hash="abc",
            hyperparameters={"rank": 8},
            metrics={"best_val_loss": 1.0},
        )["version"]
    )


def test_promote_and_rollback_switch_the_model_the_chat_uses(
    client: FlaskClient, services: Services, store: tuple[str, str], auth: dict[str, str], runner: CliRunner
) -> None:
    store_id = store[0]

    def chat_spec() -> Any:
        return spec_for_store(services.stores.get(store_id).settings, services.settings)

    assert "lora_path" not in chat_spec().extra
    v1, v2 = add_version(services, store_id, "/adapters/a.gguf"), add_version(services, store_id, "/adapters/b.gguf")
    listing = client.get("/api/v1/models", headers=auth).get_json()
    assert listing["active"] is None and [i["version"] for i in listing["items"]] == [v2, v1]
    assert set(listing["items"][0]) >= {
        "version",
        "backend",
        "base_model",
        "model",
        "adapter",
        "status",
        "data_hash",
        "hyperparameters",
        "metrics",
        "created_at",
    }
    assert client.post(f"/api/v1/models/{v1}/promote", headers=auth).get_json()["status"] == "active"
    assert chat_spec().extra["lora_path"] == "/adapters/a.gguf"
    promoted = runner.invoke(cli, ["tune", "promote", v2, "--store", store_id])
    assert promoted.exit_code == 0, promoted.output
    assert chat_spec().extra["lora_path"] == "/adapters/b.gguf"
    statuses = {i["version"]: i["status"] for i in client.get("/api/v1/models", headers=auth).get_json()["items"]}
    assert statuses == {v1: "retired", v2: "active"}

    back = client.post("/api/v1/models/rollback", headers=auth).get_json()
    assert back == {"active": v1, "retired": v2}
    assert chat_spec().extra["lora_path"] == "/adapters/a.gguf"
    listed = runner.invoke(cli, ["tune", "models", "--store", store_id])
    assert f"* {v1}" in listed.output
    to_base = runner.invoke(cli, ["tune", "rollback", "--store", store_id])
    assert to_base.exit_code == 0 and "the base model" in to_base.output
    assert "lora_path" not in chat_spec().extra and "llm_adapter" not in services.stores.get(store_id).settings
    nothing = client.post("/api/v1/models/rollback", headers=auth)
    assert nothing.status_code == 409 and nothing.get_json()["error"]["fix"]
    assert client.post("/api/v1/models/v99/promote", headers=auth).status_code == 404


# -- the schedule and the manual trigger -------------------------------------------------------------------------


def test_the_beat_entry_follows_the_setting() -> None:
    entry = schedule({"TUNING_SCHEDULE": "0 3 * * 1"})["tuning-check"]
    assert entry["task"] == "storebot.tuning_scheduled"
    assert entry["schedule"] == parse_crontab("0 3 * * 1") and 1 in entry["schedule"].day_of_week
    assert schedule({"TUNING_SCHEDULE": "off"}) == {}
    with pytest.raises(ConfigError):
        parse_crontab("every monday")


def test_the_schedule_skips_with_a_reason_until_enough_new_examples_then_runs(
    app: Flask, services: Services, store: tuple[str, str], celery_worker: object
) -> None:
    store_id = store[0]
    services.settings["TUNING_MIN_NEW_EXAMPLES"] = 4
    approve_style(services, store_id, STYLE[:3])
    result = app.extensions["celery"].send_task("storebot.tuning_scheduled").get(timeout=60)
    assert result[store_id]["state"] == "skipped"
    skipped = runs_for(services, store_id).get(result[store_id]["run_id"])
    assert skipped["state"] == "skipped" and "3 new approved example(s)" in skipped["message"]
    assert "4 needed" in skipped["message"]

    approve_style(services, store_id, STYLE[3:])
    decision = scheduled_check(services, store_id)
    assert decision["state"] == "queued" and "6 new approved example(s)" in decision["reason"]
    busy = scheduled_check(services, store_id)
    assert busy["state"] == "skipped" and "still in progress" in busy["reason"]
    runs_for(services, store_id).finish(decision["run_id"], "failed", "test")
    runs_for(services, store_id).mark_ran(time.time())
    after = scheduled_check(services, store_id)
    assert after["state"] == "skipped" and after["reason"].startswith("0 new approved")


def test_the_manual_trigger_queues_a_run_whose_status_a_worker_updates(
    client: FlaskClient, services: Services, store: tuple[str, str], auth: dict[str, str], celery_worker: object
) -> None:
    response = client.post("/api/v1/tuning/runs", headers=auth, json={"backend": "local"})
    assert response.status_code == 202
    run_id = response.get_json()["run"]["id"]
    assert response.get_json()["links"]["self"] == f"/api/v1/tuning/runs/{run_id}"
    deadline = time.monotonic() + 60
    run = client.get(f"/api/v1/tuning/runs/{run_id}", headers=auth).get_json()
    while run["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        run = client.get(f"/api/v1/tuning/runs/{run_id}", headers=auth).get_json()
    assert run["state"] == "failed" and "Only 0 training example(s)" in run["message"]  # no data yet: a clear reason
    assert run["progress"] == 1.0 and run["error"]["fix"]
    assert [r["id"] for r in client.get("/api/v1/tuning/runs", headers=auth).get_json()["items"]] == [run_id]
    bad = client.post("/api/v1/tuning/runs", headers=auth, json={"backend": "gpt"})
    assert bad.status_code == 400 and "local, openai" in bad.get_json()["error"]["fix"]
    assert json.loads(json.dumps(run))["decision"] is None


def test_a_missing_adapter_file_is_a_clear_error_not_a_crash(tmp_path: Any) -> None:
    from storebot.llm.base import BackendSpec, LLMUnavailable
    from storebot.llm.local import create_local_model

    spec = spec_for_store({"llm_adapter": str(tmp_path / "gone.gguf")}, {"LLM_BACKEND": "local"})
    assert spec.extra == {"lora_path": str(tmp_path / "gone.gguf")}
    with pytest.raises(LLMUnavailable) as caught:
        create_local_model(spec)
    assert "gone.gguf" in caught.value.message and "rollback" in caught.value.fix
    assert "lora_path" not in spec_for_store({"llm_adapter": "/a.gguf", "llm_backend": "openai"}, {}).extra
    assert create_local_model(BackendSpec(backend="local")).lora_path == ""
