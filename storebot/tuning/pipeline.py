"""The fine-tuning pipeline of one store: data -> training (local LoRA or OpenAI) -> gate -> registry.

:func:`run_tuning` runs one recorded run end to end and is idempotent (a
finished run is returned as it is). :func:`scheduled_check` is what the weekly
beat entry does per store: start a run when enough new examples were
approved since the last one, or record why it skipped.

Example:
    >>> run_id = start_run(services, "demo", trigger="manual", backend="local")  # doctest: +SKIP
    >>> run_tuning(services, "demo", run_id)["decision"]["promote"]            # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from storebot.errors import StorebotError
from storebot.llm.local import BUNDLED_FILE
from storebot.llm.registry import get_llm, spec_for_store
from storebot.tuning.dataset import DEFAULT_TOKEN_LIMIT, TOKEN_LIMITS, Dataset, DatasetError, build_dataset
from storebot.tuning.evaluation import Score, decide, load_probes, score_model, style_prompts
from storebot.tuning.examples import ExampleQueue
from storebot.tuning.models import LLM_FIELDS, ModelRegistry
from storebot.tuning.runs import RunStore

log = logging.getLogger(__name__)

BACKENDS = ("local", "openai")
EVAL_MAX_TOKENS = 48  # the store voice answers in one or two sentences


def queue_for(services: Any, store_id: str) -> ExampleQueue:
    return ExampleQueue(services.redis, services.keys(store_id))


def runs_for(services: Any, store_id: str) -> RunStore:
    return RunStore(services.redis, services.keys(store_id))


def models_for(services: Any, store_id: str) -> ModelRegistry:
    return ModelRegistry(services.redis, services.keys(store_id), services.stores, services.settings)


def token_limit(settings: dict[str, Any], backend: str) -> int:
    model = "local" if backend == "local" else str(settings["TUNING_OPENAI_MODEL"])
    return TOKEN_LIMITS.get(model, DEFAULT_TOKEN_LIMIT)


def dataset_for(services: Any, store_id: str, backend: str = "") -> Dataset:
    """The store's approved examples as a validated, split training set."""
    settings = services.settings
    backend = backend or str(settings["TUNING_BACKEND"])
    queue = queue_for(services, store_id)
    return build_dataset(
        queue.approved(), limit=token_limit(settings, backend), price_per_mtok=float(settings["TUNING_PRICE_PER_MTOK"])
    )


def start_run(services: Any, store_id: str, *, trigger: str = "manual", backend: str = "") -> str:
    """Record a queued run (the caller queues the task or runs it)."""
    services.stores.get(store_id)
    backend = backend or str(services.settings["TUNING_BACKEND"])
    if backend not in BACKENDS:
        raise StorebotError(f"Unknown fine-tuning backend {backend!r}.", fix=f"Use one of: {', '.join(BACKENDS)}.")
    return runs_for(services, store_id).create(trigger=trigger, backend=backend)


def schedule_decision(services: Any, store_id: str) -> tuple[bool, str]:
    """Whether the schedule should start a run for the store now, and why (not)."""
    queue, runs = queue_for(services, store_id), runs_for(services, store_id)
    queue.sync_feedback()
    needed = int(services.settings["TUNING_MIN_NEW_EXAMPLES"])
    new = queue.approved_since(runs.last_completed_at())
    busy = [r["id"] for r in runs.recent(5) if r["state"] in ("queued", "running")]
    if busy:
        return False, f"run {busy[0]} is still in progress"
    if new < needed:
        return (
            False,
            f"{new} new approved example(s) since the last run; {needed} needed (STOREBOT_TUNING_MIN_NEW_EXAMPLES)",
        )
    return True, f"{new} new approved example(s) since the last run (at least {needed})"


def scheduled_check(services: Any, store_id: str) -> dict[str, Any]:
    """The beat entry's work for one store: a queued run, or a skipped one that records why."""
    go, reason = schedule_decision(services, store_id)
    runs = runs_for(services, store_id)
    backend = str(services.settings["TUNING_BACKEND"])
    if go:
        return {
            "run_id": runs.create(trigger="schedule", backend=backend, message=reason),
            "state": "queued",
            "reason": reason,
        }
    run_id = runs.create(trigger="schedule", backend=backend, state="skipped", message=reason)
    return {"run_id": run_id, "state": "skipped", "reason": reason}


