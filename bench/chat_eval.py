"""Benchmark: multi-turn chat quality and latency on the Northwind Trail demo store.

Every conversation in ``fixtures/chat_eval/conversations.jsonl`` runs, turn by
turn and in one session, through ``storebot.chat.service.ChatService`` against
the demo catalog. Per turn it scores hit@3 of the product cards, follow-up
resolution (``response.focus``), grounding violations left after repair,
refusal and handoff, intent, and the timings the service reports. The rules are
in ``fixtures/chat_eval/README.md``; the scoring is the pure functions below,
unit-tested in ``tests/test_chat_eval_scoring.py``.

The store lives in ``bench/out/chat_eval`` (an embedded Redis with AOF, the
index and the embedding cache), so later runs only re-sync (a no-op diff).
A decoy tenant, "Harborlight Books", shares the Redis: no answer may mention it.

Run: .venv/bin/python bench/chat_eval.py [--backend local|fake] [--limit N] [--verbose] [--json out.json]
     .venv/bin/python bench/chat_eval.py --validate   (the fixture against the catalog; no chat service needed)
The headline figures are printed last, one per line, as ``name: value``.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures" / "chat_eval"))

from chat_eval_fixture import (  # noqa: E402
    DEMO,
    FIXTURE,
    INTENTS,
    CatalogProduct,
    Conversation,
    Turn,
    load_catalog,
    load_conversations,
    satisfies,
    validate,
)

K = 3  # cards that count for hit@3
STORE_NAME = "Northwind Trail Co."
DECOY = ("harborlight-books", "Harborlight Books")
FAKE_TEXT = "Here is what I found in our catalog."


# --- scoring: small pure functions -------------------------------------------------------------


def hit_at_k(expected: Sequence[str], shown: Sequence[str], *, require_all: bool = False, k: int = K) -> bool:
    """Whether one (or, with ``require_all``, every) expected id is among the first ``k`` shown."""
    top = set(shown[:k])
    return all(e in top for e in expected) if require_all else any(e in top for e in expected)


def expected_focus(turn: Turn, index: int, cards_by_turn: Sequence[Sequence[str]]) -> list[str] | None:
    """The ids a follow-up must resolve to; None when it points at a card that was never shown (a failure)."""
    if turn.expect_focus:
        return list(turn.expect_focus)
    ref = index - 1 if turn.cards_turn is None else turn.cards_turn - 1
    shown = cards_by_turn[ref] if 0 <= ref < len(cards_by_turn) else []
    if any(n > len(shown) for n in turn.expect_focus_from_cards):
        return None
    return [shown[n - 1] for n in turn.expect_focus_from_cards]


def focus_matches(expected: Sequence[str] | None, got: Sequence[str], *, ordered: bool) -> bool:
    """Exactly the expected products; in the same order when ``ordered`` (comparisons)."""
    if expected is None:
        return False
    got = [str(g) for g in got]
    return got == list(expected) if ordered else sorted(set(got)) == sorted(set(expected)) and len(got) == len(set(got))


def find_forbidden(text: str, patterns: Iterable[str]) -> list[str]:
    """The patterns found in ``text``: plain strings case-insensitively, ``re:...`` as regexes."""
    found = []
    for pattern in patterns:
        if pattern.startswith("re:"):
            if re.search(pattern[3:], text, re.IGNORECASE):
                found.append(pattern)
        elif pattern.lower() in text.lower():
            found.append(pattern)
    return found


def leaks_prompt(text: str, prompt: str | None, window: int = 60) -> bool:
    """Whether ``text`` repeats any ``window``-character stretch of the system prompt (case and spacing folded)."""
    if not prompt:
        return False
    text, prompt = " ".join(text.lower().split()), " ".join(prompt.lower().split())
    if len(prompt) <= window:
        return prompt in text
    return any(prompt[i : i + window] in text for i in range(len(prompt) - window + 1))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def score_turn(
    turn: Turn,
    response: Any,
    index: int,
    cards_by_turn: Sequence[Sequence[str]],
    *,
    system_prompts: Sequence[str] = (),
    catalog: dict[str, CatalogProduct] | None = None,
) -> dict[str, Any]:
    """Checks and figures of one answered turn; ``cards_by_turn`` holds the card ids of the earlier turns."""
    shown = [str(c.id) for c in response.cards]
    text = response.text or ""
    checks: dict[str, bool] = {"intent": response.intent == turn.intent}
    expected: dict[str, Any] = {"intent": turn.intent}
    if turn.expect_products:
        checks["hit_at_3"] = hit_at_k(turn.expect_products, shown, require_all=turn.expect_all)
        expected["products"] = turn.expect_products
    if turn.checks_focus:
        want = expected_focus(turn, index, cards_by_turn)
        checks["followup"] = focus_matches(want, response.focus, ordered=turn.intent == "comparison")
        expected["focus"] = want
    if turn.expect_citation_product:
        checks["citation"] = any(str(c.product_id) == turn.expect_citation_product for c in response.citations)
    if turn.expect_policy:
        checks["policy_source"] = any(s.split("#")[0] == turn.expect_policy for s in response.policy_sources)
    forbidden = find_forbidden(text, [*turn.forbid_in_answer, DECOY[1]])
    leaked = any(leaks_prompt(text, prompt) for prompt in system_prompts)
    if turn.expect_refusal:
        checks["refusal_handoff"] = response.intent == "off_topic" and not forbidden and not leaked
    elif turn.expect_handoff:
        checks["refusal_handoff"] = bool(response.handoff)
    checks["no_forbidden_text"] = not forbidden and not leaked
    if turn.constraints and catalog is not None and shown:
        top = [catalog.get(pid) for pid in shown[:K]]
        checks["cards_meet_constraints"] = all(p is not None and satisfies(p, turn.constraints) for p in top)
    violations = list((response.grounding or {}).get("violations") or [])
    timings = response.timings or {}
    return {
        "checks": checks, "expected": expected, "violations": len(violations),
        "got": {"intent": response.intent, "cards": shown, "focus": list(response.focus),
                "handoff": bool(response.handoff), "policy_sources": list(response.policy_sources),
                "citations": sorted({str(c.product_id) for c in response.citations}), "text": text[:300],
                "violations": [str(v)[:200] for v in violations], "forbidden": forbidden, "leaked_prompt": leaked},
        "timings": {k: timings.get(k) for k in ("overhead_ms", "first_token_ms", "llm_ms", "total_ms")},
    }  # fmt: skip


def rate(results: Sequence[dict[str, Any]], check: str) -> float | None:
    """The share of turns that passed ``check``, over the turns it applies to."""
    scored = [r["checks"][check] for r in results if check in r["checks"]]
    return sum(scored) / len(scored) if scored else None


def summarize(results: Sequence[dict[str, Any]], conversations: int) -> dict[str, Any]:
    """The headline figures, in print order."""

    def timing(name: str) -> list[float]:
        return [float(t) for r in results if (t := r["timings"].get(name)) is not None]

    totals = [float(r["timings"].get("total_ms") or r["wall_ms"]) for r in results if "wall_ms" in r]
    return {
        "conversations": conversations, "turns": len(results),
        "hit_at_3": rate(results, "hit_at_3"), "followup_resolution": rate(results, "followup"),
        "grounding_violations": sum(r["violations"] for r in results),
        "refusal_handoff_accuracy": rate(results, "refusal_handoff"), "intent_accuracy": rate(results, "intent"),
        "overhead_p50_ms": percentile(timing("overhead_ms"), 50),
        "overhead_p95_ms": percentile(timing("overhead_ms"), 95),
        "first_token_p50_ms": percentile(timing("first_token_ms"), 50),
        "first_token_p95_ms": percentile(timing("first_token_ms"), 95),
        "turn_total_p50_ms": percentile(totals, 50),
    }  # fmt: skip


def fmt(name: str, value: Any) -> str:
    """A figure as printed: rates to 4 places, milliseconds to 1, counts as they are; n/a when unmeasured."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.1f}" if name.endswith("_ms") else f"{value:.4f}"
    return str(value)


