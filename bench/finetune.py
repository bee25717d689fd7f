"""Benchmark: a local style fine-tune (LoRA on the bundled SmolLM2-135M) on the demo store's style set.

It loads the Northwind Trail demo store (the same store and data directory layout as ``bench/chat_eval.py``,
in ``bench/out/finetune``), imports ``fixtures/style/style.jsonl`` (44 examples of a concise, warm voice that
always offers one follow-up), and runs the real pipeline: deterministic split, LoRA training with validation
loss per epoch and early stopping, the GGUF adapter, and the evaluation gate against the base model on the
held-out prompts (the test split plus ``fixtures/style/probes.jsonl``), with the probes also run through the
chat service to count grounding violations. The adapter is promoted only if the gate passes.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/finetune.py [--epochs 3] [--max-steps 0] [--batch-size 4]
The headline figures are printed last, one per line, as ``name: value``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

STYLE = ROOT / "fixtures" / "style"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=0, help="cap on steps per epoch (0: every batch)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "finetune")
    parser.add_argument("--store", default="northwind")
    parser.add_argument("--json", type=Path, help="write the run record here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from chat_eval import open_demo_store

    from storebot.tuning.pipeline import models_for, queue_for, run_tuning, start_run

    args.data_dir.mkdir(parents=True, exist_ok=True)
    server, services = open_demo_store(args.data_dir, args.store)
    try:
        models = models_for(services, args.store)
        while models.active():  # every run starts from the base model
            models.rollback()
        queue = queue_for(services, args.store)
        imported = queue.import_jsonl((STYLE / "style.jsonl").read_bytes(), limit=2048)
        print(f"style examples: {imported['added']} new, {imported['duplicates']} already queued")
        services.settings.update(
            TUNING_EPOCHS=args.epochs,
            TUNING_MAX_STEPS=args.max_steps,
            TUNING_BATCH_SIZE=args.batch_size,
            TUNING_LEARNING_RATE=args.learning_rate,
            TUNING_THREADS=args.threads,
            TUNING_PROBES=str(STYLE / "probes.jsonl"),
            LLM_TEMPERATURE=0.0,
        )
        started = time.perf_counter()
        run = run_tuning(services, args.store, start_run(services, args.store, trigger="bench", backend="local"))
        total = time.perf_counter() - started
    finally:
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(run, indent=1, default=str))
    if run["state"] != "succeeded":
        print(f"run failed: {run['message']}")
        return 1
    metrics, decision = run["metrics"], run["decision"]
    cand, curr = decision["candidate"], decision["current"]
    print(f"splits: {run['dataset']['splits']}, train tokens {run['dataset']['tokens']['train']}")
    losses = f"{metrics['initial_val_loss']} -> {metrics['val_losses']}"
    print(f"validation loss: {losses} (best epoch {metrics['best_epoch']})")
    print("decision: " + "; ".join(decision["reasons"]))
    for sample in cand["samples"]:
        print(f"  after  | {sample['prompt'][:50]!r} -> {sample['answer'][:110]!r}")
    for sample in curr["samples"]:
        print(f"  before | {sample['prompt'][:50]!r} -> {sample['answer'][:110]!r}")
    print()
    figures = {
        "finetune_seconds_per_epoch": metrics["seconds_per_epoch"],
        "finetune_epochs_run": len(metrics["val_losses"]),
        "finetune_total_seconds": round(total, 1),
        "val_loss_before": metrics["initial_val_loss"],
        "val_loss_best": metrics["best_val_loss"],
        "heldout_prompts": cand["answers"],
        "style_score_before": curr["style"],
        "style_score_after": cand["style"],
        "format_ok_before": curr["format"],
        "format_ok_after": cand["format"],
        "grounding_violations_before": curr["grounding"],
        "grounding_violations_after": cand["grounding"],
        "promoted": decision["promote"],
    }
    for name, value in figures.items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