def run_tuning(services: Any, store_id: str, run_id: str) -> dict[str, Any]:
    """Run ``run_id``: build the data, train, evaluate, register, and promote if the gate says so."""
    runs = runs_for(services, store_id)
    run = runs.get(run_id)
    if run["state"] in ("succeeded", "failed", "skipped"):
        return run
    started = time.time()
    runs.update(run_id, state="running", stage="dataset", progress=0.0, message="")
    try:
        queue_for(services, store_id).sync_feedback()
        dataset = dataset_for(services, store_id, run["backend"])
        runs.update(run_id, dataset=dataset.summary())
        if len(dataset.train) < 2:
            raise DatasetError(
                f"Only {len(dataset.train)} training example(s) are approved.",
                fix="Approve or upload more examples (at least ten is sensible).",
            )
        train = _train_local if run["backend"] == "local" else _train_openai
        version = train(services, store_id, run_id, dataset, runs)
        runs.progress(run_id, "evaluating", 0.9)
        models = models_for(services, store_id)
        decision = evaluate(
            services, store_id, dataset, models.spec_settings(version), models.spec_settings(models.active())
        )
        metrics = models.get(version)["metrics"] | {"gate": decision.candidate, "current": decision.current}
        models.update(version, metrics=metrics, decision=decision.to_dict())
        if decision.promote and services.settings["TUNING_AUTO_PROMOTE"]:
            models.promote(version, reason="gate: " + "; ".join(decision.reasons))
            message = f"{version} promoted: " + "; ".join(decision.reasons)
        elif decision.promote:
            message = f"{version} passed the gate; promote it by hand (auto-promotion is off)"
        else:
            models.update(version, status="rejected")
            message = f"{version} rejected: " + "; ".join(decision.reasons)
        runs.mark_ran(started)
        runs.finish(run_id, "succeeded", message, version=version, metrics=metrics, decision=decision.to_dict())
    except StorebotError as exc:
        log.warning("fine-tuning run %s of store %s failed: %s", run_id, store_id, exc)
        runs.finish(run_id, "failed", str(exc), error=exc.to_dict()["error"])
    except Exception as exc:  # a run must end with a state the merchant can read, whatever broke
        log.exception("fine-tuning run %s of store %s crashed", run_id, store_id)
        error = {
            "code": "internal_error",
            "message": f"{type(exc).__name__}: {exc}",
            "fix": "See the worker's log; run it again, or roll back if a version was promoted.",
        }
        runs.finish(run_id, "failed", error["message"], error=error)
    return runs.get(run_id)


def _train_local(services: Any, store_id: str, run_id: str, dataset: Dataset, runs: RunStore) -> str:
    from storebot.tuning.gguf_adapter import write_gguf_adapter
    from storebot.tuning.lora import LoraSettings, train_lora

    s = services.settings
    lora = LoraSettings(
        epochs=int(s["TUNING_EPOCHS"]),
        batch_size=int(s["TUNING_BATCH_SIZE"]),
        learning_rate=float(s["TUNING_LEARNING_RATE"]),
        max_steps=int(s["TUNING_MAX_STEPS"]),
        threads=int(s["TUNING_THREADS"]),
    )
    result = train_lora(
        dataset.train, dataset.validation, lora, progress=lambda stage, f: runs.progress(run_id, stage, 0.05 + 0.8 * f)
    )
    path = Path(services.data_dir).resolve() / "tuning" / store_id / f"{run_id}.gguf"
    adapter = write_gguf_adapter(result.state, alpha=lora.alpha, path=path)
    return str(
        models_for(services, store_id).add(
            backend="local",
            base_model=BUNDLED_FILE,
            model="",
            adapter=adapter,
            data_hash=dataset.data_hash,
            hyperparameters=lora.to_dict(),
            metrics=result.metrics(),
            run_id=run_id,
        )["version"]
    )


