"""A real local LoRA fine-tune of the bundled SmolLM2 on a tiny style set, served by llama.cpp after promotion.

Slow (about two minutes on two cores): transformers reads the GGUF, peft trains a few steps, the adapter is
written as a GGUF LoRA, the gate runs the probes through the real chat service, and llama.cpp serves it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storebot.catalog.sync import SyncOptions, sync_feed
from storebot.llm.registry import get_llm, spec_for_store
from storebot.retrieval.indexer import update_index
from storebot.services import Services
from storebot.tuning.pipeline import models_for, queue_for, run_tuning, start_run
from tests.retrieval_catalog import POLICIES, PRODUCTS, REVIEWS, jsonl

STYLE = Path(__file__).resolve().parent.parent / "fixtures" / "style"
PROMPT = [("system", "You are the shopping assistant of Acme Outdoors."), ("user", "Do you sell camping stoves?")]


@pytest.mark.slow
@pytest.mark.timeout(900)  # two shared cores under other load can make it several times slower
def test_a_local_lora_lowers_validation_loss_and_changes_the_active_models_output(
    services: Services, store: tuple[str, str], tmp_path: Path
) -> None:
    store_id = store[0]
    keys = services.keys(store_id)
    for kind, records in (("products", PRODUCTS), ("reviews", REVIEWS), ("policies", POLICIES)):
        sync_feed(services.redis, keys, jsonl(records), SyncOptions(fmt="jsonl", kind=kind))
    update_index(services.redis, keys, services.index_root, services.embedder)
    imported = queue_for(services, store_id).import_jsonl((STYLE / "style.jsonl").read_bytes(), limit=2048)
    assert imported["added"] == 44 and not imported["errors"]
    probes = tmp_path / "probes.jsonl"
    probes.write_text("".join(line + "\n" for line in (STYLE / "probes.jsonl").read_text().splitlines()[:2]))
    services.settings.update(
        TUNING_EPOCHS=2,
        TUNING_BATCH_SIZE=2,
        TUNING_MAX_STEPS=3,
        TUNING_LEARNING_RATE=0.003,
        TUNING_EVAL_LIMIT=2,
        TUNING_PROBES=str(probes),
        TUNING_AUTO_PROMOTE=False,
        LLM_TEMPERATURE=0.0,
        LLM_MAX_TOKENS=40,
    )

    def active_answer() -> str:
        spec = spec_for_store(services.stores.get(store_id).settings, services.settings)
        return str(get_llm(spec).invoke(PROMPT).content)

    before = active_answer()
    run = run_tuning(services, store_id, start_run(services, store_id, backend="local"))
    assert run["state"] == "succeeded", run["message"]
    metrics = run["metrics"]
    assert metrics["best_val_loss"] < metrics["initial_val_loss"]
    assert metrics["val_losses"][0] < metrics["initial_val_loss"]
    decision = run["decision"]
    assert isinstance(decision["promote"], bool) and len(decision["reasons"]) == 2
    assert decision["candidate"]["answers"] == decision["current"]["answers"] > 0

    version = models_for(services, store_id).get(run["version"])
    assert version["status"] in ("candidate", "rejected") and version["hyperparameters"]["rank"] == 8
    adapter = Path(version["adapter"])
    import gguf

    fields = gguf.GGUFReader(str(adapter)).fields
    assert bytes(fields["general.type"].parts[-1]).decode() == "adapter"
    assert active_answer() == before  # not promoted yet: the chat still uses the base model

    models_for(services, store_id).promote(run["version"])
    after = active_answer()
    assert after != before, "the promoted adapter did not change the served model's output"
    models_for(services, store_id).rollback()
    assert active_answer() == before
    assert json.loads(json.dumps(run))["dataset"]["splits"]["train"] > 30
