"""Fine-tuning on OpenAI: upload the JSONL (files API), create the job, poll its state and events.

The result is the fine-tuned model's name (``ft:gpt-4o-mini-...``), which the
``openai`` chat backend then serves. A failed or cancelled job is an
:class:`OpenAIFineTuneFailed` carrying OpenAI's reason and the job's events.

Example:
    >>> tuner = OpenAIFineTuner(api_key="sk-...", base_model="gpt-4o-mini-2024-07-18")  # doctest: +SKIP
    >>> outcome = tuner.run(dataset.jsonl("train"), dataset.jsonl("validation"),
    ...                     {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 1.8})  # doctest: +SKIP
    >>> outcome.model                                                              # doctest: +SKIP
    'ft:gpt-4o-mini-2024-07-18:acme::9abc'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storebot.errors import StorebotError
from storebot.llm.base import LLMUnavailable

FINISHED = ("succeeded", "failed", "cancelled")
HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")
Progress = Callable[[str, float], None]


class OpenAIFineTuneFailed(StorebotError):
    """OpenAI's fine-tuning job ended ``failed`` or ``cancelled``."""

    code = "fine_tune_failed"


@dataclass
class FineTuneOutcome:
    job_id: str
    status: str
    model: str
    training_file: str
    validation_file: str
    trained_tokens: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


class OpenAIFineTuner:
    """Runs one supervised fine-tuning job on OpenAI with the real ``openai`` client.

    Example:
        >>> OpenAIFineTuner(api_key="sk-...", base_url="http://127.0.0.1:9999/v1", poll_seconds=0.01)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_model: str,
        base_url: str = "",
        poll_seconds: float = 30.0,
        timeout_seconds: float = 6 * 3600,
        suffix: str = "",
    ) -> None:
        if not api_key:
            raise LLMUnavailable(
                "No OpenAI key found for fine-tuning.",
                fix="Set OPENAI_API_KEY, or fine-tune locally with STOREBOT_TUNING_BACKEND=local.",
            )
        from openai import OpenAI

        self.client = OpenAI(api_key=api_key, base_url=base_url or None, max_retries=2)
        self.base_model, self.poll_seconds, self.timeout = base_model, poll_seconds, timeout_seconds
        self.suffix = suffix[:18]

    def upload(self, jsonl: str, name: str) -> str:
        created = self.client.files.create(file=(name, jsonl.encode()), purpose="fine-tune")
        return str(created.id)

    def run(
        self, train_jsonl: str, validation_jsonl: str, hyperparameters: dict[str, Any], progress: Progress | None = None
    ) -> FineTuneOutcome:
        """Upload, create the job, and poll until it finishes.

        Raises:
            OpenAIFineTuneFailed: the job failed or was cancelled (the message says OpenAI's reason).
            LLMUnavailable: OpenAI could not be reached or refused the request.
        """
        import openai

        try:
            training = self.upload(train_jsonl, "train.jsonl")
            validation = self.upload(validation_jsonl, "validation.jsonl") if validation_jsonl.strip() else ""
            params = {k: v for k, v in hyperparameters.items() if k in HYPERPARAMETERS and v not in (None, "")}
            extra: dict[str, Any] = {"suffix": self.suffix} if self.suffix else {}
            if validation:
                extra["validation_file"] = validation
            job = self.client.fine_tuning.jobs.create(
                model=self.base_model,
                training_file=training,
                method={"type": "supervised", "supervised": {"hyperparameters": params}},
                **extra,
            )
            if progress:
                progress(f"OpenAI job {job.id}: {job.status}", 0.1)
            deadline = time.monotonic() + self.timeout
            while job.status not in FINISHED:
                if time.monotonic() > deadline:
                    self.client.fine_tuning.jobs.cancel(job.id)
                    raise OpenAIFineTuneFailed(
                        f"OpenAI job {job.id} did not finish in {self.timeout:g} s; cancelled.",
                        fix="Run it again, or use a smaller dataset.",
                    )
                time.sleep(self.poll_seconds)
                job = self.client.fine_tuning.jobs.retrieve(job.id)
                if progress:
                    progress(f"OpenAI job {job.id}: {job.status}", 0.5 if job.status == "running" else 0.2)
            events = [_event(e) for e in self.client.fine_tuning.jobs.list_events(job.id, limit=50).data]
        except openai.APIStatusError as exc:
            raise LLMUnavailable(
                f"OpenAI refused the fine-tuning request ({exc.status_code}): {exc.message}",
                fix="Check OPENAI_API_KEY, the base model name and the account's quota.",
            ) from exc
        except openai.APIConnectionError as exc:
            raise LLMUnavailable(
                f"Could not reach OpenAI for fine-tuning: {exc}",
                fix="Check the network, or fine-tune locally with STOREBOT_TUNING_BACKEND=local.",
            ) from exc
        if job.status != "succeeded":
            error = getattr(job, "error", None)
            reason = (getattr(error, "message", None) or "") if error else ""
            raise OpenAIFineTuneFailed(
                f"OpenAI fine-tuning job {job.id} {job.status}" + (f": {reason}" if reason else "."),
                fix="See the job's events; fix the data or hyperparameters and run again."
                if job.status == "failed"
                else "It was cancelled on OpenAI's side; run it again when ready.",
                details={"job_id": job.id, "status": job.status, "events": events},
            )
        return FineTuneOutcome(
            job.id,
            job.status,
            str(job.fine_tuned_model or ""),
            training,
            validation,
            int(getattr(job, "trained_tokens", 0) or 0),
            events,
        )


def _event(event: Any) -> dict[str, Any]:
    return {
        "created_at": getattr(event, "created_at", 0),
        "level": getattr(event, "level", ""),
        "message": getattr(event, "message", ""),
    }