def _train_openai(services: Any, store_id: str, run_id: str, dataset: Dataset, runs: RunStore) -> str:
    from storebot.tuning.openai_job import OpenAIFineTuner

    s = services.settings
    tuner = OpenAIFineTuner(
        api_key=str(s["OPENAI_API_KEY"]),
        base_model=str(s["TUNING_OPENAI_MODEL"]),
        base_url=str(s["TUNING_OPENAI_BASE_URL"]),
        poll_seconds=float(s["TUNING_OPENAI_POLL_SECONDS"]),
        suffix=store_id,
    )
    hyper = {
        "n_epochs": int(s["TUNING_EPOCHS"]),
        "batch_size": int(s["TUNING_BATCH_SIZE"]),
        "learning_rate_multiplier": float(s["TUNING_LR_MULTIPLIER"]),
    }
    outcome = tuner.run(
        dataset.jsonl("train"),
        dataset.jsonl("validation"),
        hyper,
        progress=lambda stage, f: runs.progress(run_id, stage, 0.05 + 0.8 * f),
    )
    return str(
        models_for(services, store_id).add(
            backend="openai",
            base_model=str(s["TUNING_OPENAI_MODEL"]),
            model=outcome.model,
            data_hash=dataset.data_hash,
            hyperparameters=hyper,
            run_id=run_id,
            base_url=str(s["TUNING_OPENAI_BASE_URL"]),  # an OpenAI-compatible endpoint serves its own fine-tunes
            metrics={"job_id": outcome.job_id, "trained_tokens": outcome.trained_tokens, "events": outcome.events[-5:]},
        )["version"]
    )


class _StoresWithModel:
    """The store registry, except that one store answers with other ``llm_*`` settings (for probing a model)."""

    def __init__(self, stores: Any, store_id: str, llm_settings: dict[str, Any]) -> None:
        self.stores, self.store_id, self.llm_settings = stores, store_id, llm_settings

    def get(self, store_id: str) -> Any:
        store = self.stores.get(store_id)
        if store_id == self.store_id:
            store.settings = _store_llm_settings(store.settings, self.llm_settings)
        return store


def _store_llm_settings(store_settings: dict[str, Any], llm_settings: dict[str, Any]) -> dict[str, Any]:
    """The store's settings with its ``llm_*`` model fields replaced by ``llm_settings`` (empty ones removed)."""
    merged = {k: v for k, v in store_settings.items() if k not in LLM_FIELDS}
    return merged | {k: v for k, v in llm_settings.items() if v not in (None, "")}


def grounding_count(services: Any, store_id: str, llm_settings: dict[str, Any], questions: list[str]) -> int:
    """Run the questions through the real chat service with that model; count grounding interventions."""
    from storebot.chat.service import ChatService
    from storebot.chat.types import ChatRequest

    service = ChatService(
        stores=_StoresWithModel(services.stores, store_id, llm_settings),
        sessions=services.sessions,
        catalog=services.catalog,
        indexes=services.indexes,
        redis=services.redis,
        keys=services.keys,
        settings=services.settings,
    )
    count = 0
    for question in questions:
        session = f"tuning-probe-{uuid.uuid4().hex[:12]}"
        try:
            grounding = service.respond(ChatRequest(store_id, session, question)).grounding
        finally:
            service.forget(store_id, session)
        count += len(grounding.get("violations") or []) + (
            grounding.get("action") in ("repaired", "cut", "fallback", "error")
        )
    return count


def score_for(
    services: Any, store_id: str, llm_settings: dict[str, Any], prompts: list[Any], questions: list[str]
) -> Score:
    """One model's gate scores: style and format on ``prompts``, grounding on the probe ``questions``."""
    store = services.stores.get(store_id)
    spec = spec_for_store(_store_llm_settings(store.settings, llm_settings), services.settings)
    spec = dataclasses.replace(spec, temperature=0.0, max_tokens=EVAL_MAX_TOKENS)
    llm = get_llm(spec)

    def generate(messages: list[dict[str, str]]) -> str:
        return str(llm.invoke([(m["role"], m["content"]) for m in messages]).content)

    grounding = grounding_count(services, store_id, llm_settings, questions)
    return score_model(generate, prompts, services.embedder.embed_documents, grounding)


def evaluate(services: Any, store_id: str, dataset: Dataset, candidate: dict[str, Any], current: dict[str, Any]) -> Any:
    """The gate's decision between the candidate's and the current model's ``llm_*`` settings."""
    probes = load_probes(str(services.settings["TUNING_PROBES"]))
    system = f"You are the shopping assistant of {services.stores.get(store_id).name}."
    prompts = style_prompts(dataset.test[: int(services.settings["TUNING_EVAL_LIMIT"])], probes, system)
    questions = [p.question for p in probes]
    cand = score_for(services, store_id, candidate, prompts, questions)
    curr = score_for(services, store_id, current, prompts, questions)
    return decide(cand, curr, min_gain=float(services.settings["TUNING_MIN_GAIN"]))