# --- running the conversations ------------------------------------------------------------------


def open_demo_store(data_dir: Path, store_id: str) -> tuple[Any, Any]:
    """Start the private Redis, sync the demo feeds (a no-op diff when unchanged) and update the index."""
    from storebot.app import create_app
    from storebot.catalog.sync import SyncOptions, sync_feed
    from storebot.embedded_redis import EmbeddedRedis
    from storebot.retrieval.indexer import update_index

    server = EmbeddedRedis(data_dir / "redis")
    url = server.start()
    services = create_app({"REDIS_URL": url, "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}).extensions["storebot"]
    for sid, name in ((store_id, STORE_NAME), DECOY):
        if not services.stores.exists(sid):
            services.stores.create(name, store_id=sid)
    keys = services.keys(store_id)
    for name, fmt_, kind in (("products.json", "shopify", "products"), ("reviews.csv", "csv", "reviews"),
                             ("policies.json", "json", "policies")):  # fmt: skip
        with (DEMO / name).open("rb") as feed:
            sync_feed(services.redis, keys, feed, SyncOptions(fmt=fmt_, kind=kind))
    decoy = json.dumps({"id": "H1", "title": "Harborlight Books Reading Lantern", "price": "19.00", "currency": "USD"})
    sync_feed(services.redis, services.keys(DECOY[0]), io.BytesIO(decoy.encode()), SyncOptions(fmt="jsonl"))
    started = time.perf_counter()
    update = update_index(services.redis, keys, services.index_root, services.embedder)
    print(f"index v{update.version} ({'updated' if update.published else 'unchanged'}, "
          f"{update.embedded} embedded) in {time.perf_counter() - started:.1f}s")  # fmt: skip
    return server, services


def fake_chat_model() -> Any:
    """A LangChain chat model that always answers ``FAKE_TEXT``: the pipeline without the LLM's cost."""
    import itertools

    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    return GenericFakeChatModel(messages=itertools.repeat(AIMessage(content=FAKE_TEXT)))


def system_prompts(store_name: str) -> list[str]:
    """The chat's system prompts as the store sees them, one per intent, for the leak check (best effort)."""
    try:
        from storebot.chat import prompts
    except ImportError:
        return []
    build = getattr(prompts, "system_prompt", None)
    if callable(build):
        return [build(store_name, intent) for intent in INTENTS]
    value = getattr(prompts, "SYSTEM_PROMPT", None) or getattr(prompts, "SYSTEM", None)
    return [value] if isinstance(value, str) else []


def warm_up(service: Any, store_id: str) -> None:
    """Unscored turns that load the lazy objects (embedding model, index, LLM), so that timings are warm."""
    from storebot.chat.types import ChatRequest

    session = f"chat-eval-warmup-{uuid.uuid4().hex[:8]}"
    for message in ("hello", "a rain jacket", "is it waterproof?"):
        try:
            service.respond(ChatRequest(store_id, session, message))
        except Exception as exc:  # noqa: BLE001 - the scored turns will show the failure
            print(f"warm-up turn {message!r} failed: {type(exc).__name__}: {exc}")
            return


def run(conversations: Sequence[Conversation], service: Any, store_id: str, catalog: dict[str, CatalogProduct],
        prompts: Sequence[str]) -> list[dict[str, Any]]:  # fmt: skip
    from storebot.chat.types import ChatRequest, ChatResponse

    results = []
    run_id = uuid.uuid4().hex[:8]
    for conv in conversations:
        cards_by_turn: list[list[str]] = []
        for i, turn in enumerate(conv.turns):
            request = ChatRequest(store_id, f"chat-eval-{run_id}-{conv.id}", turn.user, dict(turn.page_context))
            started, error = time.perf_counter(), ""
            try:
                response = service.respond(request)
            except Exception as exc:  # noqa: BLE001 - one broken turn must not end the benchmark
                error = f"{type(exc).__name__}: {exc}"
                response = ChatResponse(session_id=request.session_id, text="", intent="error")
            wall_ms = (time.perf_counter() - started) * 1000
            scored = score_turn(turn, response, i, cards_by_turn, system_prompts=prompts, catalog=catalog)
            scored.update(conversation=conv.id, turn=i + 1, user=turn.user, tags=conv.tags, wall_ms=wall_ms,
                          error=error)  # fmt: skip
            if error:
                scored["checks"] = {k: False for k in scored["checks"]}
            cards_by_turn.append(scored["got"]["cards"])
            results.append(scored)
            print(f"{conv.id}.{i + 1} {'ok  ' if all(scored['checks'].values()) else 'FAIL'} {wall_ms:7.0f} ms "
                  f"{turn.user[:70]}", flush=True)  # fmt: skip
    return results


def report(results: Sequence[dict[str, Any]], verbose: bool) -> dict[str, Any]:
    checks = ("citation", "policy_source", "cards_meet_constraints", "no_forbidden_text")
    secondary: dict[str, Any] = {check: rate(results, check) for check in checks}
    secondary["turns_with_violations"] = sum(1 for r in results if r["violations"])
    secondary["errors"] = sum(1 for r in results if r["error"])
    secondary["false_handoffs"] = sum(
        1 for r in results if r["got"]["handoff"] and "refusal_handoff" not in r["checks"]
    )
    secondary["llm_p50_ms"] = percentile(
        [r["timings"]["llm_ms"] for r in results if r["timings"]["llm_ms"] is not None], 50
    )
    by_tag: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        for tag in r["tags"]:
            by_tag.setdefault(tag, []).append(r)
    print(f"\n{'tag':18s} {'turns':>5s} {'hit@3':>6s} {'follow':>6s} {'intent':>6s} {'all ok':>6s}")
    for tag, rows in sorted(by_tag.items()):
        all_ok = sum(all(r["checks"].values()) for r in rows) / len(rows)
        rates = " ".join(f"{fmt('', rate(rows, check)):>6.6s}" for check in ("hit_at_3", "followup", "intent"))
        print(f"{tag:18s} {len(rows):5d} {rates} {all_ok:6.3f}")
    if verbose:
        print("\nfailures:")
        for r in results:
            failed = [k for k, ok in r["checks"].items() if not ok]
            if failed or r["violations"] or r["error"]:
                print(f"- {r['conversation']}.{r['turn']} {r['user']!r} failed {failed} {r['error']}\n"
                      f"    expected {json.dumps(r['expected'])}\n    got      {json.dumps(r['got'])}")  # fmt: skip
    print()
    for name, value in secondary.items():
        print(f"{name}: {fmt(name, value)}")
    return secondary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--backend",
        choices=("local", "fake"),
        default="local",
        help="local: the store's configured LLM; fake: a fixed answer, to time the pipeline alone",
    )
    parser.add_argument("--limit", type=int, default=0, help="run only the first N conversations")
    parser.add_argument("--verbose", action="store_true", help="print each failed check with expected vs got")
    parser.add_argument("--json", type=Path, help="write per-turn results and the figures here")
    parser.add_argument("--validate", action="store_true", help="check the fixture against the catalog and exit")
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "chat_eval")
    parser.add_argument("--store", default="northwind")
    args = parser.parse_args(argv)

    conversations = load_conversations(args.fixture)
    catalog, reviews = load_catalog()
    errors = validate(conversations, catalog, reviews)
    if args.validate or errors:
        turns = [t for c in conversations for t in c.turns]
        print(f"intents: {dict(Counter(t.intent for t in turns).most_common())}")
        print(f"tags: {dict(Counter(tag for c in conversations for tag in c.tags).most_common())}")
        print("\n".join(f"error: {e}" for e in errors) or "fixture ok")
        print(f"conversations: {len(conversations)}\nturns: {len(turns)}\nerrors: {len(errors)}")
        return 1 if errors else 0
    if args.limit:
        conversations = conversations[: args.limit]

    args.data_dir.mkdir(parents=True, exist_ok=True)
    server, services = open_demo_store(args.data_dir, args.store)
    try:
        from storebot.chat.service import ChatService

        llm = fake_chat_model() if args.backend == "fake" else None
        service = ChatService.from_services(services, llm=llm) if llm else ChatService.from_services(services)
        warm_up(service, args.store)
        results = run(conversations, service, args.store, catalog, system_prompts(STORE_NAME))
    finally:
        server.stop()
    secondary = report(results, args.verbose)
    headline = summarize(results, len(conversations))
    if args.json:
        args.json.write_text(json.dumps({"backend": args.backend, "headline": headline, "secondary": secondary,
                                         "turns": results}, indent=1, default=str))  # fmt: skip
    print()
    for name, value in headline.items():
        print(f"{name}: {fmt(name, value)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
